#include "tools/inspect/values.h"

#include <chrono>

#include "api/iso8601.h"
#include "api/json_values.h"
#include "core/version_vector.h"
#include "replication/hlc.h"

namespace shopsync::inspect {

namespace {

// docs/inspector.md: binary as {"$binary": ...}, bytes that do not decode as {"$undecodable": ...}.
constexpr json_values::ValueForm kForm{json_values::BinaryForm::tagged_object, json_values::Undecodable::hex_object};

}  // namespace

json packed_to_json(std::string_view packed) { return json_values::packed_to_json(packed, kForm); }

json fields_to_json(const Fields& fields) { return json_values::fields_to_json(fields, kForm); }

std::string iso_time(std::uint64_t unix_ms) { return unix_ms == 0 ? "" : json_values::format_iso8601(unix_ms); }

json hlc_json(Hlc hlc) {
  return json{{"hlc", std::to_string(hlc)}, {"time", iso_time(HybridClock::wall_ms(hlc))}, {"logical", HybridClock::logical(hlc)}};
}

json time_json(std::uint64_t unix_ms) {
  if (unix_ms == 0) return nullptr;
  return json{{"ms", unix_ms}, {"time", iso_time(unix_ms)}};
}

json vv_json(const VersionVector& vv) {
  json out = json::object();
  for (const auto& [node, counter] : vv.entries()) out[node_id_text(node)] = counter;
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

std::string dump(const json& value, int indent) { return json_values::dump_json(value, indent); }

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace shopsync::inspect
