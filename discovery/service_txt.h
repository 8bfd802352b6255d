// The TXT record of a `_shopsync._tcp` service (docs/discovery.md, "TXT keys"):
//
//   txtvers=1  proto=<decimal>  cluster=<name>  node=<16 hex digits>
//   key=<CURVE public key, 40 Z85 characters>  role=peer|uplink
//
// Decoding reads untrusted bytes from the network: every entry and the whole
// record have size limits, keys compare case-insensitively, the first of a
// repeated key wins (RFC 6763, 6.4), unknown keys are ignored (later versions
// may add some), and any violation is an error value, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "discovery/peer_event.h"

namespace shopsync::discovery {

inline constexpr int kTxtVersion = 1;
inline constexpr std::size_t kMaxTxtEntry = 255;     // one DNS character-string
inline constexpr std::size_t kMaxTxtEntries = 32;
inline constexpr std::size_t kMaxTxtTotal = 1300;    // bytes, RFC 6763 6.2's advice
inline constexpr std::size_t kMaxClusterName = 63;
inline constexpr std::size_t kZ85KeyLength = 40;     // Z85 of a 32-byte key

struct ServiceTxt {
  std::uint32_t protocol = 0;
  std::string cluster;
  NodeId node_id = 0;
  std::string public_key;
  Role role = Role::peer;
  bool operator==(const ServiceTxt&) const = default;
};

// The entries, in this order: txtvers, proto, cluster, node, key, role.
// REQUIRES: the fields are valid (validate_txt() is ok).
std::vector<std::string> encode_txt(const ServiceTxt& txt);

// Errc::invalid_argument naming the first bad field.
Status validate_txt(const ServiceTxt& txt);

// Errc::corrupt for a malformed record (the message names the key and what is
// wrong), Errc::too_large over a size limit, Errc::protocol for a txtvers other
// than 1 (a newer, incompatible announcement).
Result<ServiceTxt> decode_txt(const std::vector<std::string_view>& entries);

// Helpers shared with the announcement checks.
bool is_valid_cluster_name(std::string_view name);
bool is_z85_key(std::string_view key);

}  // namespace shopsync::discovery
