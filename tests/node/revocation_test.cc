// `shopsync trust rm KEY` revokes at once and for good: the connections
// authenticated with KEY end, no write crosses either way whichever node
// dials, the key is dialed no more (a static peer or uplink given with it is
// disabled), and a restart with the same flags keeps it revoked until
// `shopsync trust add`. Real shopsyncd processes on loopback; a peer found by
// mDNS is revoked in tests/discovery/node_lan_test.cc.
#include <algorithm>

#include <boost/test/unit_test.hpp>

#include "tests/node/support/node_process.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

using namespace std::chrono_literals;

// Long enough for several redials of both sides (at most 1 s apart with the
// tests' 2 s peer timeout): a write that can cross would have crossed.
constexpr auto kQuiet = 4s;

NodeProcess::Options options(TempDir& dir, const std::string& name) { return NodeProcess::Options::named(dir.path(), name); }

bool has(NodeProcess& node, const std::string& id) { return node.api().get({"customers", id}).is_ok(); }

// The state `at` shows for `peer` in `shopsync peers`.
std::string state_of(NodeProcess& at, const NodeProcess& peer) {
  auto peers = at.api().peers();
  if (!peers) return "?";
  for (const auto& p : peers->peers) {
    if (p.public_key == peer.public_key()) return p.state;
  }
  return "not listed";
}

void expect_in_sync(NodeProcess& a, NodeProcess& b, const std::string& tag) {
  put_name(a, "customers", tag + "_A", "from a");
  put_name(b, "customers", tag + "_B", "from b");
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return has(b, tag + "_A") && has(a, tag + "_B"); }, 15s),
                        a.log() << "\n----\n" << b.log());
}

// A write on each side after `revoker` revoked `other`'s key stays where it was written.
void expect_cut_off(NodeProcess& revoker, NodeProcess& other, const std::string& tag) {
  put_name(revoker, "customers", tag + "_REVOKER", "stays");
  put_name(other, "customers", tag + "_OTHER", "stays");
  const bool crossed = wait_until([&] { return has(other, tag + "_REVOKER") || has(revoker, tag + "_OTHER"); }, kQuiet);
  BOOST_TEST(!crossed, tag << ": a write crossed\n" << revoker.log() << "\n----\n" << other.log());
  BOOST_TEST(state_of(revoker, other) == "untrusted");
}

BOOST_AUTO_TEST_SUITE(node_revocation)

BOOST_AUTO_TEST_CASE(a_revoked_static_peer_stays_cut_off_both_ways_and_after_a_restart) {
  TempDir dir("shopsync-node");
  NodeProcess a(options(dir, "a"));
  NodeProcess b(options(dir, "b"));
  peer_each_other(a, b);  // both dial, both trust
  a.start();
  b.start();
  expect_in_sync(a, b, "BEFORE");

  BOOST_REQUIRE(a.api().distrust(b.public_key()).is_ok());
  expect_cut_off(a, b, "REVOKED");

  // Restarted with the same --peer flag: the revocation wins, and says how to undo it.
  BOOST_TEST(a.stop() == 0);
  a.start();
  expect_cut_off(a, b, "RESTARTED");
  auto peers = a.api().peers();
  BOOST_REQUIRE(peers.is_ok());
  BOOST_TEST(peers->peers.size() == 1u);  // b, shown once
  auto keys = a.api().trusted_keys();  // `shopsync trust ls` lists it as revoked, not trusted
  BOOST_REQUIRE(keys.is_ok());
  BOOST_TEST(std::none_of(keys->keys.begin(), keys->keys.end(), [&](const auto& k) { return k.key == b.public_key(); }));
  BOOST_REQUIRE(keys->revoked.size() == 1u);
  BOOST_TEST(keys->revoked[0].key == b.public_key());
  BOOST_TEST(keys->revoked[0].revoked_ms > 0u);

  // `shopsync trust add` lifts it: everything written meanwhile crosses.
  BOOST_REQUIRE(a.api().trust({b.public_key(), "b"}).is_ok());
  BOOST_TEST(wait_until([&] { return has(a, "RESTARTED_OTHER") && has(b, "RESTARTED_REVOKER") && has(b, "REVOKED_REVOKER"); },
                        15s),
             a.log());
  auto after = a.api().trusted_keys();
  BOOST_REQUIRE(after.is_ok());
  BOOST_TEST(after->revoked.empty());
}

BOOST_AUTO_TEST_CASE(a_branch_that_revokes_its_uplink_stays_cut_off_from_it) {
  TempDir dir("shopsync-node");
  NodeProcess uplink(options(dir, "cloud"));
  NodeProcess branch(options(dir, "branch"));
  uplink.options().extra = {"--role", "uplink"};
  uplink.options().trust = {branch.public_key()};
  branch.options().extra = {"--uplink", uplink.peer_spec()};
  uplink.start();
  branch.start();
  expect_in_sync(branch, uplink, "BEFORE");

  BOOST_REQUIRE(branch.api().distrust(uplink.public_key()).is_ok());
  expect_cut_off(branch, uplink, "REVOKED");

  BOOST_TEST(branch.stop() == 0);
  branch.start();
  expect_cut_off(branch, uplink, "RESTARTED");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
