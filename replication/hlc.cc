#include "replication/hlc.h"

#include <algorithm>

namespace shopsync {

Hlc HybridClock::now() {
  const std::uint64_t wall = std::min(wall_.now_ms(), kMaxWallMs);
  const Hlc physical = make(wall, 0);
  // Either the wall clock has moved past everything we have seen (take it with
  // logical 0), or it has not (same or earlier millisecond): step the logical
  // part. A logical overflow simply carries into the millisecond field, which
  // keeps the order total and monotonic at the cost of running a little ahead.
  last_ = physical > last_ ? physical : last_ + 1;
  return last_;
}

bool HybridClock::observe(Hlc remote) {
  const std::uint64_t wall = wall_.now_ms();
  if (wall_ms(remote) > wall && wall_ms(remote) - wall > max_offset_ms_) return false;
  last_ = std::max(last_, remote);
  return true;
}

}  // namespace shopsync
