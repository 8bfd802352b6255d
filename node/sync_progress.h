// How far a sync from one peer has come: records and bytes received in it, an
// estimate of what is still to go, the rate and the time left. Fed by the
// node's loop after each batch it commits from the peer; read by `peers`,
// `status`, /metrics and the "syncing from peer" log line (docs/operations.md,
// "Sync progress").
//
// A sync starts with the first batch of an answer that goes on (`more`) and
// ends with the last batch of the answer or with the session.
// "Still to go" is what the caller measures after each batch: the changes the
// peer's knowledge holds that ours lacks (changes_behind, an upper bound:
// superseded writes count too, and are never sent). The rate is over the last
// kRateWindowMs; the byte total assumes the records to go have the average
// size of those received.
//
// Pure: every time is a monotonic ms the caller passes. Not thread-safe (the
// node's loop owns it).
#pragma once

#include <cstdint>
#include <deque>
#include <utility>

#include "api/api_types.h"

namespace shopsync {

class SyncProgress {
 public:
  static constexpr std::uint64_t kRateWindowMs = 10'000;

  // `log_every_ms`: how often log_due() says yes (--progress-log-ms).
  explicit SyncProgress(std::uint64_t log_every_ms = 5'000) : log_every_ms_(log_every_ms) {}

  // A batch of `records` records in `bytes` bytes was committed at `now_ms`;
  // `to_go` changes are still to come; `more`: the answer goes on.
  void batch(std::uint64_t now_ms, std::uint64_t records, std::uint64_t bytes, std::uint64_t to_go, bool more);
  // The session ended: no sync runs.
  void stop();

  bool active() const { return active_; }
  // All 0 when no sync runs. The rate falls while no batch arrives.
  api::SyncProgress view(std::uint64_t now_ms) const;
  // True once every log_every_ms of a running sync (the first after
  // log_every_ms): the caller logs a progress line.
  bool log_due(std::uint64_t now_ms);

 private:
  std::uint64_t log_every_ms_;
  bool active_ = false;
  std::uint64_t received_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t to_go_ = 0;
  std::uint64_t next_log_ms_ = 0;
  std::deque<std::pair<std::uint64_t, std::uint64_t>> samples_;  // (ms, received), oldest first
};

}  // namespace shopsync
