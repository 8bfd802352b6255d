// The node's log: one line per event on stderr (journald adds its own time
// stamps when run under systemd; a terminal gets ours).
//
// Line format: "2026-11-25T14:20:49.123Z warn  <text>". Levels, lowest first:
// debug, info, warn, error. The threshold is process-wide and set once at start
// (--log-level); lines below it cost one comparison.
//
// Thread-safety: log lines may be written from any thread; each line is written
// with one write(2) call, so lines of different threads never interleave.
#pragma once

#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace shopsync::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

std::optional<Level> parse_level(std::string_view name);
std::string_view to_string(Level level);

void set_threshold(Level level);
bool enabled(Level level);
void write(Level level, std::string_view text);

}  // namespace shopsync::log

// SHOPSYNC_LOG(info, "peer " << name << " connected");
#define SHOPSYNC_LOG(level, stream_expr) SHOPSYNC_LOG_AT(::shopsync::log::Level::level, stream_expr)

// The same with a level computed at run time.
#define SHOPSYNC_LOG_AT(level_value, stream_expr)                        \
  do {                                                                   \
    const ::shopsync::log::Level shopsync_log_level_ = (level_value);    \
    if (::shopsync::log::enabled(shopsync_log_level_)) {                 \
      std::ostringstream shopsync_log_os_;                               \
      shopsync_log_os_ << stream_expr;                                   \
      ::shopsync::log::write(shopsync_log_level_, shopsync_log_os_.str()); \
    }                                                                    \
  } while (false)
