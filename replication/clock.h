// The clocks the replication core and the node read, behind an interface so
// that tests and the simulator can drive time by hand (STYLE.md: side effects
// behind interfaces).
//
// Two kinds, never to be mixed: a *wall* clock (SystemClock) gives the time
// stamped on what is stored or shown (HLC readings, "last seen"); it may step
// backwards or forwards at any time (NTP, a user fixing the date). A
// *monotonic* clock (SteadyClock) measures durations and deadlines (timeouts,
// heartbeats, backoff, periodic pulls); it never steps, and its zero means
// nothing.
#pragma once

#include <cstdint>

namespace shopsync {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds: since the Unix epoch for a wall clock (may jump backwards;
  // HybridClock, hlc.h, makes what the core issues monotonic anyway), since an
  // arbitrary origin for a monotonic one.
  virtual std::uint64_t now_ms() = 0;
};

// The operating system's real-time (wall) clock. Thread-safe.
class SystemClock final : public Clock {
 public:
  std::uint64_t now_ms() override;
};

// The operating system's monotonic clock (std::chrono::steady_clock), for
// timers. Thread-safe.
class SteadyClock final : public Clock {
 public:
  std::uint64_t now_ms() override;
};

// A clock that only moves when told. For tests and the simulator.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::uint64_t start_ms = 0) : now_(start_ms) {}
  std::uint64_t now_ms() override { return now_; }
  void set(std::uint64_t ms) { now_ = ms; }
  void advance(std::uint64_t ms) { now_ += ms; }

 private:
  std::uint64_t now_;
};

}  // namespace shopsync
