#include "node/api/api_types.h"

#include <array>
#include <charconv>

namespace shopsync::api {

namespace {

constexpr std::array<std::pair<Op, std::string_view>, 22> kOps{{
    {Op::put, "put"},
    {Op::get, "get"},
    {Op::remove, "delete"},
    {Op::list, "list"},
    {Op::collections, "collections"},
    {Op::changes, "changes"},
    {Op::conflicts, "conflicts"},
    {Op::resolve, "resolve"},
    {Op::status, "status"},
    {Op::peers, "peers"},
    {Op::trust_add, "trust_add"},
    {Op::trust_list, "trust_list"},
    {Op::trust_remove, "trust_remove"},
    {Op::key, "key"},
    {Op::discovery, "discovery"},
    {Op::forget_peer, "forget_peer"},
    {Op::token_create, "token_create"},
    {Op::token_list, "token_list"},
    {Op::token_revoke, "token_revoke"},
}};

template <class T>
bool parse_number(std::string_view text, T& out, int base) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out, base);
  return ec == std::errc() && ptr == end;
}

}  // namespace

std::string_view to_string(Op op) {
  for (const auto& [o, name] : kOps) {
    if (o == op) return name;
  }
  return "?";
}

std::optional<Op> parse_op(std::string_view name) {
  for (const auto& [o, n] : kOps) {
    if (n == name) return o;
  }
  return std::nullopt;
}

Op op_of(const RequestBody& body) {
  // The variant's alternatives are listed in the order of Op.
  return static_cast<Op>(body.index());
}

std::string format_node_id(NodeId id) {
  char buf[17];
  auto [ptr, ec] = std::to_chars(buf, buf + 16, id, 16);
  (void)ec;
  std::string digits(buf, ptr);
  return std::string(16 - digits.size(), '0') + digits;
}

std::optional<NodeId> parse_node_id(std::string_view text) {
  if (text.size() > 16) return std::nullopt;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return std::nullopt;
  }
  NodeId id = 0;
  if (!parse_number(text, id, 16)) return std::nullopt;
  return id;
}

std::string format_dot(const Dot& dot) { return format_node_id(dot.origin) + ":" + std::to_string(dot.counter); }

std::optional<Dot> parse_dot(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto origin = parse_node_id(text.substr(0, colon));
  std::uint64_t counter = 0;
  const auto digits = text.substr(colon + 1);
  if (!origin || digits.empty() || digits.front() == '+' || !parse_number(digits, counter, 10)) {
    return std::nullopt;
  }
  return Dot{*origin, counter};
}

std::string format_cursor(const ChangeCursor& cursor) {
  std::string out;
  for (const auto& [node, counter] : cursor.entries()) {
    if (!out.empty()) out += ',';
    out += format_dot(Dot{node, counter});
  }
  return out;
}

std::optional<ChangeCursor> parse_cursor(std::string_view text) {
  ChangeCursor cursor;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto part = text.substr(0, comma);
    auto dot = parse_dot(part);
    if (!dot) return std::nullopt;
    cursor.advance(*dot);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (text.empty()) return std::nullopt;  // trailing comma
  }
  return cursor;
}

namespace {

constexpr std::array<std::pair<Errc, std::string_view>, 12> kErrcNames{{
    {Errc::ok, "ok"},
    {Errc::not_found, "not_found"},
    {Errc::invalid_argument, "invalid_argument"},
    {Errc::too_large, "too_large"},
    {Errc::corrupt, "corrupt"},
    {Errc::newer_schema, "newer_schema"},
    {Errc::not_shopsync, "not_shopsync"},
    {Errc::disk_full, "disk_full"},
    {Errc::io_error, "io_error"},
    {Errc::protocol, "protocol"},
    {Errc::refused, "refused"},
    {Errc::unavailable, "unavailable"},
}};

}  // namespace

std::string_view errc_name(Errc code) {
  for (const auto& [c, name] : kErrcNames) {
    if (c == code) return name;
  }
  return "io_error";  // a code newer than this table: the closest generic one
}

std::optional<Errc> parse_errc(std::string_view name) {
  for (const auto& [c, n] : kErrcNames) {
    if (n == name) return c;
  }
  return std::nullopt;
}

}  // namespace shopsync::api
