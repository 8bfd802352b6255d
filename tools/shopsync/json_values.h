// JSON <-> MessagePack for field values, as the shopsync CLI shows and reads them.
//
// A field value crosses the local API as the MessagePack encoding of one value
// (api::PackedValue). In JSON: nil -> null, bool, integers, floats, strings,
// arrays and maps as themselves; binary as {"$binary": "<base64>"} (and that
// object, with exactly that one key, is read back as binary): the shared
// implementation (api/json_values.h) with BinaryForm::tagged_object.
//
// Pure functions; nothing throws (nlohmann's exceptions are caught there).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/api_types.h"
#include "api/json_values.h"
#include "core/status.h"

namespace shopsync::cli {

using nlohmann::json;

// The JSON form of one packed value; corrupt when the bytes do not decode.
Result<json> to_json(std::string_view packed);
// The packed form of one JSON value.
api::PackedValue to_packed(const json& value);

// Field map <-> JSON object.
Result<json> fields_to_json(const api::FieldValues& fields);
// invalid_argument unless `object` is a JSON object.
Result<api::FieldValues> fields_from_json(const json& object);

// Parses JSON text (no depth limit); invalid_argument naming `what` and the
// position on error.
Result<json> parse_json(std::string_view text, std::string_view what);

// One FIELD=VALUE argument: "name=Ada" sets the string "Ada"; "age:=36" sets
// the JSON value 36 (any JSON: true, null, [1,2], {"a":1}, "text").
struct FieldArg {
  std::string name;
  api::PackedValue value;
};
Result<FieldArg> parse_field_arg(std::string_view arg);

}  // namespace shopsync::cli
