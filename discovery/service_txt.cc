#include "discovery/service_txt.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "core/printable.h"

namespace shopsync::discovery {
namespace {

constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

// DNS-SD tools are case-insensitive about more than keys: the node id and
// role are read whatever their case (docs/discovery.md), then by core's one
// reader of each.
std::string lower(std::string_view v) {
  std::string out(v);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::uint32_t> parse_decimal32(std::string_view v) {
  if (v.empty() || v.size() > 10) return std::nullopt;
  std::uint32_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out, 10);
  if (ec != std::errc() || end != v.data() + v.size()) return std::nullopt;
  return out;
}

}  // namespace

bool is_valid_cluster_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxClusterName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

bool is_z85_key(std::string_view key) {
  return key.size() == kZ85KeyLength &&
         key.find_first_not_of(kZ85Alphabet) == std::string_view::npos;
}

Status validate_txt(const ServiceTxt& txt) {
  if (txt.protocol == 0) return Status::invalid("protocol version must be > 0");
  if (!is_valid_cluster_name(txt.cluster))
    return Status::invalid("cluster name must be 1 to 63 of [A-Za-z0-9._-], got \"" + printable(txt.cluster) + "\"");
  if (txt.node_id == 0) return Status::invalid("node id must not be 0");
  if (!is_z85_key(txt.public_key)) return Status::invalid("public key must be 40 Z85 characters");
  return Status::ok();
}

std::vector<std::string> encode_txt(const ServiceTxt& txt) {
  return {
      "txtvers=" + std::to_string(kTxtVersion),
      "proto=" + std::to_string(txt.protocol),
      "cluster=" + txt.cluster,
      "node=" + node_id_text(txt.node_id),
      "key=" + txt.public_key,
      "role=" + std::string(to_string(txt.role)),
  };
}

Result<ServiceTxt> decode_txt(const std::vector<std::string_view>& entries) {
  if (entries.size() > kMaxTxtEntries)
    return Status::too_large("TXT has " + std::to_string(entries.size()) + " entries (limit " +
                             std::to_string(kMaxTxtEntries) + ")");
  std::size_t total = 0;
  for (auto e : entries) {
    if (e.size() > kMaxTxtEntry) return Status::too_large("TXT entry longer than 255 bytes");
    total += e.size() + 1;
  }
  if (total > kMaxTxtTotal)
    return Status::too_large("TXT of " + std::to_string(total) + " bytes (limit " + std::to_string(kMaxTxtTotal) + ")");

  // First occurrence of each known key; RFC 6763 6.4 says later ones are ignored.
  static constexpr std::string_view kKeys[] = {"txtvers", "proto", "cluster", "node", "key", "role"};
  std::optional<std::string_view> values[std::size(kKeys)];
  for (auto e : entries) {
    auto eq = e.find('=');
    std::string_view key = e.substr(0, eq);
    if (key.empty()) continue;  // RFC 6763 6.4: an entry without a key is silently ignored
    for (std::size_t k = 0; k < std::size(kKeys); ++k) {
      if (!values[k] && iequals(key, kKeys[k])) {
        // A key without '=' is a boolean attribute: present, no value.
        values[k] = eq == std::string_view::npos ? std::string_view() : e.substr(eq + 1);
      }
    }
  }
  // The version first: a later txtvers may well have other keys.
  if (!values[0]) return Status::corrupt("TXT lacks the key \"txtvers\"");
  auto txtvers = parse_decimal32(*values[0]);
  if (!txtvers) return Status::corrupt("txtvers: not a number: \"" + printable(*values[0]) + "\"");
  if (*txtvers != kTxtVersion)
    return Status::protocol("txtvers=" + std::to_string(*txtvers) + " is not supported (this node reads 1)");
  for (std::size_t k = 1; k < std::size(kKeys); ++k) {
    if (!values[k]) return Status::corrupt("TXT lacks the key \"" + std::string(kKeys[k]) + "\"");
  }

  ServiceTxt out;
  auto proto = parse_decimal32(*values[1]);
  if (!proto || *proto == 0) return Status::corrupt("proto: not a positive number: \"" + printable(*values[1]) + "\"");
  out.protocol = *proto;

  if (!is_valid_cluster_name(*values[2]))
    return Status::corrupt("cluster: not 1 to 63 of [A-Za-z0-9._-]: \"" + printable(*values[2]) + "\"");
  out.cluster = std::string(*values[2]);

  auto node = parse_node_id(lower(*values[3]));
  if (!node || *node == 0) return Status::corrupt("node: not 16 hex digits: \"" + printable(*values[3]) + "\"");
  out.node_id = *node;

  if (!is_z85_key(*values[4])) return Status::corrupt("key: not 40 Z85 characters: \"" + printable(*values[4]) + "\"");
  out.public_key = std::string(*values[4]);

  auto role = parse_role(lower(*values[5]));
  if (!role) return Status::corrupt("role: not peer or uplink: \"" + printable(*values[5]) + "\"");
  out.role = *role;

  return out;
}

}  // namespace shopsync::discovery
