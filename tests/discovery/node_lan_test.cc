// Real shopsyncd processes on a real (virtual) LAN, with no --peer at all:
// one node per network namespace, joined by a bridge
// (tools/netlab/namespace_lan.h), each with its own host name. They find each
// other by DNS-SD over mDNS, connect over CURVE, and sync; a host whose cable
// is pulled is seen to go and, plugged back, catches up. The test talks to
// each node through its local API on a Unix socket (reachable from outside the
// namespace) and runs `shopsync doctor` as an operator would.
//
// Timings are logged (BOOST_TEST_MESSAGE, visible with ctest -V), never
// asserted; the waits are generous upper bounds.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <optional>

#include "api/api_client.h"
#include "net/public_key_text.h"
#include "node/bulk_seed.h"
#include "node/wire_codec.h"
#include "tests/discovery/probe_harness.h"
#include "tests/node/support/node_process.h"

using namespace shopsync;
using namespace shopsync::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr auto kWait = 30s;
constexpr int kRecordTtlSeconds = 4;  // a host that vanishes without a goodbye is forgotten this fast

using Clock = std::chrono::steady_clock;

long ms_since(Clock::time_point t) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
}

// One shopsyncd inside one host of the LAN.
struct LanNode {
  int host = 0;
  std::string name;
  std::string cluster = "lan";
  std::filesystem::path data;
  std::string key;        // its CURVE public key
  std::string api;        // ipc://... (a Unix socket: reachable from the root namespace)
  NodeId id = 0;
  Clock::time_point started;
  std::unique_ptr<ChildProcess> process;
  std::optional<api::ApiClient> client;

  std::string transcript() const { return process ? process->transcript() : std::string("(not started)"); }
};

class Lan {
 public:
  explicit Lan(int hosts, NamespaceLan::Addressing addressing = NamespaceLan::Addressing::ipv4_and_ipv6)
      : net_(hosts, addressing) {}

  LanNode& add(int host, const std::string& name) {
    auto n = std::make_unique<LanNode>();
    n->host = host;
    n->name = name;
    n->data = dir_ / name;
    n->api = "ipc://" + (dir_ / (name + ".api")).string();
    n->key = node_public_key(n->data);
    nodes_.push_back(std::move(n));
    return *nodes_.back();
  }

  // Starts the node in its host, trusting `trusted` (no --peer), and waits
  // until its API answers.
  void start(LanNode& n, const std::vector<const LanNode*>& trusted, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = net_.exec_as_host(n.host);
    std::vector<std::string> args = {SHOPSYNCD_PATH,   "--data",  n.data.string(), "--name",
                                     n.name,           "--cluster", n.cluster,      "--api",
                                     n.api,            "--mdns-ttl", std::to_string(kRecordTtlSeconds),
                                     "--heartbeat-ms", "300",     "--peer-timeout-ms", "2000"};
    for (const LanNode* t : trusted) args.insert(args.end(), {"--trust", t->key});
    argv.insert(argv.end(), args.begin(), args.end());
    argv.insert(argv.end(), extra.begin(), extra.end());
    n.started = Clock::now();
    n.process = std::make_unique<ChildProcess>(argv, dir_ / (n.name + ".log"));
    BOOST_REQUIRE_MESSAGE(n.process->started(), "cannot start " << SHOPSYNCD_PATH);
    auto client = api::ApiClient::connect(n.api, {std::chrono::milliseconds(2000)});
    BOOST_REQUIRE(client.is_ok());
    n.client.emplace(std::move(*client));
    std::optional<api::NodeStatus> status;
    wait_until([&] {
      auto s = n.client->status();
      if (s) status = *s;
      return status.has_value() || !n.process->running();
    }, kWait);
    BOOST_REQUIRE_MESSAGE(status, n.name << " did not start:\n" << n.transcript());
    n.id = status->node_id;
  }

