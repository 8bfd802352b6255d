#include "core/version_vector.h"

#include <charconv>
#include <cstdio>

namespace shopsync {

std::string node_hex(NodeId id) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string knowledge_to_text(const VersionVector& vv) {
  std::string out;
  for (const auto& [node, counter] : vv.entries()) {
    if (!out.empty()) out += ',';
    out += node_hex(node);
    out += ':';
    out += std::to_string(counter);
  }
  return out;
}

Result<VersionVector> knowledge_from_text(std::string_view text) {
  VersionVector vv;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view entry = text.substr(0, comma);
    if (comma != std::string_view::npos && comma + 1 == text.size()) {
      return Status::corrupt("knowledge text ends with ','");
    }
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const auto colon = entry.find(':');
    NodeId node = 0;
    std::uint64_t counter = 0;
    bool good = colon != std::string_view::npos && colon > 0 && colon + 1 < entry.size();
    if (good) {
      const char* nb = entry.data();
      const auto rn = std::from_chars(nb, nb + colon, node, 16);
      const auto rc = std::from_chars(nb + colon + 1, nb + entry.size(), counter, 10);
      good = rn.ec == std::errc{} && rn.ptr == nb + colon && rc.ec == std::errc{} && rc.ptr == nb + entry.size();
    }
    if (!good) return Status::corrupt("bad knowledge entry '" + std::string(entry) + "'");
    vv.set(node, counter);
  }
  return vv;
}

}  // namespace shopsync
