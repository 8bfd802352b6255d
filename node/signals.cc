#include "node/signals.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace shopsync {

namespace {
sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}
}  // namespace

Status block_stop_signals() {
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t set = stop_set();
  if (const int rc = pthread_sigmask(SIG_BLOCK, &set, nullptr); rc != 0) {
    return Status::io_error(std::string("blocking stop signals: ") + std::strerror(rc));
  }
  return Status::ok();
}

Result<StopSignals> StopSignals::open() {
  sigset_t set = stop_set();
  const int fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return Status::io_error(std::string("creating a signalfd: ") + std::strerror(errno));
  return StopSignals(fd);
}

StopSignals& StopSignals::operator=(StopSignals&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

StopSignals::~StopSignals() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<int> StopSignals::take() {
  signalfd_siginfo info{};
  const ssize_t n = ::read(fd_, &info, sizeof info);
  if (n != static_cast<ssize_t>(sizeof info)) return std::nullopt;
  return static_cast<int>(info.ssi_signo);
}

}  // namespace shopsync
