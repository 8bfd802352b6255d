#include "tools/shopsync/json_values.h"

#include <cstdint>
#include <vector>

namespace shopsync::cli {

namespace {

constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBinaryKey = "$binary";

// nlohmann keeps MessagePack bin as a binary value; show it as base64.
void binary_to_text(json& value) {
  if (value.is_binary()) {
    const auto& bytes = value.get_binary();
    value = json{{std::string(kBinaryKey), base64_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()),
                                                                          bytes.size()))}};
  } else if (value.is_structured()) {
    for (auto& element : value) binary_to_text(element);
  }
}

json text_to_binary(const json& value) {
  if (value.is_object()) {
    if (value.size() == 1 && value.contains(kBinaryKey) && value[std::string(kBinaryKey)].is_string()) {
      if (auto bytes = base64_decode(value[std::string(kBinaryKey)].get<std::string>())) {
        return json::binary(std::vector<std::uint8_t>(bytes->begin(), bytes->end()));
      }
    }
    json out = json::object();
    for (auto it = value.begin(); it != value.end(); ++it) out[it.key()] = text_to_binary(it.value());
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const auto& element : value) out.push_back(text_to_binary(element));
    return out;
  }
  return value;
}

}  // namespace

Result<json> to_json(std::string_view packed) {
  try {
    json value = json::from_msgpack(packed.begin(), packed.end());
    binary_to_text(value);
    return value;
  } catch (const std::exception& e) {
    return Status::corrupt(std::string("a field value does not decode: ") + e.what());
  }
}

api::PackedValue to_packed(const json& value) {
  std::vector<std::uint8_t> bytes = json::to_msgpack(text_to_binary(value));
  return api::PackedValue(bytes.begin(), bytes.end());
}

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
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return Status::invalid(std::string(what) + " is not valid JSON: " + e.what());
  }
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

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t{static_cast<std::uint8_t>(bytes[i])} << 16) |
                            (std::uint32_t{static_cast<std::uint8_t>(bytes[i + 1])} << 8) |
                            static_cast<std::uint8_t>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out += kBase64[(n >> shift) & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = std::uint32_t{static_cast<std::uint8_t>(bytes[i])} << 16;
    if (rest == 2) n |= std::uint32_t{static_cast<std::uint8_t>(bytes[i + 1])} << 8;
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += rest == 2 ? kBase64[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t n = 0;
    int pad = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      std::uint32_t v = 0;
      if (c == '=') {
        // Padding only at the very end, in the last one or two places.
        if (i + 4 != text.size() || j < 2) return std::nullopt;
        ++pad;
      } else {
        if (pad > 0) return std::nullopt;
        const auto pos = kBase64.find(c);
        if (pos == std::string_view::npos) return std::nullopt;
        v = static_cast<std::uint32_t>(pos);
      }
      n = (n << 6) | v;
    }
    out += static_cast<char>((n >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

}  // namespace shopsync::cli
