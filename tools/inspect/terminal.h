// The terminal side of the inspector: the --watch full screen and the
// progress bar of long operations. Plain ANSI escapes (VT100 subset every
// terminal emulator and ssh session understands); no curses library.
//
// Screen is RAII: open() switches to the alternate screen, hides the cursor
// and puts the input terminal in non-canonical, no-echo mode (signals still
// work: Ctrl-C quits); the destructor restores all of it, so a quit by q,
// Ctrl-C or SIGTERM leaves the shell as it was.
//
// Thread-safety: none. One Screen per process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace shopsync::inspect {

class Screen {
 public:
  // invalid_argument when stdout is not a terminal.
  static Result<Screen> open();
  Screen(Screen&& other) noexcept;
  Screen& operator=(Screen&&) = delete;
  ~Screen();

  // Redraws everything: `lines` cut to the terminal's width and height (the
  // last row is kept for `footer`).
  void draw(const std::vector<std::string>& lines, const std::string& footer);

  // Waits up to `ms` for a key; nullopt on timeout. Returns at once (nullopt)
  // when a stop was requested (SIGINT, SIGTERM) or the window was resized.
  std::optional<char> wait_key(int ms);

  // True after SIGINT or SIGTERM.
  static bool stop_requested();
  // Installs the SIGINT / SIGTERM / SIGWINCH handlers (also used without a Screen,
  // by --watch --json).
  static void install_signal_handlers();

 private:
  Screen() = default;
  bool active_ = false;
  bool restore_termios_ = false;
  std::string saved_termios_;  // struct termios bytes
};

// A progress bar on stderr, drawn only when stderr is a terminal (and
// enabled): "reading A  [#########.........]  45%  12,345/27,000". At most ten
// redraws a second; the line is cleared when done or destroyed.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(std::string_view phase, std::uint64_t done, std::uint64_t total);
  void clear();

 private:
  bool enabled_;
  bool drawn_ = false;
  std::uint64_t last_draw_ms_ = 0;
};

// The bar itself, for tests: `width` cells of '#' and '.'.
std::string progress_line(std::string_view phase, std::uint64_t done, std::uint64_t total, int width);

}  // namespace shopsync::inspect
