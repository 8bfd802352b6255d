// Exclusive ownership of a data directory by one shopsyncd.
//
// LMDB lets a second writer open the same environment and simply wait at its
// first write, so two daemons on one data directory would both look alive
// while one of them never syncs. The lock (flock on <data>/shopsyncd.lock,
// holding the owner's pid) makes the second one fail at start with a clear
// message instead. The kernel drops the lock when the process dies, kill -9
// included, so a stale lock file never blocks a restart.
//
// The owner also notes there where its local API listens, so that a tool
// given only the data directory (`shopsync token --data DIR`) can ask the
// daemon that holds it.
//
// Readers (shopsync-inspect) do not take it; `shopsync token` takes it while
// it writes a directory no shopsyncd runs on.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace shopsync {

class DataDirLock {
 public:
  // refused ("... is in use by another shopsyncd (pid N)") when another
  // process holds it; io_error when the lock file cannot be made.
  static Result<DataDirLock> acquire(const std::filesystem::path& data_dir);

  // Notes `api_endpoint` beside the owner's pid (best effort: the lock holds
  // without it).
  void announce_api(std::string_view api_endpoint);
  // The local API endpoint the directory's owner announced; nullopt when none
  // did (or the lock file cannot be read). Whether an owner still runs is
  // the lock's business (acquire), not this.
  static std::optional<std::string> announced_api(const std::filesystem::path& data_dir);

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
