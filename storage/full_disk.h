// A full disk, told apart from a failing one, and remembered while it lasts.
//
// LMDB writes its pages with pwrite(); on a full file system the call writes
// part of a page and LMDB reports that short write as EIO, not ENOSPC. So an
// io_error from a commit is checked against the room left on the file system
// of the data directory: with (almost) none left, it is a disk_full.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>

#include "core/status.h"

namespace shopsync {

// Below this many free bytes a failed write is blamed on a full disk: a
// commit writes a few records (1 MiB each at most by default) and their pages.
inline constexpr std::uint64_t kFullDiskMarginBytes = 2u << 20;

// `failed` unchanged, unless it is an io_error and the file system holding
// `dir` has fewer than kFullDiskMarginBytes free: then disk_full, "the file
// system of DIR is full: N bytes free (<the original message>)".
Status name_full_disk(Status failed, const std::filesystem::path& dir);

// What the store saw of a full disk since the process started.
struct FullDiskState {
  std::uint64_t refused_writes = 0;  // writes that failed with disk_full
  std::uint64_t full_since_ms = 0;   // Unix ms of the first refusal since the last write that worked; 0: not full
  std::string last_error;            // the message of the last refusal
};

// Thread-safety: all members may be called from any thread.
class FullDiskWatch {
 public:
  // Notes the outcome of one write: a disk_full starts (or continues) a full
  // spell, a success ends it. Other errors change nothing.
  void note(const Status& outcome);
  FullDiskState state() const;

 private:
  mutable std::mutex mutex_;
  FullDiskState state_;
};

}  // namespace shopsync
