// Real shopsyncd processes on loopback: what two nodes must agree on before
// they sync (the strategy table), and what a node says when it stops.
#include <thread>

#include <boost/test/unit_test.hpp>

#include "tests/node/support/node_process.h"
#include "tests/support/temp_dir.h"
#include "tests/tools/child.h"

namespace shopsync::test {
namespace {

using namespace std::chrono_literals;

NodeProcess::Options options(const TempDir& dir, const std::string& name, std::vector<std::string> extra = {}) {
  NodeProcess::Options o = NodeProcess::Options::named(dir.path(), name);
  o.extra = std::move(extra);
  return o;
}

// The peer rows of `node` (empty when the API does not answer).
std::vector<api::PeerInfo> peers_of(NodeProcess& node) {
  auto peers = node.api().peers();
  return peers ? peers->peers : std::vector<api::PeerInfo>{};
}

bool shows(NodeProcess& node, const std::function<bool(const api::PeerInfo&)>& row) {
  for (const auto& p : peers_of(node)) {
    if (row(p)) return true;
  }
  return false;
}

std::string peers_text(NodeProcess& node) {
  std::string out;
  for (const auto& p : peers_of(node)) out += p.name + " " + p.address + " " + p.state + ": " + p.last_error + "\n";
  return out;
}

BOOST_AUTO_TEST_SUITE(node_agreement)

BOOST_AUTO_TEST_CASE(nodes_with_different_strategies_refuse_each_other_and_say_why) {
  TempDir dir("shopsync-node");
  NodeProcess a(options(dir, "a", {"--strategy", "stock=merge"}));
  NodeProcess b(options(dir, "b"));
  peer_each_other(a, b);
  a.start();
  b.start();
  // Both sides show the peer refused, and why, whichever dialed.
  auto refused_for_stock = [](const api::PeerInfo& p) {
    return p.state == "refused" && p.last_error.find("conflict strategies differ") != std::string::npos &&
           p.last_error.find("stock: ") != std::string::npos && p.last_error.find("merge on 'a'") != std::string::npos &&
           p.last_error.find("newest_wins on 'b'") != std::string::npos;
  };
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return shows(a, refused_for_stock) && shows(b, refused_for_stock); }, 15s),
                        "a:\n" << peers_text(a) << a.log() << "\nb:\n" << peers_text(b) << b.log());
  BOOST_TEST(!shows(a, [](const api::PeerInfo& p) { return p.state == "connected"; }));
#ifdef SHOPSYNC_INSPECT_BIN  // built with the tools
  // Same (no) data and knowledge, but not identical: the same versions would
  // show different values.
  const ChildResult diff = run_child({SHOPSYNC_INSPECT_BIN, "diff", a.options().data_dir.string(),
                                      b.options().data_dir.string()}, 30s);
  BOOST_TEST(diff.exit_code == 1, diff.out << diff.err);
  BOOST_TEST(diff.out.find("strategies differ") != std::string::npos, diff.out);
  BOOST_TEST(diff.out.find("stock: merge on A, newest_wins on B") != std::string::npos, diff.out);
#endif
  // And nothing crosses.
  put_name(a, "stock", "SKU_1", "from a");
  std::this_thread::sleep_for(500ms);
  BOOST_TEST(!b.api().get({"stock", "SKU_1"}).is_ok());
  BOOST_TEST(a.stop() == 0);
  BOOST_TEST(b.stop() == 0);
}

BOOST_AUTO_TEST_CASE(a_node_that_stops_says_goodbye_and_its_peer_redials_when_it_is_back) {
  TempDir dir("shopsync-node");
  // A peer timeout far longer than the test waits: only the goodbye can end
  // the session in time.
  const std::vector<std::string> patient = {"--peer-timeout-ms", "600000"};
  NodeProcess a(options(dir, "a", patient));
  NodeProcess b(options(dir, "b", patient));
  peer_each_other(a, b);
  a.start();
  b.start();
  auto b_at_a = [&](const std::function<bool(const api::PeerInfo&)>& row) {
    return shows(a, [&](const api::PeerInfo& p) { return p.name == "b" && row(p); });
  };
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return b_at_a([](auto& p) { return p.state == "connected"; }); }, 15s),
                        peers_text(a) << a.log());
  BOOST_REQUIRE(b.stop() == 0);
  BOOST_REQUIRE_MESSAGE(wait_until([&] {
    return b_at_a([](auto& p) { return p.state != "connected" && p.last_error == "it said goodbye: stopped"; });
  }, 20s), peers_text(a) << a.log());
  // Back again: the pair reconnects (a redials, or b dials a) and syncs.
  b.start();
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return b_at_a([](auto& p) { return p.state == "connected"; }); }, 20s),
                        peers_text(a) << a.log());
  put_name(a, "customers", "AFTER_GOODBYE", "back");
  BOOST_TEST(wait_until([&] { return b.api().get({"customers", "AFTER_GOODBYE"}).is_ok(); }, 15s), b.log());
  BOOST_TEST(a.stop() == 0);
  BOOST_TEST(b.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
