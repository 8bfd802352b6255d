#include "storage/full_disk.h"

#include <chrono>
#include <system_error>

namespace shopsync {

Status name_full_disk(Status failed, const std::filesystem::path& dir) {
  if (failed.code() != Errc::io_error) return failed;
  std::error_code ec;
  const auto space = std::filesystem::space(dir, ec);
  if (ec || space.available >= kFullDiskMarginBytes) return failed;
  return Status(Errc::disk_full, "the file system of " + dir.string() + " is full: " +
                                     std::to_string(space.available) + " bytes free (" + failed.message() + ")");
}

void FullDiskWatch::note(const Status& outcome) {
  std::lock_guard lock(mutex_);
  if (outcome) {
    state_.full_since_ms = 0;
    return;
  }
  if (outcome.code() != Errc::disk_full) return;
  ++state_.refused_writes;
  state_.last_error = outcome.message();
  if (state_.full_since_ms == 0) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    state_.full_since_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  }
}

FullDiskState FullDiskWatch::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

}  // namespace shopsync
