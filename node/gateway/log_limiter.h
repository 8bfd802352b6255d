// A rate limit on log lines, so that a flood of bad requests cannot flood the
// log: at most `per_second` lines pass in any one-second window; the lines
// beyond are counted, and the first line of the next window says how many
// were left out ("HTTP gateway: 37 more lines left out (rate limit)").
//
// Thread-safety: none (the loop thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

namespace shopsync::gateway {

class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  using Sink = std::function<void(std::string_view line)>;

  LogLimiter(Sink sink, int per_second) : sink_(std::move(sink)), per_second_(per_second) {}

  void write(const std::string& line) {
    if (!sink_) return;
    const auto now = Clock::now();
    if (now - window_start_ >= std::chrono::seconds(1)) {
      window_start_ = now;
      written_ = 0;
      if (pending_suppressed_ > 0) {
        sink_("HTTP gateway: " + std::to_string(pending_suppressed_) + " more lines left out (rate limit)");
        pending_suppressed_ = 0;
      }
    }
    if (written_ >= per_second_) {
      ++pending_suppressed_;
      ++suppressed_;
      return;
    }
    ++written_;
    sink_(line);
  }

  std::uint64_t suppressed() const { return suppressed_; }  // since start

 private:
  Sink sink_;
  int per_second_;
  Clock::time_point window_start_{};
  int written_ = 0;
  std::uint64_t pending_suppressed_ = 0;
  std::uint64_t suppressed_ = 0;
};

}  // namespace shopsync::gateway
