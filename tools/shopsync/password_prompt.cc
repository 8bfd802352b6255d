#include "tools/shopsync/password_prompt.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

namespace shopsync::cli {

std::optional<std::string> read_password(std::ostream& err) {
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (tty && ::tcgetattr(STDIN_FILENO, &saved) == 0) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    err << "password: " << std::flush;
  }
  std::string password;
  const bool got = static_cast<bool>(std::getline(std::cin, password));
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    err << '\n';
  }
  if (!got) return std::nullopt;
  if (password.ends_with('\r')) password.pop_back();
  return password;
}

}  // namespace shopsync::cli
