#include "node/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "node/log.h"

namespace shopsync {

namespace {

std::optional<std::uint64_t> env_number(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  std::uint64_t value = 0;
  const char* end = text + std::strlen(text);
  auto [ptr, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

}  // namespace

SystemdNotifier SystemdNotifier::from_environment() {
  SystemdNotifier n;
  const char* socket_path = std::getenv("NOTIFY_SOCKET");
  if (socket_path == nullptr || *socket_path == '\0') return n;
  std::string path(socket_path);
  if (path.front() != '/' && path.front() != '@') {
    SHOPSYNC_LOG(warn, "NOTIFY_SOCKET='" << path << "' is neither a path nor an abstract socket (@NAME): not notifying systemd");
    return n;
  }
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    SHOPSYNC_LOG(warn, "NOTIFY_SOCKET is longer than a socket address: not notifying systemd");
    return n;
  }
  if (path.front() == '@') path.front() = '\0';
  n.fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (n.fd_ < 0) {
    SHOPSYNC_LOG(warn, "cannot notify systemd: socket: " << std::strerror(errno));
    return n;
  }
  n.path_ = std::move(path);
  // The watchdog is for us unless WATCHDOG_PID names another process.
  const auto pid = env_number("WATCHDOG_PID");
  const auto usec = env_number("WATCHDOG_USEC");
  if (usec && *usec > 0 && (!pid || *pid == static_cast<std::uint64_t>(::getpid()))) {
    n.watchdog_interval_ms_ = std::max<std::uint64_t>(*usec / 2000, 1);
  }
  return n;
}

SystemdNotifier::SystemdNotifier(SystemdNotifier&& other) noexcept
    : fd_(other.fd_),
      path_(std::move(other.path_)),
      watchdog_interval_ms_(other.watchdog_interval_ms_),
      failure_logged_(other.failure_logged_) {
  other.fd_ = -1;
}

SystemdNotifier& SystemdNotifier::operator=(SystemdNotifier&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    watchdog_interval_ms_ = other.watchdog_interval_ms_;
    failure_logged_ = other.failure_logged_;
    other.fd_ = -1;
  }
  return *this;
}

SystemdNotifier::~SystemdNotifier() {
  if (fd_ >= 0) ::close(fd_);
}

bool SystemdNotifier::notify(std::string_view state) {
  if (fd_ < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  // An abstract address is exactly as long as its name: no terminating NUL.
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path_.size() + (path_[0] == '\0' ? 0 : 1));
  const ssize_t n = ::sendto(fd_, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
  if (n == static_cast<ssize_t>(state.size())) {
    failure_logged_ = false;
    return true;
  }
  if (!failure_logged_) {
    failure_logged_ = true;  // once per run of failures: the watchdog sends often
    SHOPSYNC_LOG(warn, "cannot notify systemd on " << (path_[0] == '\0' ? "@" + path_.substr(1) : path_) << ": "
                                                   << (n < 0 ? std::strerror(errno) : "short write"));
  }
  return false;
}

}  // namespace shopsync