  NamespaceLan& net() { return net_; }
  const TempDir& dir() const { return dir_; }
  std::string transcripts() const {
    std::string out;
    for (const auto& n : nodes_) out += "=== " + n->name + "\n" + n->transcript();
    return out;
  }

 private:
  TempDir dir_{"shopsync-lan"};
  NamespaceLan net_;
  std::vector<std::unique_ptr<LanNode>> nodes_;
};

std::string state_of(LanNode& n, const LanNode& peer) {
  auto peers = n.client->peers();
  if (!peers) return "?";
  for (const auto& p : peers->peers) {
    if (p.node_id == peer.id) return p.state;
  }
  return "unknown";
}

bool connected(LanNode& n, const LanNode& peer) { return state_of(n, peer) == "connected"; }

void put(LanNode& n, const std::string& id, const std::string& name) {
  api::PutRequest r;
  r.key = {"customers", id};
  r.fields["name"] = packed_string(name);
  auto w = n.client->put(r);
  BOOST_REQUIRE_MESSAGE(w.is_ok(), w.status().to_string());
}

bool has(LanNode& n, const std::string& id, const std::string& name) {
  auto r = n.client->get({"customers", id});
  return r && r->fields.count("name") && r->fields.at("name") == packed_string(name);
}

struct Doctor {
  int exit_code = -1;
  json report;
};

// `shopsync --json doctor` against the node, as an operator runs it.
Doctor doctor(const LanNode& n) {
  auto r = run_command({SHOPSYNC_CLI, "--api", n.api, "--json", "doctor"});
  Doctor d;
  d.exit_code = r.exit_code;
  d.report = json::parse(r.output, nullptr, false);
  BOOST_REQUIRE_MESSAGE(d.report.is_object(), "doctor printed no JSON: " << r.output);
  return d;
}

// The doctor's entry for `peer`, or null.
json seen(const Doctor& d, const LanNode& peer) {
  for (const auto& p : d.report["peers"]) {
    if (p.value("name", "") == peer.name) return p;
  }
  return nullptr;
}

// The state the doctor gives `peer` ("" when it is not among the peers seen).
std::string state_seen(const Doctor& d, const LanNode& peer) {
  json p = seen(d, peer);
  return p.is_object() ? p.value("state", "") : std::string();
}

#define REQUIRE_OR_DUMP(cond, lan)                                      \
  do {                                                                  \
    if (!(cond)) BOOST_FAIL(#cond << " failed\n" << (lan).transcripts()); \
  } while (false)

}  // namespace

BOOST_FIXTURE_TEST_SUITE(node_lan, NamespacesRequired)

