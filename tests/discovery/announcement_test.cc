// What Discovery::start() refuses before it opens any socket (no network here).
#include <boost/test/unit_test.hpp>

#include "discovery/discovery.h"

using namespace shopsync;
using namespace shopsync::discovery;

namespace {

Announcement good() {
  Announcement a;
  a.name = "shop 1 – till";
  a.port = 7460;
  a.cluster = "acme";
  a.node_id = 42;
  a.public_key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  return a;
}

void ignore(const PeerEvent&) {}

}  // namespace

BOOST_AUTO_TEST_SUITE(announcement)

BOOST_AUTO_TEST_CASE(valid_announcement_passes) { BOOST_TEST(validate(good()).is_ok()); }

BOOST_AUTO_TEST_CASE(bad_announcements_are_refused_by_start) {
  std::vector<Announcement> bad(7, good());
  bad[0].name = "";
  bad[1].name = std::string(64, 'n');
  bad[2].name = "tab\there";
  bad[3].port = 0;
  bad[4].cluster = "no spaces";
  bad[5].node_id = 0;
  bad[6].public_key = "not-a-key";
  for (const auto& a : bad) {
    auto d = Discovery::start(a, DiscoveryOptions{}, ignore);
    BOOST_REQUIRE(!d.is_ok());
    BOOST_TEST((d.status().code() == Errc::invalid_argument), d.status().message());
  }
}

BOOST_AUTO_TEST_CASE(bad_options_are_refused_by_start) {
  DiscoveryOptions o;
  o.record_ttl = std::chrono::seconds(0);
  BOOST_TEST((Discovery::start(good(), o, ignore).status().code() == Errc::invalid_argument));
  o = {};
  o.use_ipv4 = o.use_ipv6 = false;
  BOOST_TEST((Discovery::start(good(), o, ignore).status().code() == Errc::invalid_argument));
  o = {};
  o.host_name = "two.labels";
  BOOST_TEST((Discovery::start(good(), o, ignore).status().code() == Errc::invalid_argument));
  BOOST_TEST((Discovery::start(good(), {}, nullptr).status().code() == Errc::invalid_argument));
}

BOOST_AUTO_TEST_CASE(zmq_endpoints) {
  PeerEvent e;
  e.address = "198.18.0.2";
  e.port = 7460;
  BOOST_TEST(e.zmq_endpoint() == "tcp://198.18.0.2:7460");
  e.family = IpFamily::ipv6;
  e.address = "fe80::1";
  e.interface_name = "eth0";
  BOOST_TEST(e.zmq_endpoint() == "tcp://[fe80::1%eth0]:7460");
  BOOST_TEST(e.dial_host() == "[fe80::1%eth0]");
  e.address = "2001:2::5";
  BOOST_TEST(e.zmq_endpoint() == "tcp://[2001:2::5]:7460");
  BOOST_TEST(e.dial_host() == "[2001:2::5]");
}

BOOST_AUTO_TEST_SUITE_END()
