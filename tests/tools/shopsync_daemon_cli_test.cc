// The shopsync CLI against real shopsyncd processes on loopback (two nodes
// with static peers and CURVE): what one node's CLI writes, the other's shows,
// watches and reports in status and peers.
#include <cctype>

#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "net/public_key_text.h"
#include "tests/node/support/node_process.h"
#include "tests/support/temp_dir.h"
#include "tests/tools/child.h"
#include "tests/tools/daemon_cli.h"

namespace shopsync::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kWait{30'000};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string api_of(NodeProcess& node) { return "127.0.0.1:" + std::to_string(node.api_port()); }

json cli_json(NodeProcess& node, std::vector<std::string> args) {
  args.insert(args.begin(), "--json");
  ChildResult r = cli(node, args);
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "exit " << r.exit_code << ": " << r.err);
  return json::parse(r.out);
}

struct Pair {
  TempDir dir{"shopsync-cli-daemon"};
  std::unique_ptr<NodeProcess> a, b;

  Pair() {
    NodeProcess::Options oa;
    oa.data_dir = dir / "a";
    oa.name = "a";
    NodeProcess::Options ob;
    ob.data_dir = dir / "b";
    ob.name = "b";
    a = std::make_unique<NodeProcess>(oa);
    b = std::make_unique<NodeProcess>(ob);
    a->options().peers = {b->peer_spec()};
    b->options().peers = {a->peer_spec()};
    a->start();
    b->start();
  }
  ~Pair() {
    BOOST_TEST(a->stop() == 0);
    BOOST_TEST(b->stop() == 0);
  }
};

BOOST_AUTO_TEST_SUITE(shopsync_cli_daemon)

BOOST_AUTO_TEST_CASE(a_write_on_one_node_is_read_and_watched_on_the_other) {
  Pair p;
  // Watch on b from now, then write on a.
  Child watch({SHOPSYNC_CLI, "--api", api_of(*p.b), "--json", "watch", "customers", "--count", "1"});
  BOOST_REQUIRE(!watch.wait_for_line(true, "watching customers", kWait).empty());
  auto put = cli(*p.a, {"put", "customers", "CUST_001", "name=Ada Lovelace", "age:=36"});
  BOOST_REQUIRE_MESSAGE(put.exit_code == 0, put.err);

  ChildResult seen = watch.finish(kWait);
  BOOST_TEST(seen.exit_code == 0);
  json change = json::parse(seen.out);
  BOOST_TEST(change["id"] == "CUST_001");
  BOOST_TEST(change["dot"].get<std::string>() == cli_json(*p.a, {"get", "customers", "CUST_001"})["dot"]);

  auto got = cli(*p.b, {"get", "customers", "CUST_001"});
  BOOST_TEST(got.exit_code == 0);
  BOOST_TEST(contains(got.out, "name  \"Ada Lovelace\""));

  // b deletes; a sees it gone (exit 1).
  BOOST_TEST(cli(*p.b, {"rm", "customers", "CUST_001"}).exit_code == 0);
  BOOST_TEST(wait_until([&] { return cli(*p.a, {"get", "customers", "CUST_001"}).exit_code == 1; }, 15s));
}

BOOST_AUTO_TEST_CASE(status_peers_and_key_show_the_other_node) {
  Pair p;
  BOOST_TEST(cli(*p.a, {"put", "orders", "O1", "total:=12"}).exit_code == 0);
  BOOST_REQUIRE(wait_until([&] { return cli(*p.b, {"get", "orders", "O1"}).exit_code == 0; }, 15s));

  json peers = cli_json(*p.b, {"peers"});
  BOOST_REQUIRE(peers["peers"].size() == 1u);
  BOOST_TEST(peers["peers"][0]["name"] == "a");
  BOOST_TEST(peers["peers"][0]["public_key"] == format_public_key(p.a->public_key()));
  BOOST_TEST(wait_until([&] { return cli_json(*p.b, {"peers"})["peers"][0]["state"] == "connected"; }, 15s));
  auto text = cli(*p.b, {"peers"});
  BOOST_TEST(contains(text.out, "NAME"));
  BOOST_TEST(contains(text.out, "connected"));

  json status = cli_json(*p.a, {"status"});
  BOOST_TEST(status["name"] == "a");
  BOOST_TEST(status["cluster"] == "test");
  BOOST_TEST(status["public_key"] == format_public_key(p.a->public_key()));
  BOOST_TEST(status["collections"][0]["name"] == "orders");
  auto human = cli(*p.a, {"status"});
  BOOST_TEST(human.exit_code == 0);
  BOOST_TEST(contains(human.out, "1  (orders 1)"));

  auto key = cli(*p.a, {"key"});
  BOOST_TEST(key.out == format_public_key(p.a->public_key()) + "\n");  // the spoken form, not Z85
  json keys = cli_json(*p.a, {"trust", "ls"});
  bool trusts_b = false;
  for (const auto& k : keys["keys"]) trusts_b = trusts_b || k["key"] == format_public_key(p.b->public_key());
  BOOST_TEST(trusts_b);
}

