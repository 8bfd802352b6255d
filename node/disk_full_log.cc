#include "node/disk_full_log.h"

#include <string>

#include "node/log.h"

namespace shopsync {

void DiskFullLog::report(std::string_view operation, const Status& error, std::uint64_t now_ms) {
  if (logged_ms_ != 0 && now_ms - logged_ms_ < kIntervalMs) {
    ++unlogged_;
    return;
  }
  SHOPSYNC_LOG(error, operation << " refused: " << error.to_string()
                                << (unlogged_ == 0 ? std::string()
                                                   : " (and " + std::to_string(unlogged_) + " more refusals not logged)")
                                << ". Nothing stored is lost; writes work again once there is room");
  logged_ms_ = now_ms;
  unlogged_ = 0;
}

}  // namespace shopsync
