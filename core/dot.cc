#include "core/dot.h"

#include <charconv>

#include "core/printable.h"

namespace shopsync {

std::string dot_text(const Dot& dot) { return node_id_text(dot.origin) + ":" + std::to_string(dot.counter); }

Result<Dot> parse_dot(std::string_view text) {
  auto bad = [&] {
    return Status::invalid("not a dot (<16 lowercase hex digits>:<counter>): '" + printable(text, 40) + "'");
  };
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return bad();
  auto origin = parse_node_id(text.substr(0, colon));
  const std::string_view digits = text.substr(colon + 1);
  std::uint64_t counter = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), counter, 10);
  if (!origin || digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) return bad();
  return Dot{*origin, counter};
}

}  // namespace shopsync
