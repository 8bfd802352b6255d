// What Discovery can tell an operator about itself (`shopsync doctor`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "discovery/peer_event.h"

namespace shopsync::discovery {

struct InterfaceDiagnostics {
  int index = 0;
  std::string name;
  std::vector<std::string> addresses;  // numeric, IPv4 and IPv6
  // Whether this host is a member of the mDNS group on the interface
  // (224.0.0.251 / ff02::fb, read from /proc/net/igmp and igmp6): without it
  // nothing multicast is received there.
  bool joined_ipv4 = false;
  bool joined_ipv6 = false;
  // mDNS answers about `_shopsync._tcp` services received on this interface
  // (browse and resolve results): proof that multicast from others arrives.
  std::uint64_t answers_received = 0;
  std::uint64_t peers_seen = 0;  // paths to accepted peers currently known here
  // The kernel's IPv6 multicast counters for the interface, all programs
  // together (/proc/net/dev_snmp6): whether multicast moves on this link at
  // all. (Linux keeps no per-interface IPv4 multicast counters that every
  // driver fills in.)
  std::uint64_t kernel_ipv6_multicast_sent = 0;
  std::uint64_t kernel_ipv6_multicast_received = 0;
};

enum class RefusalReason {
  other_cluster,  // a node of another cluster: ignored
  malformed_txt,  // TXT missing a key, a bad value, over a size limit
  unsupported_txtvers,
  unresolved,     // no SRV/TXT/address answer in time (retried with backoff)
  too_many,       // over the limit of tracked services
};
std::string_view to_string(RefusalReason reason);

struct Refusal {
  std::string name;            // the instance name, as seen
  std::string interface_name;
  RefusalReason reason = RefusalReason::malformed_txt;
  std::string detail;          // e.g. "cluster \"other\"", "key: not 40 Z85 characters"
  std::uint64_t times = 0;     // how often this (name, interface, reason) was refused
};

// A peer whose records are being reconfirmed, or were (reconfirm.h).
struct ReconfirmDiagnostics {
  NodeId node_id = 0;
  std::string name;             // its instance name
  std::string state;            // "asking", "forgotten" (no answer in the window), "answered"
  std::uint64_t age_ms = 0;     // since the state began
  std::uint32_t queries = 0;    // sent since the failure
};

struct DiscoveryDiagnostics {
  std::string published_name;  // our instance name after any conflict renaming
  std::string host_name;       // our SRV target's host name (FQDN)
  bool publishing_addresses = false;  // false: coexisting with another responder on this host
  std::string state;  // "starting", "probing", "announced", "renaming", "failed: ...", "stopped"
  std::uint64_t name_conflicts = 0;  // service or host name conflicts resolved by renaming
  std::uint64_t mdns_reads = 0;      // times one of the responder's sockets was readable
  std::vector<InterfaceDiagnostics> interfaces;
  std::vector<PeerEvent> peers;      // current paths
  std::vector<Refusal> refused;      // at most 64, newest kept
  std::vector<ReconfirmDiagnostics> reconfirmations;
};

}  // namespace shopsync::discovery
