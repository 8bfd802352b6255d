#include "replication/clock.h"

#include <chrono>

namespace shopsync {

std::uint64_t SystemClock::now_ms() {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count();
  return ms < 0 ? 0 : static_cast<std::uint64_t>(ms);
}

std::uint64_t SteadyClock::now_ms() {
  const auto since_start = std::chrono::steady_clock::now().time_since_epoch();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(since_start).count();
  return ms < 0 ? 0 : static_cast<std::uint64_t>(ms);
}

}  // namespace shopsync
