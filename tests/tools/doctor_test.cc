// `shopsync doctor`'s advice: what an operator is told for the situations
// discovery can be in (the report itself comes from a real node in
// tests/discovery/node_lan_test.cc).
#include <chrono>

#include <boost/test/unit_test.hpp>

#include <sstream>

#include "tools/shopsync/doctor.h"
#include "tools/shopsync/render.h"

namespace shopsync::cli {
namespace {

bool any_mentions(const std::vector<std::string>& advice, const std::string& part) {
  for (const auto& a : advice) {
    if (a.find(part) != std::string::npos) return true;
  }
  return false;
}

// A node that has listened for 30 s on a LAN where eth0 works.
api::DiscoveryReport healthy() {
  api::DiscoveryReport r;
  r.enabled = true;
  r.state = "announced";
  r.published_name = "till-1";
  r.host_name = "shop1.local";
  r.uptime_ms = 30'000;
  r.interfaces = {{"eth0", 2, {"198.18.0.1"}, true, true, 12, 2, 40, 38}};
  r.peers = {{0xb2, "till-2", "198.18.0.2:7460", "eth0", "ipv4", "peer", "KEY2", 1, 2, "connected", ""}};
  return r;
}

BOOST_AUTO_TEST_SUITE(doctor)

BOOST_AUTO_TEST_CASE(a_working_lan_gets_no_advice) {
  BOOST_TEST(doctor_advice(healthy()).empty());
  const json j = doctor_json(healthy());
  BOOST_TEST(j["advice"].empty());
  BOOST_TEST(j["peers"][0]["state"] == "connected");
  BOOST_TEST(j["interfaces"][0]["name"] == "eth0");
}

BOOST_AUTO_TEST_CASE(a_peer_refused_for_its_strategies_is_a_problem_with_the_difference) {
  api::PeerList peers;
  api::PeerInfo till2;
  till2.node_id = 0xb2;
  till2.name = "till-2";
  till2.address = "198.18.0.2:7460";
  till2.state = "refused";
  till2.last_error = "conflict strategies differ (stock: merge on 'till-1', newest_wins on 'till-2'): every node of a "
                     "cluster needs the same --strategy flags";
  api::PeerInfo till3 = till2;
  till3.name = "till-3";
  till3.state = "connected";
  till3.last_error.clear();
  peers.peers = {till2, till3};
  const auto advice = peer_advice(peers);
  BOOST_REQUIRE(advice.size() == 1u);
  BOOST_TEST(any_mentions(advice, "'till-2'"));
  BOOST_TEST(any_mentions(advice, "stock: merge on 'till-1', newest_wins on 'till-2'"));
  const json j = doctor_json(healthy(), {}, peers);
  BOOST_TEST(j["advice"].size() == 1u);
  std::ostringstream text;
  print_doctor(text, healthy(), {}, peers);
  BOOST_TEST(text.str().find("no problem found") == std::string::npos);
  BOOST_TEST(text.str().find("newest_wins on 'till-2'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(discovery_turned_off_says_peers_come_only_from_flags) {
  api::DiscoveryReport r;
  r.off_reason = "turned off (--no-mdns or mdns = false)";
  auto advice = doctor_advice(r);
  BOOST_REQUIRE(advice.size() == 1u);
  BOOST_TEST(any_mentions(advice, "--no-mdns"));
  BOOST_TEST(any_mentions(advice, "none is configured"));
  // Off on purpose with peers configured (the uplink set-up): no problem.
  r.static_peers = 2;
  BOOST_TEST(doctor_advice(r).empty());
}

BOOST_AUTO_TEST_CASE(silence_on_the_lan_suggests_static_peers_once_discovery_had_time) {
  api::DiscoveryReport r = healthy();
  r.peers.clear();
  r.interfaces[0].answers_received = 0;
  r.interfaces[0].peers_seen = 0;
  auto advice = doctor_advice(r);
  BOOST_REQUIRE(advice.size() == 1u);
  BOOST_TEST(any_mentions(advice, "multicast is blocked"));
  BOOST_TEST(any_mentions(advice, "--peer KEY@HOST:7460"));
  r.static_peers = 1;
  BOOST_TEST(any_mentions(doctor_advice(r), "static peer(s) are configured"));
  r.uptime_ms = kQuietLanAfterMs - 1;  // still announcing: too early to tell
  BOOST_TEST(doctor_advice(r).empty());
}

BOOST_AUTO_TEST_CASE(no_usable_interface_and_no_group_membership_are_named) {
  api::DiscoveryReport r = healthy();
  r.interfaces.clear();
  BOOST_TEST(any_mentions(doctor_advice(r), "ip link"));
  r = healthy();
  r.interfaces[0].joined_ipv4 = r.interfaces[0].joined_ipv6 = false;
  BOOST_TEST(any_mentions(doctor_advice(r), "not a member of the mDNS group on eth0"));
}

// Issue #13, bug 4: a peer found on the LAN that never gets connected (the
// node dialed it and nothing answers, or it was never dialed) is a problem
// once it lasts, with what can cause it; doctor then exits non-zero.
BOOST_AUTO_TEST_CASE(a_peer_found_but_stuck_connecting_or_waiting_is_a_problem_with_its_causes) {
  api::DiscoveryReport r = healthy();
  r.peers.push_back({0xb6, "till-6", "198.18.0.6:7460", "eth0", "ipv4", "peer", "KEY6", 1, 1, "connecting",
                     "dialed 198.18.0.6:7460, no answer yet", kStuckAfterMs - 1});
  BOOST_TEST(doctor_advice(r).empty());  // a dial takes a moment
  r.peers.back().unconnected_ms = 40'000;
  r.peers.push_back({0xb7, "till-7", "198.18.0.7:7460", "eth0", "ipv4", "peer", "KEY7", 1, 1, "waiting",
                     "found, not dialed yet", 40'000});
  const auto advice = doctor_advice(r);
  BOOST_REQUIRE(advice.size() == 2u);
  BOOST_TEST(any_mentions(advice, "'till-6' (00000000000000b6) at 198.18.0.6:7460 was found on the LAN but has not been "
                                  "connected for"));
  BOOST_TEST(any_mentions(advice, "'till-7' (00000000000000b7)"));
  for (const auto& a : advice) {
    BOOST_TEST(a.find("sync port is not reachable") != std::string::npos, a);
    BOOST_TEST(a.find("does not trust this node's key") != std::string::npos, a);
  }
  const json j = doctor_json(r);
  BOOST_TEST(j["advice"].size() == 2u);
  BOOST_TEST(j["peers"][1]["unconnected_ms"] == 40'000);
  std::ostringstream text;
  print_doctor(text, r);
  BOOST_TEST(text.str().find("no problem found") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_static_peer_dialed_that_never_answered_is_a_problem_with_its_causes) {
  api::PeerList peers;
  api::PeerInfo never;
  never.address = "198.18.0.9:7460";
  never.found_by = "static";
  never.state = "connecting";
  BOOST_TEST(peer_advice(peers).empty());
  peers.peers = {never};
  BOOST_TEST(peer_advice(peers).empty());  // its first dial, still waiting for the answer
  peers.peers[0].last_error = "no answer to HELLO within 5000 ms";
  api::PeerInfo offline = never;  // known from before: switched off, not misconfigured
  offline.node_id = 0xb8;
  offline.name = "till-8";
  offline.state = "backoff";
  peers.peers.push_back(offline);
  const auto advice = peer_advice(peers);
  BOOST_REQUIRE(advice.size() == 1u);
  BOOST_TEST(any_mentions(advice, "198.18.0.9:7460 (static) was dialed but has never answered (no answer to HELLO"));
  BOOST_TEST(any_mentions(advice, "does not trust this node's key"));
}

BOOST_AUTO_TEST_CASE(peers_that_cannot_sync_say_why_and_what_to_do) {
  api::DiscoveryReport r = healthy();
  r.peers.push_back({0xb3, "till-3", "198.18.0.3:7460", "eth0", "ipv4", "peer", "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", 1,
                     1, "untrusted", ""});
  r.peers.push_back({0xb4, "till-4", "198.18.0.4:7460", "eth0", "ipv4", "peer", "KEY4", 1, 1, "unreachable",
                     "no answer to HELLO within 5000 ms"});
  r.peers.push_back({0xb5, "till-5", "198.18.0.5:7460", "eth0", "ipv4", "peer", "KEY5", 0, 1, "incompatible",
                     "upgrade it"});
  r.peers.push_back({0xb6, "till-6", "198.18.0.6:7460", "eth0", "ipv4", "peer", "KEY6", 1, 1, "waiting", "it dials"});
  auto advice = doctor_advice(r);
  BOOST_TEST(advice.size() == 3u);  // a peer still waiting to be dialed is no problem yet
  // The key as a person can type it (net/public_key_text.h), not in Z85.
  BOOST_TEST(any_mentions(advice, "shopsync trust add akyb-m979-694s-d4rp-zdgq-s1sb-p30x-3zrm-g022-fhcm-sfxc-y6y2-ts93-7qpq`"));
  BOOST_TEST(any_mentions(advice, "'till-4' (00000000000000b4) at 198.18.0.4:7460 was found but cannot be reached: no answer"));
  BOOST_TEST(any_mentions(advice, "upgrade it"));
}

// Issue #15: a peer that was connected and went quiet without a goodbye (its
// mDNS records still up until their TTL) looks switched off; doctor says so
// rather than blaming a firewall.
BOOST_AUTO_TEST_CASE(a_peer_that_worked_and_went_quiet_looks_switched_off) {
  api::DiscoveryReport r = healthy();
  r.peers.push_back({0xb6, "till-6", "198.18.0.6:7460", "eth0", "ipv4", "peer", "KEY6", 1, 1, "connecting",
                     "dialed 198.18.0.6:7460, no answer yet", 40'000});
  api::PeerList known;
  api::PeerInfo till6;
  till6.node_id = 0xb6;
  till6.name = "till-6";
  till6.state = "connecting";
  till6.last_seen_ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count()) - 45'000;
  known.peers.push_back(till6);
  const auto advice = doctor_advice(r, known);
  BOOST_REQUIRE(advice.size() == 1u);
  BOOST_TEST(any_mentions(advice, "'till-6' (00000000000000b6) at 198.18.0.6:7460 was connected until 45 s ago"));
  BOOST_TEST(any_mentions(advice, "looks switched off"));
  // Never connected: the firewall and key causes, as before.
  BOOST_TEST(!any_mentions(doctor_advice(r), "looks switched off"));
  BOOST_TEST(any_mentions(doctor_advice(r), "sync port is not reachable"));
}

// Issue #15: a peer whose link died without a goodbye and that answered none
// of the reconfirm queries (RFC 6762 10.4) was forgotten from discovery
// early; doctor says it looks switched off. One still being asked, or that
// answered, is nothing to look at.
BOOST_AUTO_TEST_CASE(a_peer_forgotten_after_an_unanswered_reconfirm_looks_switched_off) {
  api::DiscoveryReport r = healthy();
  r.reconfirmed.push_back({0xb7, "till-7", "forgotten", 4'000, 3});
  r.reconfirmed.push_back({0xb8, "till-8", "asking", 1'000, 2});
  r.reconfirmed.push_back({0xb9, "till-9", "answered", 9'000, 1});
  const auto advice = doctor_advice(r);
  BOOST_REQUIRE(advice.size() == 1u);
  BOOST_TEST(any_mentions(advice, "'till-7' (00000000000000b7): link lost without goodbye; mDNS reconfirm sent, no "
                                  "answer after 10 s: it looks switched off, unplugged or crashed, and was forgotten "
                                  "from discovery 4 s ago"));
  std::ostringstream text;
  print_doctor(text, r);
  BOOST_TEST(text.str().find("till-8") != std::string::npos, text.str());  // the table lists them all
}

// Issue #15: `shopsync peers` says how far a running sync has come.
BOOST_AUTO_TEST_CASE(peers_shows_a_running_sync_with_its_progress_rate_and_eta) {
  api::PeerList list;
  api::PeerInfo a;
  a.node_id = 0xa1;
  a.name = "till-1";
  a.state = "connected";
  a.syncing = true;
  a.sync = {52'000, 200'000, 5'347'738, 20'447'232, 41'000, 3'000};
  list.peers.push_back(a);
  std::ostringstream out;
  print_peers(out, list);

  BOOST_TEST(out.str().find("syncing from till-1: 52000 of ~200000 records (26%), 5.1 of ~19.5 MiB, 41000 rec/s, "
                            "ETA 3 s") != std::string::npos,
             out.str());
  list.peers[0].syncing = false;  // done: the line goes
  std::ostringstream after;
  print_peers(after, list);
  BOOST_TEST(after.str().find("syncing") == std::string::npos, after.str());
}

BOOST_AUTO_TEST_CASE(peers_shows_the_sessions_begun_with_each_peer) {
  api::PeerList list;
  api::PeerInfo a;
  a.node_id = 0xa1;
  a.name = "till-1";
  a.state = "connected";
  a.sessions = 37;  // a link that keeps dropping
  list.peers.push_back(a);
  std::ostringstream out;
  print_peers(out, list);
  BOOST_TEST(out.str().find("SESSIONS") != std::string::npos, out.str());
  BOOST_TEST(out.str().find("connected  37 ") != std::string::npos, out.str());
}

BOOST_AUTO_TEST_CASE(refused_services_are_explained) {
  api::DiscoveryReport r = healthy();
  r.refused = {{"intruder", "eth0", "other_cluster", "cluster \"other-business\"", 3},
               {"future", "eth0", "unsupported_txtvers", "txtvers=2", 1},
               {"ghost", "eth0", "unresolved", "no SRV, TXT or address answer; retrying", 2}};
  auto advice = doctor_advice(r);
  BOOST_TEST(advice.size() == 3u);
  BOOST_TEST(any_mentions(advice, "'intruder' on eth0 belongs to another cluster (cluster \"other-business\")"));
  // The cluster is pinned in the data directory: the advice must say so, or
  // following it (restart with another --cluster) is refused.
  BOOST_TEST(any_mentions(advice, "a new, empty --data directory"));
  BOOST_TEST(any_mentions(advice, "upgrade the older"));
  BOOST_TEST(any_mentions(advice, "not published"));
}

BOOST_AUTO_TEST_CASE(the_text_report_lists_interfaces_peers_refusals_and_advice) {
  api::DiscoveryReport r = healthy();
  r.refused = {{"intruder", "eth0", "other_cluster", "cluster \"x\"", 3}};
  std::ostringstream out;
  print_doctor(out, r);
  const std::string text = out.str();
  for (const char* part : {"announced as 'till-1'", "eth0", "ipv4+ipv6", "till-2", "connected", "intruder",
                           "other_cluster", "to look at:"}) {
    BOOST_TEST(text.find(part) != std::string::npos, "missing '" << part << "' in:\n" << text);
  }
}

BOOST_AUTO_TEST_CASE(an_uplinks_postgresql_link_down_or_its_slot_holding_back_wal_is_a_problem) {
  api::NodeStatus s;
  BOOST_TEST(store_advice(s).empty());
  s.postgres = true;
  s.postgres_connected = true;
  s.postgres_slot_retained_bytes = 10 << 20;
  s.postgres_slot_wal_status = "reserved";
  BOOST_TEST(store_advice(s).empty());
  s.postgres_connected = false;
  s.postgres_error = "unavailable: cannot connect to PostgreSQL: connection refused";
  BOOST_TEST(any_mentions(store_advice(s), "PostgreSQL is not connected: unavailable: cannot connect"));
  s.postgres_connected = true;
  s.postgres_slot_retained_bytes = 3ull << 30;
  BOOST_TEST(any_mentions(store_advice(s), "holds back 3072 MiB of PostgreSQL WAL"));
  BOOST_TEST(any_mentions(store_advice(s), "max_slot_wal_keep_size"));
  s.postgres_slot_wal_status = "lost";
  BOOST_TEST(any_mentions(store_advice(s), "invalidated this uplink's replication slot"));
}

BOOST_AUTO_TEST_CASE(a_sighup_that_changed_nothing_is_a_problem_with_its_reason) {
  api::NodeStatus s;
  s.config_reloads = 1;
  BOOST_TEST(store_advice(s).empty());
  s.config_reload_error = "the configuration does not load, keeping the running one: log level 'loud' is not debug, "
                          "info, warn or error";
  const auto advice = store_advice(s);
  BOOST_TEST(any_mentions(advice, "the last SIGHUP changed nothing: the configuration does not load"));
  BOOST_TEST(any_mentions(advice, "log level 'loud'"));
  std::ostringstream status_text;
  print_status(status_text, s);
  BOOST_TEST(status_text.str().find("the last reload changed nothing") != std::string::npos, status_text.str());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::cli
