#include "node/sync_progress.h"

namespace shopsync {

void SyncProgress::batch(std::uint64_t now_ms, std::uint64_t records, std::uint64_t bytes, std::uint64_t to_go,
                         bool more) {
  if (!more) {
    stop();
    return;
  }
  if (!active_) {
    active_ = true;
    next_log_ms_ = now_ms + log_every_ms_;
  }
  received_ += records;
  bytes_ += bytes;
  to_go_ = to_go;
  // The first sample is this first batch: when the sync began before it is
  // not known here, so the rate counts from it on.
  samples_.emplace_back(now_ms, received_);
  // Keep one sample at or before the window's start, so that the rate always
  // spans the whole window once the sync is that old.
  while (samples_.size() > 2 && samples_[1].first + kRateWindowMs <= now_ms) samples_.pop_front();
}

void SyncProgress::stop() { *this = SyncProgress{log_every_ms_}; }

api::SyncProgress SyncProgress::view(std::uint64_t now_ms) const {
  api::SyncProgress v;
  if (!active_) return v;
  v.records_received = received_;
  v.records_total = received_ + to_go_;
  v.bytes_received = bytes_;
  v.bytes_total = bytes_ + (received_ > 0 ? to_go_ * (bytes_ / received_) : 0);
  const auto& [since_ms, since_received] = samples_.front();
  if (now_ms > since_ms && received_ > since_received) {
    v.rate = (received_ - since_received) * 1000 / (now_ms - since_ms);
    if (v.rate > 0) v.eta_ms = to_go_ * 1000 / v.rate;
  }
  return v;
}

bool SyncProgress::log_due(std::uint64_t now_ms) {
  if (!active_ || now_ms < next_log_ms_) return false;
  next_log_ms_ = now_ms + log_every_ms_;
  return true;
}

}  // namespace shopsync