// Host 3 announces the default TTL of 120 s: the others forget it after its
// cable is pulled because their reconfirm queries (RFC 6762 10.4) go
// unanswered, not because its records expire.
BOOST_AUTO_TEST_CASE(three_nodes_without_peers_discover_sync_lose_a_cut_host_and_catch_it_up) {
  Lan lan(3);
  LanNode& a = lan.add(1, "shop1");
  LanNode& b = lan.add(2, "shop2");
  LanNode& c = lan.add(3, "shop3");
  std::vector<LanNode*> all = {&a, &b, &c};
  for (LanNode* n : all) {
    std::vector<const LanNode*> others;
    for (LanNode* o : all) {
      if (o != n) others.push_back(o);
    }
    lan.start(*n, others, n == &c ? std::vector<std::string>{"--mdns-ttl", "120"} : std::vector<std::string>{});
  }

  // Discovered and connected, each to both others.
  for (LanNode* n : all) {
    for (LanNode* o : all) {
      if (o == n) continue;
      REQUIRE_OR_DUMP(wait_until([&] { return connected(*n, *o); }, kWait), lan);
    }
    BOOST_TEST_MESSAGE(n->name << ": connected to both discovered peers " << ms_since(n->started)
                               << " ms after its start (upper bound: polled after the others started)");
  }

  // A write on one reaches all.
  put(a, "CUST_LAN_1", "Timber & Co");
  for (LanNode* n : {&b, &c}) REQUIRE_OR_DUMP(wait_until([&] { return has(*n, "CUST_LAN_1", "Timber & Co"); }, kWait), lan);

  // The doctor finds nothing wrong and shows both peers, on eth0, connected.
  Doctor d;
  REQUIRE_OR_DUMP(wait_until([&] {
    d = doctor(a);
    return state_seen(d, b) == "connected" && state_seen(d, c) == "connected";
  }, kWait), lan);
  BOOST_TEST(d.exit_code == 0, d.report.dump(2));
  BOOST_TEST(d.report["host_name"] == "host1.local");
  BOOST_TEST(d.report["enabled"] == true);
  BOOST_TEST(d.report["state"] == "announced");
  BOOST_REQUIRE(d.report["interfaces"].size() == 1u);
  BOOST_TEST(d.report["interfaces"][0]["name"] == "eth0");
  BOOST_TEST(d.report["interfaces"][0]["joined_ipv4"] == true);
  BOOST_TEST(d.report["interfaces"][0]["answers_received"].get<long>() > 0);  // multicast arrives
  BOOST_TEST(d.report["interfaces"][0]["kernel_ipv6_multicast_sent"].get<long>() > 0);  // and goes out
  for (LanNode* o : {&b, &c}) {
    json p = seen(d, *o);
    BOOST_REQUIRE_MESSAGE(!p.is_null(), d.report.dump(2));
    BOOST_TEST(p["state"] == "connected");
    BOOST_TEST(p["address"] == lan.net().address(o->host) + ":7460");
    BOOST_TEST(p["public_key"] == format_public_key(o->key));
    BOOST_TEST(p["family"] == "ipv4");
  }

  // Pull host 3's cable: the others lose the session, ask the LAN for its
  // records again, hear nothing and forget it on mDNS within the reconfirm
  // window (its records would stay 120 s); the doctor says why. It keeps
  // taking writes on its own.
  const auto cut_at = Clock::now();
  lan.net().cut(3);
  for (LanNode* n : {&a, &b}) {
    REQUIRE_OR_DUMP(wait_until([&] { return !connected(*n, c) && seen(doctor(*n), c).is_null(); }, kWait), lan);
    BOOST_TEST(connected(*n, *(n == &a ? &b : &a)));  // the others stay together
    const Doctor after = doctor(*n);
    BOOST_REQUIRE_MESSAGE(after.report.value("reconfirmed", nlohmann::json::array()).size() == 1u, after.report.dump(2));
    BOOST_TEST(after.report.at("reconfirmed").at(0).at("name") == c.name);
    BOOST_TEST(after.report.at("reconfirmed").at(0).at("state") == "forgotten");
    BOOST_TEST(after.report.at("reconfirmed").at(0).at("queries").get<int>() >= 1);
    bool told = false;
    for (const auto& line : after.report.at("advice")) {
      told = told || line.get<std::string>().find("'shop3' (" + node_id_text(c.id) + "): link lost without goodbye; "
                                                  "mDNS reconfirm sent, no answer after 10 s: it looks switched off") !=
                         std::string::npos;
    }
    BOOST_TEST(told, after.report.at("advice").dump(2));
    BOOST_TEST(after.exit_code != 0);  // something to look at
  }
  BOOST_TEST_MESSAGE("cut host 3: both others had forgotten it after " << ms_since(cut_at)
                                                                       << " ms (its record TTL: 120 s)");
  REQUIRE_OR_DUMP(wait_until([&] { return doctor(c).report["peers"].empty(); }, kWait), lan);
  put(a, "CUST_LAN_2", "written while shop3 was cut off");
  put(c, "CUST_LAN_3", "written on shop3 alone");
  REQUIRE_OR_DUMP(wait_until([&] { return has(b, "CUST_LAN_2", "written while shop3 was cut off"); }, kWait), lan);
  BOOST_TEST(!has(c, "CUST_LAN_2", "written while shop3 was cut off"));

  // Plug it back: found again, connected again, and both sides catch up.
  const auto restored_at = Clock::now();
  lan.net().restore(3);
  for (LanNode* n : {&a, &b}) {
    REQUIRE_OR_DUMP(wait_until([&] { return connected(*n, c) && connected(c, *n); }, kWait), lan);
    // Its records, unchanged and still cached, were not reported again:
    // the reconfirm queries that go on after forgetting find it.
    REQUIRE_OR_DUMP(wait_until([&] { return state_seen(doctor(*n), c) == "connected"; }, kWait), lan);
  }
  BOOST_TEST_MESSAGE("restored host 3: connected to both again after " << ms_since(restored_at) << " ms");
  REQUIRE_OR_DUMP(wait_until([&] { return has(c, "CUST_LAN_2", "written while shop3 was cut off"); }, kWait), lan);
  for (LanNode* n : {&a, &b}) {
    REQUIRE_OR_DUMP(wait_until([&] { return has(*n, "CUST_LAN_3", "written on shop3 alone"); }, kWait), lan);
  }
  BOOST_TEST_MESSAGE("restored host 3: caught up both ways " << ms_since(restored_at) << " ms after the cable");

  for (LanNode* n : all) BOOST_TEST(n->process->terminate() == 0, n->transcript());
}

