// SIGTERM / SIGINT / SIGHUP as a file descriptor the event loop polls.
//
// block_stop_signals() must run in main() before any thread starts (the
// ZeroMQ context starts I/O threads), so that every thread inherits the
// blocked mask and the signals wait in the signalfd instead of killing the
// process or interrupting a thread in the middle of a transaction. SIGPIPE is
// ignored.
#pragma once

#include <optional>

#include "core/status.h"

namespace shopsync {

Status block_stop_signals();

// Owns a signalfd for SIGTERM, SIGINT and SIGHUP. Move-only.
class StopSignals {
 public:
  static Result<StopSignals> open();
  StopSignals(StopSignals&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  StopSignals& operator=(StopSignals&& other) noexcept;
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  ~StopSignals();

  int fd() const { return fd_; }
  // The pending signal number, if any (non-blocking).
  std::optional<int> take();

 private:
  explicit StopSignals(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace shopsync
