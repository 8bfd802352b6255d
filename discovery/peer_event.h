// What Discovery reports about one path to one peer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/node_id.h"
#include "core/role.h"

namespace shopsync::discovery {

enum class IpFamily { ipv4, ipv6 };

// A peer is reported once per path: per interface it was seen on and per IP
// family. A node seen on two interfaces, or over IPv4 and IPv6, yields one
// `found` per path and has vanished when every path was `lost`. `found` is
// repeated for a path whose data changed (address, port, TXT): treat it as an
// upsert keyed by (node_id, interface_index, family).
struct PeerEvent {
  enum class Kind { found, lost };
  Kind kind = Kind::found;

  // From the TXT record: claims, not proof (trust comes from CURVE).
  NodeId node_id = 0;
  std::string cluster;
  Role role = Role::peer;
  std::string public_key;  // Z85
  std::uint32_t protocol = 0;

  std::string name;       // DNS-SD instance name (the node name)
  std::string host_name;  // SRV target, e.g. "shop1.local"
  std::string address;    // numeric, e.g. "198.18.0.2" or "fe80::1" (no scope)
  IpFamily family = IpFamily::ipv4;
  std::uint16_t port = 0;
  int interface_index = 0;     // where the peer was seen; the scope of a link-local address
  std::string interface_name;  // e.g. "eth0"
  // For `lost`: why, when it is not the usual goodbye or expiry (e.g. "no
  // answer to mDNS reconfirm queries within 10 s").
  std::string why;

  // The host to dial on this path: "198.18.0.2", or for IPv6 "[fe80::1%eth0]"
  // (link-local addresses carry the interface; IPv6 needs ZMQ_IPV6 on the socket).
  std::string dial_host() const;
  // A ZeroMQ endpoint for this path: "tcp://" + dial_host() + ":" + port.
  std::string zmq_endpoint() const;
};

std::string_view to_string(PeerEvent::Kind kind);

}  // namespace shopsync::discovery