// What a standard DNS-SD browser (Debian's python3-zeroconf) shows of a
// running shopsyncd, and that a clean stop removes it at once (goodbye), long
// before its records would expire.
BOOST_AUTO_TEST_CASE(python_zeroconf_sees_a_running_node_with_its_txt_and_its_goodbye) {
  Lan lan(2);
  auto browser = start_zeroconf(lan.net(), 2, {"browse", "--ip", lan.net().address(2), "--seconds", "60"}, lan.dir(),
                                "zeroconf-browser");
  REQUIRE_OR_DUMP(browser->wait_for([](const std::vector<json>& l) { return first_time(l, "browsing").has_value(); }, kWait),
                  lan);
  LanNode& a = lan.add(1, "Timber Yard Till 1");
  lan.start(a, {}, {"--mdns-ttl", "120"});
  const std::string instance = a.name + "._shopsync._tcp.local.";
  auto added = [&](const std::vector<json>& lines) {
    for (const auto& l : lines) {
      if (str(l, "name") == instance && str(l, "event") == "added") return true;
    }
    return false;
  };
  REQUIRE_OR_DUMP(browser->wait_for(added, kWait), lan);
  json seen_by_zeroconf;
  for (const auto& l : browser->lines()) {
    if (str(l, "name") == instance && str(l, "event") == "added") seen_by_zeroconf = l;
  }
  BOOST_TEST(seen_by_zeroconf["port"] == 7460);
  BOOST_TEST(seen_by_zeroconf["server"] == "host1.local.");
  BOOST_TEST(seen_by_zeroconf["addresses"].dump().find(lan.net().address(1)) != std::string::npos,
             seen_by_zeroconf.dump());
  const std::vector<std::string> txt = {"txtvers=1", "proto=" + std::to_string(wire::kProtocolMax), "cluster=lan", "node=" + node_id_text(a.id),
                                        "key=" + a.key, "role=peer"};
  BOOST_TEST(seen_by_zeroconf["txt"].get<std::vector<std::string>>() == txt, boost::test_tools::per_element());

  const auto stop_at = Clock::now();
  BOOST_TEST(a.process->terminate() == 0, a.transcript());
  auto removed = [&](const std::vector<json>& lines) {
    for (const auto& l : lines) {
      if (str(l, "name") == instance && str(l, "event") == "removed") return true;
    }
    return false;
  };
  REQUIRE_OR_DUMP(browser->wait_for(removed, 20s), lan);  // the records' TTL is 120 s: only a goodbye does this
  BOOST_TEST_MESSAGE("python3-zeroconf saw shopsyncd's goodbye " << ms_since(stop_at) << " ms after SIGTERM");
}

