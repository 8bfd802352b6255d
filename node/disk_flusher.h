// Flushes the store to disk on a thread of its own (--durability interval).
//
// With --durability interval the node commits to the OS and flushes every
// second. The flush is an fdatasync of a second's commits, which takes the
// disk's time: under a sync, a seventh of the receiving loop's time. On the
// loop's thread it stopped receiving and committing for all of it; here the
// loop only asks, and goes on committing while the thread flushes (LMDB's
// sync is an fdatasync of its file and runs beside a write transaction).
//
// Thread-safety: request() from one thread (the loop); `flush` runs on the
// flusher's thread and must be safe to call beside the store's writers.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "core/status.h"

namespace shopsync {

class DiskFlusher {
 public:
  // Starts the thread. `flush` writes what is committed to disk; a failure
  // is logged, and the next request tries again.
  explicit DiskFlusher(std::function<Status()> flush);
  // Finishes the flush under way and any asked for, then stops the thread.
  ~DiskFlusher();
  DiskFlusher(const DiskFlusher&) = delete;
  DiskFlusher& operator=(const DiskFlusher&) = delete;

  // Asks for a flush of everything committed now and returns at once. Asked
  // while a flush runs, the thread flushes once more when it ends, so that
  // the commits made meanwhile are covered too.
  void request();

 private:
  void run();

  std::function<Status()> flush_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace shopsync
