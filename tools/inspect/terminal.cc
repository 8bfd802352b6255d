#include "tools/inspect/terminal.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "tools/inspect/values.h"

namespace shopsync::inspect {

namespace {

volatile std::sig_atomic_t g_stop = 0;
volatile std::sig_atomic_t g_resized = 0;

extern "C" void on_stop_signal(int) { g_stop = 1; }
extern "C" void on_winch(int) { g_resized = 1; }

void write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    off += static_cast<std::size_t>(n);
  }
}

// Cuts `s` to `cols` terminal cells, counting UTF-8 sequences as one cell and
// dropping control characters (a record value must not move the cursor).
std::string fit(const std::string& s, int cols) {
  std::string out;
  int cells = 0;
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + len > s.size()) len = 1;
    if (cells >= cols) break;
    if (c < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out.append(s, i, len);
    }
    ++cells;
    i += len;
  }
  return out;
}

void terminal_size(int& rows, int& cols) {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
    rows = ws.ws_row;
    cols = ws.ws_col;
  } else {
    rows = 24;
    cols = 80;
  }
}

}  // namespace

void Screen::install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: poll() returns EINTR and the loop ends
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGHUP, &sa, nullptr);
  struct sigaction wa {};
  wa.sa_handler = on_winch;
  sigemptyset(&wa.sa_mask);
  ::sigaction(SIGWINCH, &wa, nullptr);
}

bool Screen::stop_requested() { return g_stop != 0; }

Result<Screen> Screen::open() {
  if (!::isatty(STDOUT_FILENO)) {
    return Status::invalid("--watch needs a terminal on stdout (for a stream of documents use --watch --json)");
  }
  install_signal_handlers();
  Screen s;
  termios t{};
  if (::isatty(STDIN_FILENO) && ::tcgetattr(STDIN_FILENO, &t) == 0) {
    s.saved_termios_.assign(reinterpret_cast<const char*>(&t), sizeof t);
    termios raw = t;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    if (::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) s.restore_termios_ = true;
  }
  write_all(STDOUT_FILENO, "\x1b[?1049h\x1b[?25l\x1b[2J\x1b[H");
  s.active_ = true;
  return s;
}

Screen::Screen(Screen&& other) noexcept
    : active_(other.active_), restore_termios_(other.restore_termios_), saved_termios_(std::move(other.saved_termios_)) {
  other.active_ = false;
  other.restore_termios_ = false;
}

Screen::~Screen() {
  if (active_) write_all(STDOUT_FILENO, "\x1b[0m\x1b[?25h\x1b[?1049l");
  if (restore_termios_ && saved_termios_.size() == sizeof(termios)) {
    termios t{};
    std::memcpy(&t, saved_termios_.data(), sizeof t);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &t);
  }
}

void Screen::draw(const std::vector<std::string>& lines, const std::string& footer) {
  int rows = 0, cols = 0;
  terminal_size(rows, cols);
  std::string frame = "\x1b[H";
  const int body = rows - 1;
  for (int i = 0; i < body; ++i) {
    if (static_cast<std::size_t>(i) < lines.size()) {
      // The last body row says how much did not fit.
      if (i == body - 1 && lines.size() > static_cast<std::size_t>(body)) {
        frame += fit("... " + std::to_string(lines.size() - static_cast<std::size_t>(body) + 1) +
                         " more line(s): enlarge the window or use --json",
                     cols);
      } else {
        frame += fit(lines[static_cast<std::size_t>(i)], cols);
      }
    }
    frame += "\x1b[K\r\n";
  }
  frame += "\x1b[7m" + fit(footer, cols) + "\x1b[K\x1b[0m";
  write_all(STDOUT_FILENO, frame);
}

std::optional<char> Screen::wait_key(int ms) {
  if (g_stop) return std::nullopt;
  const std::uint64_t deadline = now_ms() + static_cast<std::uint64_t>(ms);
  for (;;) {
    const std::uint64_t now = now_ms();
    if (now >= deadline || g_stop) return std::nullopt;
    if (g_resized) {
      g_resized = 0;
      return std::nullopt;
    }
    if (!restore_termios_) {
      // No terminal to read keys from: just wait (signals end the wait).
      ::usleep(static_cast<useconds_t>(std::min<std::uint64_t>(deadline - now, 100) * 1000));
      continue;
    }
    pollfd p{STDIN_FILENO, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<std::uint64_t>(deadline - now, 100)));
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (r > 0) {
      char c = 0;
      const ssize_t n = ::read(STDIN_FILENO, &c, 1);
      if (n == 1) return c;
      if (n == 0) return 'q';  // end of input: nobody can press q any more
    }
  }
}

std::string progress_line(std::string_view phase, std::uint64_t done, std::uint64_t total, int width) {
  std::string line(phase);
  line += "  [";
  if (total > 0) {
    const std::uint64_t d = std::min(done, total);
    const int filled = static_cast<int>(d * static_cast<std::uint64_t>(width) / total);
    line += std::string(static_cast<std::size_t>(filled), '#') + std::string(static_cast<std::size_t>(width - filled), '.');
    line += "] " + std::to_string(d * 100 / total) + "%  " + std::to_string(done) + "/" + std::to_string(total);
  } else {
    line += std::string(static_cast<std::size_t>(width), '?') + "] " + std::to_string(done);
  }
  return line;
}

ProgressBar::ProgressBar(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO)) {}

ProgressBar::~ProgressBar() { clear(); }

void ProgressBar::update(std::string_view phase, std::uint64_t done, std::uint64_t total) {
  if (!enabled_) return;
  const std::uint64_t now = now_ms();
  if (drawn_ && now - last_draw_ms_ < 100 && done < total) return;
  last_draw_ms_ = now;
  drawn_ = true;
  write_all(STDERR_FILENO, "\r" + progress_line(phase, done, total, 30) + "\x1b[K");
}

void ProgressBar::clear() {
  if (!drawn_) return;
  write_all(STDERR_FILENO, "\r\x1b[K");
  drawn_ = false;
}

}  // namespace shopsync::inspect