BOOST_AUTO_TEST_CASE(doctor_names_an_untrusted_peer_and_another_cluster_and_trusting_connects) {
  Lan lan(3);
  LanNode& a = lan.add(1, "office");
  LanNode& b = lan.add(2, "till-2");
  LanNode& other = lan.add(3, "intruder");
  other.cluster = "other-business";
  lan.start(a, {});      // trusts nobody yet
  lan.start(b, {&a});
  lan.start(other, {&a});

  Doctor d;
  const bool diagnosed = wait_until([&] {
    d = doctor(a);
    bool other_cluster = false;
    for (const auto& r : d.report["refused"]) {
      other_cluster = other_cluster || (r["name"] == "intruder" && r["reason"] == "other_cluster");
    }
    return state_seen(d, b) == "untrusted" && other_cluster;
  }, kWait);
  REQUIRE_OR_DUMP(diagnosed, lan);
  BOOST_TEST(d.exit_code == 8);
  std::string advice;
  for (const auto& line : d.report["advice"]) advice += line.get<std::string>() + "\n";
  BOOST_TEST(advice.find("shopsync trust add " + format_public_key(b.key)) != std::string::npos, advice);
  BOOST_TEST(advice.find("another cluster") != std::string::npos, advice);
  BOOST_TEST(seen(d, other).is_null());  // another cluster is never a peer
  BOOST_TEST(!connected(a, b));
  // From till-2's side the office is trusted but does not answer: till-2 waits
  // to be dialed (the office has the smaller id) or its dials are refused.
  Doctor from_b;
  REQUIRE_OR_DUMP(wait_until([&] {
    from_b = doctor(b);
    const std::string state = state_seen(from_b, a);
    return state == "waiting" || (state == "unreachable" && seen(from_b, a)["detail"].get<std::string>().find(
                                                                 "does not trust this one") != std::string::npos);
  }, kWait), lan);
  BOOST_TEST_MESSAGE("till-2 sees the office as " << state_seen(from_b, a));

  // The operator follows the advice, key as printed; no restart needed.
  auto trusted = run_command({SHOPSYNC_CLI, "--api", a.api, "trust", "add", format_public_key(b.key), "--name", "till 2"});
  BOOST_REQUIRE_MESSAGE(trusted.exit_code == 0, trusted.output);
  const auto trusted_at = Clock::now();
  REQUIRE_OR_DUMP(wait_until([&] { return connected(a, b) && connected(b, a); }, kWait), lan);
  BOOST_TEST_MESSAGE("trust add: connected " << ms_since(trusted_at) << " ms later");
  BOOST_TEST(wait_until([&] { return state_seen(doctor(a), b) == "connected"; }, kWait));
  put(b, "CUST_TRUST", "now in sync");
  REQUIRE_OR_DUMP(wait_until([&] { return has(a, "CUST_TRUST", "now in sync"); }, kWait), lan);
}

