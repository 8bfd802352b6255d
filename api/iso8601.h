// ISO-8601 times as JSON answers carry them (gateway, CLI token list,
// shopsync-inspect); part of target shopsync_json. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shopsync::json_values {

// "2025-01-15T11:00:00.000Z" (UTC, milliseconds).
std::string format_iso8601(std::uint64_t unix_ms);
// RFC 3339 / ISO-8601 date-time: "YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]";
// without a zone the time is UTC; a bare date "YYYY-MM-DD" means midnight
// UTC. nullopt when malformed or before 1970.
std::optional<std::uint64_t> parse_iso8601(std::string_view text);

}  // namespace shopsync::json_values
