// The log line of a write refused for a full disk, at most one per interval:
// a client retrying in a loop must not fill what little room the log has left.
// The lines left out are counted in the next one.
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace shopsync {

class DiskFullLog {
 public:
  static constexpr std::uint64_t kIntervalMs = 10'000;

  // `operation` (what was refused) failed with `error` at monotonic `now_ms`.
  void report(std::string_view operation, const Status& error, std::uint64_t now_ms);

 private:
  std::uint64_t logged_ms_ = 0;  // of the last line; 0: none yet
  std::uint64_t unlogged_ = 0;   // refusals since then, left out of the log
};

}  // namespace shopsync