// `shopsync trust rm` on a peer found by mDNS: the session ends, it is no
// longer dialed whichever node had the smaller id, nothing crosses either way,
// and a restart with the same --trust flag keeps it revoked.
BOOST_AUTO_TEST_CASE(a_revoked_discovered_peer_stays_cut_off_also_after_a_restart) {
  Lan lan(2);
  LanNode& a = lan.add(1, "shop1");
  LanNode& b = lan.add(2, "shop2");
  lan.start(a, {&b});
  lan.start(b, {&a});
  REQUIRE_OR_DUMP(wait_until([&] { return connected(a, b) && connected(b, a); }, kWait), lan);
  put(a, "CUST_BEFORE", "synced");
  REQUIRE_OR_DUMP(wait_until([&] { return has(b, "CUST_BEFORE", "synced"); }, kWait), lan);

  auto expect_cut_off = [&](const std::string& tag) {
    put(a, "CUST_A_" + tag, "stays on shop1");
    put(b, "CUST_B_" + tag, "stays on shop2");
    // Several redials of either side (at most 1 s apart here) fit in this wait.
    const bool crossed = wait_until([&] {
      return has(b, "CUST_A_" + tag, "stays on shop1") || has(a, "CUST_B_" + tag, "stays on shop2");
    }, 5s);
    BOOST_TEST(!crossed, tag << ": a write crossed\n" << lan.transcripts());
    BOOST_TEST(state_of(a, b) == "untrusted");
    BOOST_TEST(state_seen(doctor(a), b) == "untrusted");
  };

  BOOST_REQUIRE(a.client->distrust(b.key).is_ok());
  REQUIRE_OR_DUMP(wait_until([&] { return !connected(b, a); }, kWait), lan);
  expect_cut_off("REVOKED");

  BOOST_TEST(a.process->terminate() == 0, a.transcript());
  lan.start(a, {&b});  // still --trust b's key
  expect_cut_off("RESTARTED");
  BOOST_TEST(a.transcript().find("was revoked (shopsync trust rm) and stays untrusted") != std::string::npos,
             a.transcript());
}

// Alone on its LAN a node hears no other node's mDNS answer, exactly as where
// multicast is blocked: once it has listened a while the doctor says so and
// suggests static peers (its own answers must not count as heard).
BOOST_AUTO_TEST_CASE(a_node_that_hears_no_other_is_told_to_use_static_peers) {
  Lan lan(1);
  LanNode& a = lan.add(1, "lonely-till");
  lan.start(a, {});
  Doctor d;
  REQUIRE_OR_DUMP(wait_until([&] { return (d = doctor(a)).report["uptime_ms"].get<long>() >= 5500; }, kWait), lan);
  BOOST_TEST(d.exit_code == 8);
  BOOST_REQUIRE(d.report["interfaces"].size() == 1u);
  BOOST_TEST(d.report["interfaces"][0]["joined_ipv4"] == true);
  BOOST_TEST(d.report["interfaces"][0]["answers_received"] == 0);
  BOOST_REQUIRE(d.report["advice"].size() == 1u);
  const std::string advice = d.report["advice"][0];
  BOOST_TEST(advice.find("multicast is blocked") != std::string::npos, advice);
  BOOST_TEST(advice.find("--peer KEY@HOST:7460") != std::string::npos, advice);
}

// Issue #13, bug 4: a host whose firewall drops inbound mDNS still announces
// its node; the node that hears it dials it, whatever their ids. Before, only
// the smaller id dialed: with the deaf node the smaller, nobody did, and the
// doctor of the other said "no problem found".
BOOST_AUTO_TEST_CASE(a_node_that_cannot_hear_mdns_is_dialed_by_the_one_that_hears_it) {
  Lan lan(2);
  LanNode& one = lan.add(1, "shop1");
  LanNode& two = lan.add(2, "shop2");
  SeedOptions ids;  // no records: the data directories get their node ids now
  ids.cluster = one.cluster;
  auto id_one = seed_records(one.data, ids);
  auto id_two = seed_records(two.data, ids);
  BOOST_REQUIRE(id_one.is_ok() && id_two.is_ok());
  LanNode& deaf = *id_one < *id_two ? one : two;  // the one the old rule had dial
  LanNode& hearing = *id_one < *id_two ? two : one;
  lan.net().deafen(deaf.host);
  lan.start(hearing, {&deaf});
  lan.start(deaf, {&hearing});  // announces itself to a node already listening
  REQUIRE_OR_DUMP(wait_until([&] { return connected(hearing, deaf) && connected(deaf, hearing); }, kWait), lan);
  put(hearing, "CUST_DEAF", "reached");
  REQUIRE_OR_DUMP(wait_until([&] { return has(deaf, "CUST_DEAF", "reached"); }, kWait), lan);
  const Doctor d = doctor(hearing);
  BOOST_TEST(state_seen(d, deaf) == "connected", d.report.dump(2));
  BOOST_TEST(d.exit_code == 0, d.report.dump(2));
  for (LanNode* n : {&hearing, &deaf}) BOOST_TEST(n->process->terminate() == 0, n->transcript());
}

