// Exclusive ownership of a data directory by one shopsyncd.
//
// LMDB lets a second writer open the same environment and simply wait at its
// first write, so two daemons on one data directory would both look alive
// while one of them never syncs. The lock (flock on <data>/shopsyncd.lock,
// holding the owner's pid) makes the second one fail at start with a clear
// message instead. The kernel drops the lock when the process dies, kill -9
// included, so a stale lock file never blocks a restart.
//
// Readers (shopsync-inspect, shopsync token) do not take it.
#pragma once

#include <filesystem>

#include "core/status.h"

namespace shopsync {

class DataDirLock {
 public:
  // refused ("... is in use by another shopsyncd (pid N)") when another
  // process holds it; io_error when the lock file cannot be made.
  static Result<DataDirLock> acquire(const std::filesystem::path& data_dir);

  DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DataDirLock& operator=(DataDirLock&& other) noexcept;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace shopsync
