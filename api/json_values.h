// The JSON form of a field value, shared by the HTTP gateway, the shopsync CLI
// and shopsync-inspect. Target shopsync_json (with iso8601.h): it needs only
// nlohmann JSON and shopsync_storage, so all three can link it.
//
// A record field holds the MessagePack encoding of ONE value
// (storage/record.h Field::packed, api::PackedValue). JSON null, booleans,
// integers (signed up to 64 bits, unsigned up to 2^64-1), floats, strings,
// arrays and maps with string keys map to the MessagePack types of the same
// kind and back. What JSON cannot hold is written as each user documents it,
// chosen by a parameter here:
//   BinaryForm::base64_string  binary (and extension types) -> "<base64>"; a
//                              JSON object is always packed as a map. The
//                              gateway's form, for browser clients
//                              (docs/http-gateway.md).
//   BinaryForm::tagged_object  binary -> {"$binary": "<base64>"}, and exactly
//                              that object (one key, valid base64) is packed
//                              as binary. The CLI's and the inspector's form
//                              (docs/cli.md, docs/inspector.md).
//   Undecodable::null          bytes that do not decode (or a map with
//                              non-string keys) -> null (gateway).
//   Undecodable::hex_object    ... -> {"$undecodable": "<hex>"} (inspector).
//
// Parsing untrusted JSON: at most `max_depth` levels of nesting (checked
// before the parser runs, so deep input cannot exhaust the stack), UTF-8
// checked by the parser. Pure functions; nothing throws (nlohmann's
// exceptions are caught here); thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "storage/record.h"

namespace shopsync::json_values {

using json = nlohmann::json;

enum class BinaryForm { base64_string, tagged_object };
enum class Undecodable { null, hex_object };
struct ValueForm {
  BinaryForm binary;
  Undecodable undecodable;
};

inline constexpr int kMaxJsonDepth = 64;
inline constexpr int kNoDepthLimit = 0;

// invalid_argument naming the problem: "malformed JSON: parse error at line 1,
// column 2: ..." (with a `subject`: "<subject> is not valid JSON: parse error
// ...") or "JSON nested deeper than 64 levels". `max_depth` == kNoDepthLimit
// skips the depth check.
Result<json> parse_json(std::string_view text, int max_depth = kMaxJsonDepth, std::string_view subject = {});

// JSON text (compact for indent -1); invalid UTF-8 in strings is replaced.
// Never throws: should nlohmann still fail, an {"error": ...} object.
std::string dump_json(const json& value, int indent = -1);

// The MessagePack encoding of one JSON value.
std::string json_to_packed(const json& value, BinaryForm form);
// The JSON form of one packed value; corrupt ("a field value does not decode:
// ...") when the bytes are not exactly one MessagePack value JSON can hold.
Result<json> decode_packed(std::string_view packed, BinaryForm form);
// The same, never failing: undecodable bytes as `form.undecodable` says.
json packed_to_json(std::string_view packed, ValueForm form);
// Visible fields as a JSON object by name (removed-field markers skipped).
json fields_to_json(const Fields& fields, ValueForm form);

// Standard base64 (RFC 4648, with '=' padding). Decoding is strict: nullopt
// for a length not a multiple of 4, a character outside the alphabet or
// misplaced padding.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);
// Lower-case hex, two digits a byte.
std::string hex_encode(std::string_view bytes);

}  // namespace shopsync::json_values
