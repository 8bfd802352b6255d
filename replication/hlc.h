// Hybrid logical clock (Kulkarni et al., 2014) over an injectable wall Clock.
//
// A reading (storage/record.h `Hlc`) is wall milliseconds in the high 48 bits
// and a logical counter in the low 16. now() issues a reading for a local
// write; observe() folds in a reading received from a peer. Readings issued
// here never go backwards, even when the wall clock does, and they are greater
// than every reading observed so far, so a machine whose clock is behind still
// orders its writes after what it has seen. Across restarts the caller persists
// last() (NodeMeta.clock) and passes it back to the constructor.
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

  // `wall` must outlive this object. `last` is the last reading issued or seen
  // (0 for a new node).
  explicit HybridClock(Clock& wall, Hlc last = 0) : wall_(wall), last_(last) {}

  // A reading for a local event: greater than every reading issued or observed.
  Hlc now();
  // Folds in a remote reading: afterwards last() >= remote. Returns last().
  Hlc observe(Hlc remote);
  Hlc last() const { return last_; }

  static Hlc make(std::uint64_t wall_ms, std::uint64_t logical) {
    return (wall_ms << kLogicalBits) | (logical & kLogicalMask);
  }
  static std::uint64_t wall_ms(Hlc h) { return h >> kLogicalBits; }
  static std::uint64_t logical(Hlc h) { return h & kLogicalMask; }

 private:
  Clock& wall_;
  Hlc last_;
};

}  // namespace shopsync
