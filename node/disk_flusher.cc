#include "node/disk_flusher.h"

#include "node/log.h"

namespace shopsync {

DiskFlusher::DiskFlusher(std::function<Status()> flush) : flush_(std::move(flush)), thread_([this] { run(); }) {}

DiskFlusher::~DiskFlusher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void DiskFlusher::request() {
  {
    std::lock_guard lock(mutex_);
    requested_ = true;
  }
  wake_.notify_one();
}

void DiskFlusher::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return requested_ || stopping_; });
    if (!requested_) return;  // stopping, with nothing asked for
    requested_ = false;
    lock.unlock();
    if (Status s = flush_(); !s) SHOPSYNC_LOG(error, "flushing the store to disk: " << s.to_string());
    lock.lock();
  }
}

}  // namespace shopsync
