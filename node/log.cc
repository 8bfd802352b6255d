#include "node/log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace shopsync::log {

namespace {
std::atomic<int> g_threshold{static_cast<int>(Level::info)};

// Decided once: systemd connects stderr before the process starts.
bool stderr_is_journal() {
  static const bool journal = is_journal_stream(STDERR_FILENO, std::getenv("JOURNAL_STREAM"));
  return journal;
}
}  // namespace

std::optional<Level> parse_level(std::string_view name) {
  if (name == "debug") return Level::debug;
  if (name == "info") return Level::info;
  if (name == "warn" || name == "warning") return Level::warn;
  if (name == "error") return Level::error;
  return std::nullopt;
}

std::string_view to_string(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "?";
}

void set_threshold(Level level) { g_threshold.store(static_cast<int>(level)); }

bool enabled(Level level) { return static_cast<int>(level) >= g_threshold.load(std::memory_order_relaxed); }

int journal_priority(Level level) {
  switch (level) {
    case Level::debug: return 7;  // LOG_DEBUG
    case Level::info: return 6;   // LOG_INFO
    case Level::warn: return 4;   // LOG_WARNING
    case Level::error: return 3;  // LOG_ERR
  }
  return 6;
}

std::string format_line(Level level, std::string_view text, std::uint64_t unix_ms, bool journal) {
  const std::string prefix = journal ? "<" + std::to_string(journal_priority(level)) + ">" : std::string();
  const std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[96];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  std::string line = prefix + stamp;
  std::string_view name = to_string(level);
  line += name;
  line.append(6 - name.size(), ' ');
  // The journal takes each line of a stream as an entry of its own: the
  // continuation lines of a multi-line text carry the priority too.
  for (std::size_t start = 0;;) {
    const std::size_t nl = text.find('\n', start);
    line += text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (nl == std::string_view::npos) break;
    line += '\n';
    line += prefix;
    start = nl + 1;
  }
  line += '\n';
  return line;
}

bool is_journal_stream(int fd, const char* journal_stream) {
  if (journal_stream == nullptr) return false;
  const std::string_view text(journal_stream);
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  std::uint64_t device = 0, inode = 0;
  const auto [dev_end, dev_ec] = std::from_chars(text.data(), text.data() + colon, device);
  const auto [ino_end, ino_ec] = std::from_chars(text.data() + colon + 1, text.data() + text.size(), inode);
  if (dev_ec != std::errc() || dev_end != text.data() + colon || ino_ec != std::errc() ||
      ino_end != text.data() + text.size()) {
    return false;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  return static_cast<std::uint64_t>(st.st_dev) == device && static_cast<std::uint64_t>(st.st_ino) == inode;
}

void write(Level level, std::string_view text) {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::string line = format_line(level, text, static_cast<std::uint64_t>(ms), stderr_is_journal());
  // One write per line: lines from different threads or processes sharing the
  // descriptor never interleave (below PIPE_BUF for pipes, in practice for files).
  std::size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(STDERR_FILENO, line.data() + off, line.size() - off);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace shopsync::log
