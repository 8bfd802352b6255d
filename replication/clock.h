// The wall clock the replication core reads, behind an interface so that the
// simulator can drive time by hand (STYLE.md: side effects behind interfaces).
#pragma once

#include <cstdint>

namespace shopsync {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch. May jump backwards (NTP, a user fixing
  // the date); HybridClock (hlc.h) makes what the core issues monotonic anyway.
  virtual std::uint64_t now_ms() = 0;
};

// The operating system's real-time clock. Thread-safe.
class SystemClock final : public Clock {
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
