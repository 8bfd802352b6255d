// Discovery between hosts on a real (virtual) LAN: network namespaces joined by
// a bridge, one discovery_probe per host, real multicast. See tools/netlab/namespace_lan.h.
//
// Timings are logged (BOOST_TEST_MESSAGE, visible with ctest -V), never
// asserted; the waits below are generous upper bounds so a slow CI machine
// does not fail them.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <thread>

#include "tests/discovery/probe_harness.h"

using namespace shopsync::test;
using namespace std::chrono_literals;
using Lines = std::vector<nlohmann::json>;

namespace {

constexpr auto kFindTimeout = 20s;

// Every probe of `hosts` has found every other one over IPv4 and IPv6.
bool all_found(const std::vector<std::unique_ptr<ChildProcess>>& probes, const std::vector<int>& hosts) {
  for (int me : hosts) {
    auto& p = *probes[static_cast<std::size_t>(me)];
    p.pump();
    for (int other : hosts) {
      if (other == me) continue;
      if (!path_up(p.lines(), node_of(other), "ipv4") || !path_up(p.lines(), node_of(other), "ipv6")) return false;
    }
  }
  return true;
}

bool wait_all_found(const std::vector<std::unique_ptr<ChildProcess>>& probes, const std::vector<int>& hosts,
                    std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (all_found(probes, hosts)) return true;
    std::this_thread::sleep_for(50ms);
  }
  return all_found(probes, hosts);
}

std::string transcripts(const std::vector<std::unique_ptr<ChildProcess>>& probes) {
  std::string out;
  for (std::size_t i = 1; i < probes.size(); ++i) {
    if (probes[i]) out += "=== host " + std::to_string(i) + " pid " + std::to_string(probes[i]->pid()) + "\n" + probes[i]->transcript();
  }
  return out;
}

