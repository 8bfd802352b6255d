// Reading the kernel's multicast group lists for `shopsync doctor`.
#include "discovery/interfaces.h"

#include <boost/test/unit_test.hpp>

using namespace shopsync::discovery;

BOOST_AUTO_TEST_SUITE(interfaces)

BOOST_AUTO_TEST_CASE(igmp_lists_interfaces_with_the_mdns_group) {
  const std::string text =
      "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n"
      "1\tlo        :     1      V3\n"
      "\t\t\t\t010000E0     1 0:00000000\t\t0\n"
      "2\teth0      :     2      V3\n"
      "\t\t\t\tFB0000E0     1 0:00000000\t\t0\n"
      "\t\t\t\t010000E0     1 0:00000000\t\t0\n"
      "5\tveth-x    :     1      V3\n"
      "\t\t\t\tFB0000E0     1 0:00000000\t\t0\n";
  auto got = mdns_groups_from_igmp(text);
  BOOST_TEST(got == (std::vector<std::string>{"eth0", "veth-x"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(igmp6_lists_interfaces_with_the_mdns_group) {
  const std::string text =
      "1    lo              ff020000000000000000000000000001     1 0000000C 0\n"
      "2    eth0            ff0200000000000000000000000000fb     1 00000004 0\n"
      "2    eth0            ff020000000000000000000000000001     1 0000000C 0\n"
      "garbage\n";
  auto got = mdns_groups_from_igmp6(text);
  BOOST_TEST(got == (std::vector<std::string>{"eth0"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(kernel_ipv6_multicast_counters_are_read) {
  auto [in6, out6] = ipv6_multicast_from_dev_snmp6("Ip6InReceives 5\nIp6InMcastPkts\t87\nIp6OutMcastPkts \t103\n");
  BOOST_TEST(in6 == 87u);
  BOOST_TEST(out6 == 103u);
}

BOOST_AUTO_TEST_CASE(garbage_is_not_a_crash) {
  BOOST_TEST(mdns_groups_from_igmp("").empty());
  BOOST_TEST(mdns_groups_from_igmp("\t\t\tFB0000E0\n").empty());  // a group before any device
  BOOST_TEST(mdns_groups_from_igmp6("x y\n\n").empty());
  BOOST_TEST(ipv6_multicast_from_dev_snmp6("Ip6InMcastPkts notanumber\n").first == 0u);
}

BOOST_AUTO_TEST_CASE(loopback_only_when_asked_for) {
  for (const auto& i : list_mdns_interfaces({}, {})) BOOST_TEST(i.name != "lo");
  auto only_lo = list_mdns_interfaces({"lo"}, {});
  BOOST_REQUIRE(only_lo.size() == 1u);
  BOOST_TEST(only_lo[0].name == "lo");
  BOOST_TEST(list_mdns_interfaces({"lo"}, {"lo"}).empty());
}

// Another responder is told from ours by the inode of its UDP 5353 socket.
BOOST_AUTO_TEST_CASE(udp_5353_sockets_are_read_from_proc_net_udp) {
  const std::string udp =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
      "  123: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000   108        0 31337 2 0000 0\n"
      "  124: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000 0\n"
      "  125: FB0000E0:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 777 2 0000 0\n";
  BOOST_TEST(mdns_socket_inodes(udp) == (std::vector<std::uint64_t>{31337, 777}));
  const std::string udp6 =
      "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
      "  456: 00000000000000000000000000000000:14E9 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000   108        0 9001 2 0000 0\n";
  BOOST_TEST(mdns_socket_inodes(udp6) == (std::vector<std::uint64_t>{9001}));
  BOOST_TEST(mdns_socket_inodes("").empty());
  BOOST_TEST(mdns_socket_inodes("header\n 1: garbage\n\n").empty());
}

BOOST_AUTO_TEST_SUITE_END()
