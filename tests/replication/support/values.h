// Helpers for replication tests: MessagePack-packed field values and small
// record builders.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include <msgpack.hpp>

#include "replication/replica.h"

namespace shopsync {
inline std::ostream& operator<<(std::ostream& os, Errc code) { return os << to_string(code); }
}  // namespace shopsync

namespace shopsync::test {

template <class T>
std::string packed(const T& value) {
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, value);
  return std::string(buffer.data(), buffer.size());
}

inline FieldUpdate fields(std::initializer_list<std::pair<const std::string, std::optional<std::string>>> list,
                          bool replace = true) {
  FieldUpdate u;
  for (const auto& [k, v] : list) u.fields.emplace(k, v);
  u.replace = replace;
  return u;
}

inline std::string visible_value(const VisibleRecord& r, const std::string& field) {
  auto it = r.visible.fields.find(field);
  return it == r.visible.fields.end() ? std::string() : it->second.packed;
}

}  // namespace shopsync::test