// Nobody's link goes down, so nobody announces again when the fault clears:
// the node that dials keeps trying the peer's last address after mDNS forgot
// it, which `peers` shows. (Right after a start avahi's own periodic queries
// are still frequent and would find the peer too; hours later only the
// redial does.)
BOOST_AUTO_TEST_CASE(a_partition_that_heals_without_a_link_change_reconnects_and_catches_up) {
  Lan lan(2);
  LanNode& a = lan.add(1, "shop1");
  LanNode& b = lan.add(2, "shop2");
  lan.start(a, {&b});
  lan.start(b, {&a});
  REQUIRE_OR_DUMP(wait_until([&] { return connected(a, b) && connected(b, a); }, kWait), lan);

  lan.net().partition(2);
  for (LanNode* n : {&a, &b}) {
    const LanNode& peer = n == &a ? b : a;
    REQUIRE_OR_DUMP(wait_until([&] { return !connected(*n, peer) && state_seen(doctor(*n), peer).empty(); }, kWait), lan);
  }
  // Each node keeps trying the last address it had, though mDNS no longer
  // lists the peer (the smaller id is looked at).
  LanNode& dialer = a.id < b.id ? a : b;
  const LanNode& dialed = a.id < b.id ? b : a;
  const std::string tried = state_of(dialer, dialed);
  BOOST_TEST((tried == "connecting" || tried == "backoff"), dialer.name << " shows " << dialed.name << " as " << tried);
  put(a, "CUST_SPLIT_A", "written on shop1 during the partition");
  put(b, "CUST_SPLIT_B", "written on shop2 during the partition");

  const auto healed_at = Clock::now();
  lan.net().heal(2);
  // The backoff is at most 30 s (+25 % jitter): allow for it.
  REQUIRE_OR_DUMP(wait_until([&] { return connected(a, b) && connected(b, a); }, 60s), lan);
  BOOST_TEST_MESSAGE("silent partition healed: reconnected after " << ms_since(healed_at) << " ms");
  REQUIRE_OR_DUMP(wait_until([&] {
    return has(a, "CUST_SPLIT_B", "written on shop2 during the partition") &&
           has(b, "CUST_SPLIT_A", "written on shop1 during the partition");
  }, kWait), lan);
}

BOOST_AUTO_TEST_CASE(on_an_ipv6_only_lan_nodes_connect_over_link_local_addresses) {
  Lan lan(2, NamespaceLan::Addressing::ipv6_only);
  LanNode& a = lan.add(1, "v6-one");
  LanNode& b = lan.add(2, "v6-two");
  lan.start(a, {&b});
  lan.start(b, {&a});
  REQUIRE_OR_DUMP(wait_until([&] { return connected(a, b) && connected(b, a); }, kWait), lan);
  BOOST_TEST_MESSAGE("IPv6 only: connected " << ms_since(a.started) << " ms after the first start");
  for (LanNode* n : {&a, &b}) {
    const LanNode& peer = n == &a ? b : a;
    Doctor d;
    REQUIRE_OR_DUMP(wait_until([&] { return state_seen(d = doctor(*n), peer) == "connected"; }, kWait), lan);
    json p = seen(d, peer);
    BOOST_TEST(p["family"] == "ipv6");
    const std::string address = p["address"];
    BOOST_TEST(address.starts_with("[fe80:"), address);
    BOOST_TEST(address.find("%eth0]:7460") != std::string::npos, address);
  }
  put(a, "CUST_V6", "over IPv6");
  REQUIRE_OR_DUMP(wait_until([&] { return has(b, "CUST_V6", "over IPv6"); }, kWait), lan);
}

BOOST_AUTO_TEST_SUITE_END()
