#include "api/api_types.h"

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
