// JSON <-> the record model, for the HTTP gateway: the shared JSON form of a
// field value (api/json_values.h) in the gateway's convention, for
// browser clients (docs/http-gateway.md):
//   binary (and extension types) -> base64 string; a JSON object is always
//   stored as a map; bytes that do not decode, or a map with non-string
//   keys -> null (nothing crashes).
// Parsing untrusted JSON: at most kMaxJsonDepth (64) levels of nesting, UTF-8
// checked. Nothing here throws.
#pragma once

#include <string>
#include <string_view>

#include "api/iso8601.h"
#include "api/json_values.h"

namespace shopsync::gateway {

using json = nlohmann::json;

inline constexpr json_values::ValueForm kGatewayValueForm{json_values::BinaryForm::base64_string,
                                                          json_values::Undecodable::null};

using json_values::dump_json;       // compact; invalid UTF-8 replaced
using json_values::format_iso8601;  // "2025-01-15T11:00:00.000Z"
using json_values::kMaxJsonDepth;
using json_values::parse_iso8601;   // nullopt when malformed or before 1970

// invalid_argument naming the problem ("malformed JSON: ...", "JSON nested
// deeper than 64 levels").
inline Result<json> parse_json(std::string_view text) { return json_values::parse_json(text, kMaxJsonDepth); }

// The MessagePack encoding of one JSON value.
inline std::string pack_value(const json& value) {
  return json_values::json_to_packed(value, json_values::BinaryForm::base64_string);
}
// The JSON form of one packed value (null when it does not decode).
inline json unpack_value(std::string_view packed) { return json_values::packed_to_json(packed, kGatewayValueForm); }

// Visible fields as a JSON object (removed-field markers skipped).
inline json fields_to_json(const Fields& fields) { return json_values::fields_to_json(fields, kGatewayValueForm); }

// The string member `name` of the object `doc`; "" when it is absent or not a string.
inline std::string string_member(const json& doc, const char* name) {
  const auto it = doc.find(name);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace shopsync::gateway
