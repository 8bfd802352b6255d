#include "tools/shopsync/json_values.h"

namespace shopsync::cli {

namespace {

constexpr auto kForm = json_values::BinaryForm::tagged_object;

}  // namespace

Result<json> to_json(std::string_view packed) { return json_values::decode_packed(packed, kForm); }

api::PackedValue to_packed(const json& value) { return json_values::json_to_packed(value, kForm); }

Result<json> fields_to_json(const api::FieldValues& fields) {
  json out = json::object();
  for (const auto& [name, packed] : fields) {
    auto value = to_json(packed);
    if (!value) return value.status().context("field '" + name + "'");
    out[name] = std::move(value).value();
  }
  return out;
}

Result<api::FieldValues> fields_from_json(const json& object) {
  if (!object.is_object()) return Status::invalid("a record must be a JSON object of field names to values");
  api::FieldValues out;
  for (auto it = object.begin(); it != object.end(); ++it) out.emplace(it.key(), to_packed(it.value()));
  return out;
}

Result<json> parse_json(std::string_view text, std::string_view what) {
  return json_values::parse_json(text, json_values::kNoDepthLimit, what);
}

Result<FieldArg> parse_field_arg(std::string_view arg) {
  const auto eq = arg.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return Status::invalid("'" + std::string(arg) + "' is not FIELD=TEXT or FIELD:=JSON");
  }
  const bool raw_json = arg[eq - 1] == ':';
  FieldArg out;
  out.name = std::string(arg.substr(0, raw_json ? eq - 1 : eq));
  if (out.name.empty()) return Status::invalid("'" + std::string(arg) + "' names no field");
  const auto text = arg.substr(eq + 1);
  if (raw_json) {
    auto value = parse_json(text, "the value of " + out.name);
    if (!value) return value.status();
    out.value = to_packed(*value);
  } else {
    out.value = to_packed(json(std::string(text)));
  }
  return out;
}

}  // namespace shopsync::cli
