#include "api/json_values.h"

#include <algorithm>
#include <exception>
#include <vector>

namespace shopsync::json_values {

namespace {

constexpr std::string_view kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr const char* kBinaryKey = "$binary";

// Nesting depth of JSON text, ignoring brackets inside strings. A cheap scan
// that lets the recursive parser see only input it can handle.
int nesting_depth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// nlohmann keeps MessagePack bin (and ext) as a json binary; write it as `form` says.
void binary_to_text(json& value, BinaryForm form) {
  if (value.is_binary()) {
    const auto& bytes = value.get_binary();
    std::string text = base64_encode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    if (form == BinaryForm::base64_string) {
      value = std::move(text);
    } else {
      value = json{{kBinaryKey, std::move(text)}};
    }
  } else if (value.is_structured()) {
    for (auto& element : value) binary_to_text(element, form);
  }
}

// {"$binary": "<base64>"} (exactly that one key, valid base64) -> binary, at any depth.
json text_to_binary(const json& value) {
  if (value.is_object()) {
    if (value.size() == 1 && value.contains(kBinaryKey) && value[kBinaryKey].is_string()) {
      if (auto bytes = base64_decode(value[kBinaryKey].get_ref<const std::string&>())) {
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

Result<json> parse_json(std::string_view text, int max_depth, std::string_view subject) {
  if (max_depth != kNoDepthLimit && nesting_depth(text) > max_depth) {
    return Status::invalid("JSON nested deeper than " + std::to_string(max_depth) + " levels");
  }
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." -> after the tag.
    if (const auto close = what.find("] "); close != std::string::npos) what = what.substr(close + 2);
    if (subject.empty()) return Status::invalid("malformed JSON: " + what);
    return Status::invalid(std::string(subject) + " is not valid JSON: " + what);
  }
}

std::string dump_json(const json& value, int indent) {
  try {
    return value.dump(indent, ' ', false, json::error_handler_t::replace);
  } catch (const std::exception& e) {
    return std::string("{\"error\":\"cannot serialize: ") + e.what() + "\"}";
  }
}

std::string json_to_packed(const json& value, BinaryForm form) {
  std::vector<std::uint8_t> bytes =
      form == BinaryForm::tagged_object ? json::to_msgpack(text_to_binary(value)) : json::to_msgpack(value);
  return std::string(bytes.begin(), bytes.end());
}

Result<json> decode_packed(std::string_view packed, BinaryForm form) {
  try {
    json value = json::from_msgpack(packed.begin(), packed.end(), /*strict=*/true, /*allow_exceptions=*/true);
    binary_to_text(value, form);
    return value;
  } catch (const std::exception& e) {
    return Status::corrupt(std::string("a field value does not decode: ") + e.what());
  }
}

json packed_to_json(std::string_view packed, ValueForm form) {
  auto value = decode_packed(packed, form.binary);
  if (value) return std::move(value).value();
  if (form.undecodable == Undecodable::hex_object) return json{{"$undecodable", hex_encode(packed)}};
  return nullptr;
}

json fields_to_json(const Fields& fields, ValueForm form) {
  json out = json::object();
  for (const auto& [name, field] : fields) {
    if (!field.removed()) out[name] = packed_to_json(field.packed, form);
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
  out.reserve(text.size() / 4 * 3);
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

std::string hex_encode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

}  // namespace shopsync::json_values
