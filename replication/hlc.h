// Hybrid logical clock (Kulkarni et al., 2014) over an injectable wall Clock.
//
// A reading (storage/record.h `Hlc`) is wall milliseconds in the high 48 bits
// and a logical counter in the low 16. now() issues a reading for a local
// write; observe() folds in a reading received from a peer. Readings issued
// here never go backwards, even when the wall clock does, and they are greater
// than every reading adopted so far, so a machine whose clock is behind still
// orders its writes after what it has seen. Across restarts the caller persists
// last() (NodeMeta.clock) and passes it back to the constructor.
//
// Max offset (CockroachDB's --max-offset): a remote reading further ahead of
// our wall clock than `max_offset_ms` comes from a clock that runs fast. It is
// not adopted: adopting it would drag this clock (and, through it, every
// node's) ahead for good and let that node win every newest_wins conflict.
// Our readings then stay below it; the record that carries it keeps it as
// written (docs/replication.md, "Clock offsets").
//
// Thread-safety: none; the replica's owner serializes calls.
#pragma once

#include <cstdint>

#include "replication/clock.h"
#include "storage/record.h"

namespace shopsync {

class HybridClock {
 public:
  static constexpr int kLogicalBits = 16;
  static constexpr std::uint64_t kLogicalMask = (std::uint64_t{1} << kLogicalBits) - 1;
  static constexpr std::uint64_t kMaxWallMs = (std::uint64_t{1} << (64 - kLogicalBits)) - 1;

  static constexpr std::uint64_t kNoMaxOffset = ~std::uint64_t{0};

  // `wall` must outlive this object. `last` is the last reading issued or seen
  // (0 for a new node).
  explicit HybridClock(Clock& wall, Hlc last = 0, std::uint64_t max_offset_ms = kNoMaxOffset)
      : wall_(wall), last_(last), max_offset_ms_(max_offset_ms) {}

  // A reading for a local event: greater than every reading issued or observed.
  Hlc now();
  // Folds in a remote reading: afterwards last() >= remote, unless the reading
  // is more than max_offset_ms ahead of the wall clock: then it is ignored
  // and observe() returns false.
  bool observe(Hlc remote);
  Hlc last() const { return last_; }

  static Hlc make(std::uint64_t wall_ms, std::uint64_t logical) {
    return (wall_ms << kLogicalBits) | (logical & kLogicalMask);
  }
  static std::uint64_t wall_ms(Hlc h) { return h >> kLogicalBits; }
  static std::uint64_t logical(Hlc h) { return h & kLogicalMask; }

 private:
  Clock& wall_;
  Hlc last_;
  std::uint64_t max_offset_ms_;
};

}  // namespace shopsync