// Boost.Test builds an assertion's message even when it passes (and possibly
// before evaluating the condition): transcripts are made only on failure.
#define REQUIRE_OR_DUMP(cond, probes)                                        \
  do {                                                                       \
    if (!(cond)) BOOST_FAIL(#cond << " failed\n" << transcripts(probes)); \
  } while (false)
#define CHECK_OR_DUMP(cond, what, probes)                                          \
  do {                                                                             \
    if (!(cond)) BOOST_ERROR(#cond << ": " << what << "\n" << transcripts(probes)); \
  } while (false)

// Time (ms since that probe started) at which probe `me` had found every other
// host of `hosts` over IPv4.
long time_to_find_all(const ChildProcess& p, int me, const std::vector<int>& hosts) {
  long worst = 0;
  for (int other : hosts) {
    if (other == me) continue;
    for (const auto& l : p.lines()) {
      if (str(l, "event") == "found" && str(l, "node") == node_of(other) && str(l, "family") == "ipv4") {
        worst = std::max(worst, l.value("t_ms", 0L));
        break;
      }
    }
  }
  return worst;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(multihost, NamespacesRequired)

BOOST_AUTO_TEST_CASE(three_hosts_discover_each_other_on_the_link_they_share) {
  TempDir dir("discovery-multihost");
  NamespaceLan net(3);
  std::vector<std::unique_ptr<ChildProcess>> probes(4);
  for (int h = 1; h <= 3; ++h) probes[h] = start_probe(net, h, ProbeSpec("shop" + std::to_string(h), node_of(h)), dir);

  REQUIRE_OR_DUMP(wait_all_found(probes, {1, 2, 3}, kFindTimeout), probes);
  for (int me = 1; me <= 3; ++me) {
    const auto& lines = probes[me]->lines();
    for (int other = 1; other <= 3; ++other) {
      if (other == me) continue;
      auto v4 = last_found(lines, node_of(other), "ipv4");
      BOOST_REQUIRE(v4);
      // The address is one the peer has on the link where it was seen.
      BOOST_TEST((*v4)["address"].get<std::string>() == net.address(other));
      BOOST_TEST((*v4)["interface"].get<std::string>() == "eth0");
      BOOST_TEST((*v4)["port"].get<int>() == 7460);
      BOOST_TEST((*v4)["name"].get<std::string>() == "shop" + std::to_string(other));
      BOOST_TEST((*v4)["cluster"].get<std::string>() == "test");
      BOOST_TEST((*v4)["role"].get<std::string>() == "peer");
      BOOST_TEST((*v4)["protocol"].get<int>() == 1);
      BOOST_TEST((*v4)["key"].get<std::string>() == "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
      BOOST_TEST((*v4)["endpoint"].get<std::string>() == "tcp://" + net.address(other) + ":7460");
      auto v6 = last_found(lines, node_of(other), "ipv6");
      BOOST_REQUIRE(v6);
      BOOST_TEST((*v6)["address"].get<std::string>().rfind("fe80:", 0) == 0u);
      BOOST_TEST((*v6)["endpoint"].get<std::string>().find("%eth0]:7460") != std::string::npos);
      BOOST_TEST((*v6)["ifindex"].get<int>() == (*v4)["ifindex"].get<int>());
    }
    // Never itself.
    for (const auto& l : lines) {
      if (str(l, "event") == "found" || str(l, "event") == "lost") BOOST_TEST(str(l, "node") != node_of(me));
    }
    BOOST_TEST_MESSAGE("cold start: host " << me << " found both peers " << time_to_find_all(*probes[me], me, {1, 2, 3})
                                           << " ms after it started");
  }
}

BOOST_AUTO_TEST_CASE(a_late_joiner_finds_the_running_peers_at_once) {
  TempDir dir("discovery-multihost");
  NamespaceLan net(3);
  std::vector<std::unique_ptr<ChildProcess>> probes(4);
  for (int h = 1; h <= 2; ++h) probes[h] = start_probe(net, h, ProbeSpec("shop" + std::to_string(h), node_of(h)), dir);
  REQUIRE_OR_DUMP(wait_all_found(probes, {1, 2}, kFindTimeout), probes);

  // Let the first two finish announcing: a responder does not multicast a
  // record again within a second of having done so (RFC 6762, 6), so a joiner
  // that asks right after an announcement gets its answer only to its second
  // query, one second later. That is the worst case; this measures the usual.
  std::this_thread::sleep_for(2000ms);
  probes[3] = start_probe(net, 3, ProbeSpec("shop3", node_of(3)), dir);
  REQUIRE_OR_DUMP(wait_all_found(probes, {1, 2, 3}, kFindTimeout), probes);
  BOOST_TEST_MESSAGE("late joiner: host 3 found both running peers "
                     << time_to_find_all(*probes[3], 3, {1, 2, 3}) << " ms after it started; it was announced at "
                     << first_time(probes[3]->lines(), "announced").value_or(-1) << " ms");
}

BOOST_AUTO_TEST_CASE(a_cut_link_makes_the_peer_lost_and_restoring_it_brings_it_back) {
  TempDir dir("discovery-multihost");
  NamespaceLan net(3);
  std::vector<std::unique_ptr<ChildProcess>> probes(4);
  // A short TTL so that expiry (no goodbye: the cable is pulled) is quick.
  for (int h = 1; h <= 3; ++h)
    probes[h] = start_probe(net, h, ProbeSpec("shop" + std::to_string(h), node_of(h)).with_ttl(3), dir);
  REQUIRE_OR_DUMP(wait_all_found(probes, {1, 2, 3}, kFindTimeout), probes);

  auto cut_at = std::chrono::steady_clock::now();
  net.cut(3);
  // The others expire it; host 3 loses carrier and drops what it saw at once.
  for (int h = 1; h <= 2; ++h) {
    bool lost = probes[h]->wait_for(
        [](const Lines& l) { return !path_up(l, node_of(3), "ipv4") && !path_up(l, node_of(3), "ipv6"); }, 30s);
    CHECK_OR_DUMP(lost, "host " << h << " never lost host 3", probes);
    BOOST_TEST(path_up(probes[h]->lines(), node_of(3 - h), "ipv4"));  // the other peer stays
  }
  BOOST_TEST_MESSAGE("cut host 3: peers reported it lost after "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - cut_at).count()
                     << " ms (record TTL 3 s)");
  bool isolated = probes[3]->wait_for(
      [](const Lines& l) { return !path_up(l, node_of(1), "ipv4") && !path_up(l, node_of(2), "ipv4"); }, 30s);
  REQUIRE_OR_DUMP(isolated, probes);

  auto restored_at = std::chrono::steady_clock::now();
  net.restore(3);
  REQUIRE_OR_DUMP(wait_all_found(probes, {1, 2, 3}, kFindTimeout), probes);
  BOOST_TEST_MESSAGE("restored host 3: all paths back after "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - restored_at).count()
                     << " ms");
  for (int h = 1; h <= 2; ++h) {
    auto v4 = last_found(probes[h]->lines(), node_of(3), "ipv4");
    BOOST_REQUIRE(v4);
    BOOST_TEST((*v4)["address"].get<std::string>() == net.address(3));
  }
}

BOOST_AUTO_TEST_CASE(a_clean_stop_is_seen_at_once_through_the_goodbye) {
  TempDir dir("discovery-multihost");
  NamespaceLan net(2);
  std::vector<std::unique_ptr<ChildProcess>> probes(3);
  // TTL 120 s: losing the peer within the wait below can only come from the goodbye.
  for (int h = 1; h <= 2; ++h) probes[h] = start_probe(net, h, ProbeSpec("shop" + std::to_string(h), node_of(h)), dir);
  REQUIRE_OR_DUMP(wait_all_found(probes, {1, 2}, kFindTimeout), probes);

  auto stop_at = std::chrono::steady_clock::now();
  BOOST_TEST(probes[2]->terminate() == 0);
  BOOST_TEST(first_time(probes[2]->lines(), "stopped").has_value());
  bool lost = probes[1]->wait_for(
      [](const Lines& l) { return !path_up(l, node_of(2), "ipv4") && !path_up(l, node_of(2), "ipv6"); }, 20s);
  REQUIRE_OR_DUMP(lost, probes);
  BOOST_TEST_MESSAGE("goodbye: peer reported lost "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - stop_at).count()
                     << " ms after SIGTERM (record TTL 120 s)");
}

BOOST_AUTO_TEST_CASE(nodes_of_another_cluster_are_refused_and_reported) {
  TempDir dir("discovery-multihost");
  NamespaceLan net(3);
  std::vector<std::unique_ptr<ChildProcess>> probes(4);
  probes[1] = start_probe(net, 1, ProbeSpec("shop1", node_of(1)), dir);
  probes[2] = start_probe(net, 2, ProbeSpec("intruder", node_of(2)).with_cluster("other-business"), dir);
  // Let the first two finish announcing: a responder does not multicast a
  // record again within a second of having done so (RFC 6762, 6), so a joiner
  // that asks right after an announcement gets its answer only to its second
  // query, one second later. That is the worst case; this measures the usual.
  std::this_thread::sleep_for(2000ms);
  probes[3] = start_probe(net, 3, ProbeSpec("shop3", node_of(3)), dir);
  REQUIRE_OR_DUMP(wait_all_found(probes, {1, 3}, kFindTimeout), probes);

  auto diag = diagnostics_until(
      *probes[1],
      [](const nlohmann::json& d) {
        for (const auto& r : d["refused"]) {
          if (r["name"] == "intruder" && r["reason"] == "other_cluster") return true;
        }
        return false;
      },
      kFindTimeout);
  REQUIRE_OR_DUMP(diag.has_value(), probes);
  bool refused = false;
  for (const auto& r : (*diag)["refused"]) {
    if (r["name"] == "intruder" && r["reason"] == "other_cluster") {
      refused = true;
      BOOST_TEST(r["detail"].get<std::string>().find("other-business") != std::string::npos);
      BOOST_TEST(r["interface"].get<std::string>() == "eth0");
    }
  }
  BOOST_TEST(refused, diag->dump());
  for (int h : {1, 3}) {
    for (const auto& l : probes[h]->lines()) BOOST_TEST(str(l, "node") != node_of(2));
  }
  // The intruder, in its own cluster, sees nobody either.
  for (const auto& l : probes[2]->lines()) BOOST_TEST(str(l, "event") != "found");
  // Diagnostics say where multicast arrives.
  BOOST_REQUIRE(!(*diag)["interfaces"].empty());
  const auto& eth0 = (*diag)["interfaces"][0];
  BOOST_TEST(eth0["name"].get<std::string>() == "eth0");
  BOOST_TEST(eth0["joined_ipv4"].get<bool>());
  BOOST_TEST(eth0["answers_received"].get<long>() > 0);
  BOOST_TEST(eth0["peers_seen"].get<long>() == 2);  // host 3 over IPv4 and IPv6
  BOOST_TEST(eth0["kernel_ipv6_multicast_sent"].get<long>() > 0);
}

BOOST_AUTO_TEST_CASE(a_service_name_conflict_is_resolved_by_renaming) {
  TempDir dir("discovery-multihost");
  NamespaceLan net(2);
  std::vector<std::unique_ptr<ChildProcess>> probes(3);
  for (int h = 1; h <= 2; ++h) probes[h] = start_probe(net, h, ProbeSpec("till", node_of(h)), dir);
  REQUIRE_OR_DUMP(wait_all_found(probes, {1, 2}, kFindTimeout), probes);

  // Each found the other under the name the other ended up with: one kept
  // "till", the other renamed itself.
  std::string n1 = last_found(probes[2]->lines(), node_of(1), "ipv4")->at("name");
  std::string n2 = last_found(probes[1]->lines(), node_of(2), "ipv4")->at("name");
  BOOST_TEST(n1 != n2);
  BOOST_TEST((n1 == "till" || n2 == "till"));
  BOOST_TEST_MESSAGE("names after the conflict: " << n1 << ", " << n2);
}

BOOST_AUTO_TEST_CASE(a_host_name_conflict_is_resolved_by_renaming) {
  TempDir dir("discovery-multihost");
  NamespaceLan net(2);
  std::vector<std::unique_ptr<ChildProcess>> probes(3);
  // Two machines cloned from one image: same host name, different addresses.
  for (int h = 1; h <= 2; ++h)
    probes[h] = start_probe(net, h, ProbeSpec("shop" + std::to_string(h), node_of(h)).with_host_name("clone"), dir);
  REQUIRE_OR_DUMP(wait_all_found(probes, {1, 2}, kFindTimeout), probes);
  // Until the loser of the conflict has renamed itself, its SRV names a host
  // that resolves to the winner; then `found` is repeated with the right address.
  for (int h = 1; h <= 2; ++h) {
    std::string want = net.address(3 - h);
    bool right = probes[h]->wait_for(
        [&](const Lines& l) {
          auto v4 = last_found(l, node_of(3 - h), "ipv4");
          return v4 && (*v4)["address"] == want && path_up(l, node_of(3 - h), "ipv4");
        },
        kFindTimeout);
    CHECK_OR_DUMP(right, "host " << h << " never saw host " << 3 - h << " at " << want, probes);
  }
  std::string h1 = last_found(probes[2]->lines(), node_of(1), "ipv4")->at("host");
  std::string h2 = last_found(probes[1]->lines(), node_of(2), "ipv4")->at("host");
  BOOST_TEST(h1 != h2);
  BOOST_TEST_MESSAGE("host names after the conflict: " << h1 << ", " << h2 << "; host 1 found host 2 after "
                                                       << time_to_find_all(*probes[1], 1, {1, 2}) << " ms");
}

// What the node's loopback tests rely on: two nodes on one host, discovery
// restricted to `lo`, nothing sent on any other interface. The second node
// finds UDP 5353 taken by the first and coexists with it.
BOOST_AUTO_TEST_CASE(two_nodes_on_one_host_find_each_other_over_loopback) {
  TempDir dir("discovery-multihost");
  NamespaceLan net(1);
  std::vector<std::unique_ptr<ChildProcess>> probes(3);
  probes[1] = start_probe(net, 1,
                          ProbeSpec("a", node_of(1)).with_host_name("system").with_args({"--interface", "lo", "--port", "7001"}),
                          dir);
  REQUIRE_OR_DUMP(probes[1]->wait_for([](const Lines& l) { return first_time(l, "started").has_value(); }, kFindTimeout),
                  probes);
  probes[2] = start_probe(net, 1,
                          ProbeSpec("b", node_of(2)).with_host_name("system").with_args({"--interface", "lo", "--port", "7002"}),
                          dir);
  REQUIRE_OR_DUMP(probes[1]->wait_for([](const Lines& l) { return path_up(l, node_of(2), "ipv4"); }, kFindTimeout), probes);
  REQUIRE_OR_DUMP(probes[2]->wait_for([](const Lines& l) { return path_up(l, node_of(1), "ipv4"); }, kFindTimeout), probes);
  BOOST_TEST(probes[1]->lines().front()["publishing_addresses"].get<bool>());
  BOOST_TEST(!probes[2]->lines().front()["publishing_addresses"].get<bool>());
  for (int h = 1; h <= 2; ++h) {
    auto found = *last_found(probes[h]->lines(), node_of(3 - h), "ipv4");
    BOOST_TEST(found["endpoint"].get<std::string>() == "tcp://127.0.0.1:700" + std::to_string(3 - h));
    BOOST_TEST(found["interface"].get<std::string>() == "lo");
  }
  BOOST_TEST(probes[2]->terminate() == 0);
  REQUIRE_OR_DUMP(probes[1]->wait_for([](const Lines& l) { return !path_up(l, node_of(2), "ipv4"); }, kFindTimeout),
                  probes);
}

BOOST_AUTO_TEST_SUITE_END()
