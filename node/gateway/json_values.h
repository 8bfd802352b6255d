// JSON <-> the record model, for the HTTP gateway.
//
// A record field holds the MessagePack encoding of ONE value
// (storage/record.h Field::packed). JSON null, booleans, integers (signed up to
// 64 bits, unsigned up to 2^64-1), floats, strings, arrays and objects map to
// the MessagePack types of the same kind and back. MessagePack values JSON
// cannot hold come out as: binary -> base64 string; a map with non-string keys
// or an extension type -> null (nothing crashes; docs/http-gateway.md).
//
// Parsing untrusted JSON: at most kMaxJsonDepth levels of nesting (checked
// before the parser runs, so deep input cannot exhaust the stack), UTF-8
// checked by the parser. Nothing here throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "storage/record.h"
#include "storage/status.h"

namespace shopsync::gateway {

using json = nlohmann::json;

inline constexpr int kMaxJsonDepth = 64;

// invalid_argument naming the problem ("malformed JSON at byte 17: ...",
// "JSON nested deeper than 64 levels").
Result<json> parse_json(std::string_view text);

// Compact JSON text; invalid UTF-8 in stored strings is replaced, not thrown.
std::string dump_json(const json& value);

// The MessagePack encoding of one JSON value.
std::string pack_value(const json& value);
// The JSON form of one packed value (see above for what JSON cannot hold).
json unpack_value(std::string_view packed);

// Visible fields as a JSON object (removed-field markers skipped).
json fields_to_json(const Fields& fields);

// "2025-01-15T11:00:00.000Z" (UTC, milliseconds).
std::string format_iso8601(std::uint64_t unix_ms);
// RFC 3339 / ISO-8601 date-time: "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)";
// a bare date "YYYY-MM-DD" means midnight UTC. nullopt when malformed or
// before 1970.
std::optional<std::uint64_t> parse_iso8601(std::string_view text);

}  // namespace shopsync::gateway
