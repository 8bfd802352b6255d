// The identity of one write, and its one text form.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/node_id.h"
#include "core/status.h"

namespace shopsync {

// The node that made a write and that node's counter.
struct Dot {
  NodeId origin = 0;
  std::uint64_t counter = 0;
  auto operator<=>(const Dot&) const = default;
};

// "<origin as node_id_text>:<counter in decimal>", e.g. "00000000deadbeef:42":
// the local API, JSON, logs, the inspector, `shopsync resolve --pick`.
std::string dot_text(const Dot& dot);

// The inverse of dot_text; invalid_argument quoting the text otherwise.
Result<Dot> parse_dot(std::string_view text);

}  // namespace shopsync
