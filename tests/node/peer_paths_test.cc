// Which of discovery's paths to a peer is dialed, and which one a live
// connection runs over (issue #13, bug 6: `peers`, `doctor` and the log showed
// the IPv4 address while the connection ran over IPv6 link-local).
#include "node/peer_paths.h"

#include <boost/test/unit_test.hpp>

namespace shopsync {
namespace {

using discovery::IpFamily;
using discovery::PeerEvent;

PeerEvent path(std::string address, IpFamily family) {
  PeerEvent e;
  e.node_id = 7;
  e.address = std::move(address);
  e.family = family;
  e.port = 7460;
  e.interface_index = 2;
  e.interface_name = "eth0";
  return e;
}

BOOST_AUTO_TEST_SUITE(peer_paths)

BOOST_AUTO_TEST_CASE(ipv4_is_dialed_and_the_path_in_use_is_shown) {
  const std::vector<PeerEvent> paths = {path("fe80::1", IpFamily::ipv6), path("198.18.0.2", IpFamily::ipv4)};
  BOOST_TEST(best_path(paths)->address == "198.18.0.2");  // the docs: IPv4 first
  // A connection that runs over IPv6 link-local shows that path, not IPv4's.
  const PeerEvent* live = path_at(paths, host_of("[fe80::1%eth0]:7460"));
  BOOST_REQUIRE(live != nullptr);
  BOOST_TEST(live->address == "fe80::1");
  BOOST_TEST((live->family == IpFamily::ipv6));
  // An inbound IPv4 connection on a dual-stack socket reads as IPv4-mapped.
  const PeerEvent* v4 = path_at(paths, "::ffff:198.18.0.2");
  BOOST_REQUIRE(v4 != nullptr);
  BOOST_TEST(v4->address == "198.18.0.2");
  BOOST_TEST(path_at(paths, "203.0.113.9") == nullptr);  // over no path discovery knows
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync
