#include "tools/inspect/values.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include "replication/hlc.h"
#include "replication/knowledge_text.h"

namespace shopsync::inspect {

namespace {

std::string base64(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < bytes.size()) {
    std::uint32_t n = std::uint32_t{bytes[i]} << 16;
    if (i + 1 < bytes.size()) n |= std::uint32_t{bytes[i + 1]} << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

// nlohmann keeps MessagePack bin as a json binary; show it as {"$binary": ...}.
void replace_binary(json& v) {
  if (v.is_binary()) {
    v = json{{"$binary", base64(v.get_binary())}};
  } else if (v.is_array() || v.is_object()) {
    for (auto& child : v) replace_binary(child);
  }
}

}  // namespace

json packed_to_json(std::string_view packed) {
  json v;
  try {
    v = json::from_msgpack(packed.begin(), packed.end(), /*strict=*/true, /*allow_exceptions=*/false);
  } catch (const std::exception&) {
    v = json(json::value_t::discarded);
  }
  if (v.is_discarded()) return json{{"$undecodable", hex(packed)}};
  replace_binary(v);
  return v;
}

json fields_to_json(const Fields& fields) {
  json out = json::object();
  for (const auto& [name, field] : fields) {
    if (!field.removed()) out[name] = packed_to_json(field.packed);
  }
  return out;
}

std::string iso_time(std::uint64_t unix_ms) {
  if (unix_ms == 0) return "";
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned>(unix_ms % 1000));
  return buf;
}

json hlc_json(Hlc hlc) {
  return json{{"hlc", hlc}, {"time", iso_time(HybridClock::wall_ms(hlc))}, {"logical", HybridClock::logical(hlc)}};
}

json time_json(std::uint64_t unix_ms) {
  if (unix_ms == 0) return nullptr;
  return json{{"ms", unix_ms}, {"time", iso_time(unix_ms)}};
}

std::string node_text(NodeId id) { return node_hex(id); }

std::string dot_text(const Dot& dot) { return node_hex(dot.origin) + ":" + std::to_string(dot.counter); }

json vv_json(const VersionVector& vv) {
  json out = json::object();
  for (const auto& [node, counter] : vv.entries()) out[node_hex(node)] = counter;
  return out;
}

std::string format_duration(std::uint64_t ms) {
  if (ms < 1000) return std::to_string(ms) + "ms";
  const std::uint64_t s = ms / 1000;
  if (s < 60) return std::to_string(s) + "s";
  // "<big><unit> <small><unit>", the small part left out when it is zero.
  auto two = [](std::uint64_t big, const char* bu, std::uint64_t small, const char* su) {
    return std::to_string(big) + bu + (small ? " " + std::to_string(small) + su : std::string());
  };
  if (s < 3600) return two(s / 60, "m", s % 60, "s");
  if (s < 86400) return two(s / 3600, "h", s % 3600 / 60, "m");
  return two(s / 86400, "d", s % 86400 / 3600, "h");
}

std::string format_ago(std::uint64_t now, std::uint64_t then) {
  if (then == 0) return "never";
  if (then > now) return "in the future (" + format_duration(then - now) + ")";
  return format_duration(now - then) + " ago";
}

std::string dump(const json& value, int indent) {
  try {
    return value.dump(indent, ' ', false, json::error_handler_t::replace);
  } catch (const std::exception& e) {
    return std::string("{\"error\":\"cannot serialize: ") + e.what() + "\"}";
  }
}

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace shopsync::inspect