// A till retired for good is forgotten by name: it leaves the peers and
// pending lists (and holds back tombstone removal no more). A connected peer
// is not forgotten.
BOOST_AUTO_TEST_CASE(a_retired_node_is_forgotten_by_name) {
  TempDir dir("shopsync-cli-daemon");
  NodeProcess a(NodeProcess::Options::named(dir.path(), "a")), b(NodeProcess::Options::named(dir.path(), "b"));
  peer_each_other(a, b);
  a.start();
  b.start();
  BOOST_TEST(cli(b, {"put", "orders", "O1", "total:=12"}).exit_code == 0);
  BOOST_REQUIRE(wait_until([&] { return cli(a, {"get", "orders", "O1"}).exit_code == 0; }, 15s));
  auto busy = cli(b, {"forget", "a"});
  BOOST_TEST(busy.exit_code == 4);
  BOOST_TEST(contains(busy.err, "peer 'a'"), busy.err);
  BOOST_TEST(contains(busy.err, "is connected"), busy.err);

  BOOST_REQUIRE(a.stop() == 0);
  BOOST_TEST(cli(b, {"put", "orders", "O2", "total:=3"}).exit_code == 0);  // pending for a
  auto named_a = [&](const json& rows) {
    for (const auto& r : rows) {
      if (r.value("name", "") == "a" || r.value("peer_name", "") == "a") return true;
    }
    return false;
  };
  BOOST_REQUIRE(named_a(cli_json(b, {"status"})["pending"]));
  auto done = cli(b, {"forget", "a"});
  BOOST_TEST(done.exit_code == 0, done.err);
  BOOST_TEST(contains(done.out, "forgot a ("), done.out);
  BOOST_TEST(!named_a(cli_json(b, {"peers"})["peers"]));
  BOOST_TEST(!named_a(cli_json(b, {"status"})["pending"]));
  BOOST_TEST(cli(b, {"forget", "a"}).exit_code == 1);  // nothing left to forget
  BOOST_TEST(b.stop() == 0);
}

// --no-mdns with static peers is the documented uplink set-up: doctor says
// discovery is off and, while those peers work, exits 0 (monitoring relies
// on it).
BOOST_AUTO_TEST_CASE(doctor_of_a_node_without_discovery_says_so_and_exits_0_while_its_peers_work) {
  Pair p;  // started with --no-mdns and static peers
  BOOST_REQUIRE(wait_until([&] { return cli_json(*p.a, {"peers"})["peers"][0]["state"] == "connected"; }, 15s));
  auto text = cli(*p.a, {"doctor"});
  BOOST_TEST(text.exit_code == 0, text.out);
  BOOST_TEST(contains(text.out, "discovery: off (turned off (--no-mdns"), text.out);
  BOOST_TEST(contains(text.out, "peers come only from --peer and --uplink"), text.out);
  BOOST_TEST(!contains(text.out, "none is configured"), text.out);  // a has b as a static peer
  BOOST_TEST(contains(text.out, "no problem found"), text.out);
  ChildResult r = cli(*p.a, {"--json", "doctor"});
  BOOST_TEST(r.exit_code == 0);
  json report = json::parse(r.out);
  BOOST_TEST(report["enabled"] == false);
  BOOST_TEST(report["static_peers"] == 1);
  BOOST_TEST(report["advice"].empty());
}

BOOST_AUTO_TEST_CASE(nodes_given_each_others_keys_as_printed_sync) {
  TempDir dir{"shopsync-cli-spoken"};
  NodeProcess::Options oa;
  oa.data_dir = dir / "a";
  oa.name = "a";
  NodeProcess::Options ob;
  ob.data_dir = dir / "b";
  ob.name = "b";
  NodeProcess a(oa), b(ob);
  // What `shopsyncd --print-key` (and `shopsync key`) print, pasted unquoted.
  ChildResult printed = run_child({SHOPSYNCD_PATH, "--data", (dir / "b").string(), "--print-key"}, kWait);
  BOOST_REQUIRE(printed.exit_code == 0);
  BOOST_TEST(printed.out == format_public_key(b.public_key()) + "\n");
  std::string b_key = printed.out.substr(0, printed.out.size() - 1);
  std::string a_key;  // the other way round: upper case, no dashes
  for (char c : format_public_key(a.public_key())) {
    if (c != '-') a_key.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  a.options().peers = {b_key + "@" + b.sync_address()};
  b.options().peers = {a_key + "@" + a.sync_address()};
  a.start();
  b.start();
  BOOST_TEST(cli(a, {"put", "orders", "O7", "total:=7"}).exit_code == 0);
  BOOST_TEST(wait_until([&] { return cli(b, {"get", "orders", "O7"}).exit_code == 0; }, 15s), b.log());
  json keys = cli_json(b, {"trust", "ls"});
  BOOST_REQUIRE(keys["keys"].size() == 1u);
  BOOST_TEST(keys["keys"][0]["key"] == format_public_key(a.public_key()));
  BOOST_TEST(a.stop() == 0);
  BOOST_TEST(b.stop() == 0);
}

BOOST_AUTO_TEST_CASE(a_malformed_key_in_peer_or_uplink_stops_shopsyncd_at_start_with_exit_2) {
  TempDir dir{"shopsync-cli-badkey"};
  std::string typo = format_public_key(node_public_key(dir / "other"));
  typo[2] = typo[2] == 'a' ? 'b' : 'a';
  const std::vector<std::vector<std::string>> bad = {
      {"--peer", "abc@127.0.0.1:7460"},  // used to start, then retry "Invalid argument" forever
      {"--peer", typo + "@127.0.0.1:7460"},
      {"--uplink", typo + "@127.0.0.1:7460"},
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    NodeProcess::Options o;
    o.data_dir = dir / ("n" + std::to_string(i));
    o.name = "n";
    o.extra = bad[i];
    NodeProcess n(o);
    BOOST_TEST(n.run_expecting_exit(kWait) == 2, bad[i][0] << " " << bad[i][1] << ": " << n.log());
    BOOST_TEST(contains(n.log(), bad[i][0] + " " + bad[i][1] + ": "), n.log());
    BOOST_TEST(contains(n.log(), "is not a public key"), n.log());
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
