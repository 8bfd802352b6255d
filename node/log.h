// The node's log: one line per event on stderr (journald adds its own time
// stamps when run under systemd; a terminal gets ours).
//
// Line format: "2026-11-25T14:20:49.123Z warn  <text>". Levels, lowest first:
// debug, info, warn, error. The threshold is process-wide, set at start
// (--log-level) and on reload (SIGHUP); lines below it cost one comparison.
//
// When stderr is the journal (systemd sets $JOURNAL_STREAM to the
// "DEVICE:INODE" of the stream it connected), every line, and every line of
// a multi-line text, starts with the sd-daemon(3) priority prefix of its
// level ("<3>" error, "<4>" warn, "<6>" info, "<7>" debug), so that
// `journalctl -p warning` shows warnings and errors.
//
// Thread-safety: log lines may be written from any thread; each line is written
// with one write(2) call, so lines of different threads never interleave.
#pragma once

#include <cstdint>
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

// The syslog priority of a level (sd-daemon(3)): 3, 4, 6 or 7.
int journal_priority(Level level);
// One line as write() emits it, newline included; `unix_ms` is the time
// stamp; `journal`: with the priority prefixes.
std::string format_line(Level level, std::string_view text, std::uint64_t unix_ms, bool journal);
// Whether `fd` is the stream $JOURNAL_STREAM names (`journal_stream`: its
// value, "DEVICE:INODE"; null when unset).
bool is_journal_stream(int fd, const char* journal_stream);

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
