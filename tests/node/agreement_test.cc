// Real shopsyncd processes on loopback: what two nodes must agree on before
// they sync (the strategy table), and what a node says when it stops.
#include <thread>

#include <boost/test/unit_test.hpp>

#include "tests/node/support/node_process.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

using namespace std::chrono_literals;

NodeProcess::Options options(const TempDir& dir, const std::string& name, std::vector<std::string> extra = {}) {
  NodeProcess::Options o;
  o.data_dir = dir / name;
  o.name = name;
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
  a.options().peers = {b.peer_spec()};
  b.options().peers = {a.peer_spec()};
  a.start();
  b.start();
  put_name(a, "stock", "SKU_1", "from a");
  // Both sides show the peer refused, and why, whichever dialed.
  auto refused_for_stock = [](const api::PeerInfo& p) {
    return p.state == "refused" && p.last_error.find("conflict strategies differ") != std::string::npos &&
           p.last_error.find("stock: ") != std::string::npos && p.last_error.find("merge on 'a'") != std::string::npos &&
           p.last_error.find("newest_wins on 'b'") != std::string::npos;
  };
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return shows(a, refused_for_stock) && shows(b, refused_for_stock); }, 15s),
                        "a:\n" << peers_text(a) << a.log() << "\nb:\n" << peers_text(b) << b.log());
  BOOST_TEST(!shows(a, [](const api::PeerInfo& p) { return p.state == "connected"; }));
  BOOST_TEST(!b.api().get({"stock", "SKU_1"}).is_ok());
  BOOST_TEST(a.log_count("conflict strategies differ") > 0);
  BOOST_TEST(b.log_count("conflict strategies differ") > 0);
  BOOST_TEST(a.stop() == 0);
  BOOST_TEST(b.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
