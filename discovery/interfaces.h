// The network interfaces mDNS can use on this host, and whether this host has
// joined the mDNS multicast groups on them (for diagnostics only: the responder
// does its own interface tracking).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "discovery/diagnostics.h"

namespace shopsync::discovery {

// Interfaces that are up and multicast-capable (and the loopback interface
// when it is named in `allow`), minus `deny`, restricted to `allow` when it is
// not empty. answers_received and peers_seen are left 0. Never fails: an
// unreadable /proc leaves joined_* false.
std::vector<InterfaceDiagnostics> list_mdns_interfaces(const std::vector<std::string>& allow,
                                                       const std::vector<std::string>& deny);

// Parsers of /proc/net/igmp and /proc/net/igmp6 text: the names of the
// interfaces where 224.0.0.251 resp. ff02::fb is joined. Exposed for tests.
std::vector<std::string> mdns_groups_from_igmp(const std::string& proc_net_igmp);
std::vector<std::string> mdns_groups_from_igmp6(const std::string& proc_net_igmp6);

// Parser of one /proc/net/dev_snmp6/<interface> file: IPv6 multicast packets
// in and out. Missing or malformed entries read as 0. Exposed for tests.
std::pair<std::uint64_t, std::uint64_t> ipv6_multicast_from_dev_snmp6(const std::string& dev_snmp6);

// True when something on this host already has UDP port 5353 bound (an
// avahi-daemon or another node): found by trying to bind it without
// SO_REUSEADDR, which fails while any other socket holds it.
bool mdns_port_taken();

// The inodes of the UDP sockets bound to port 5353 in /proc/net/udp or
// /proc/net/udp6 text (this network namespace's). Exposed for tests.
std::vector<std::uint64_t> mdns_socket_inodes(const std::string& proc_net_udp);

// True when a socket other than `own` (the inodes of our responder's sockets)
// holds UDP 5353 on this host: another responder (avahi-daemon, another node)
// still runs. Unlike mdns_port_taken(), usable while we hold the port too.
bool mdns_port_held_by_others(const std::vector<std::uint64_t>& own);

}  // namespace shopsync::discovery
