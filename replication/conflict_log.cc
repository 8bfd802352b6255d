#include "replication/conflict_log.h"

namespace shopsync {

ConflictEntry make_conflict_entry(const RecordKey& key, const RecordState& state, StrategyKind kind,
                                  std::uint64_t tolerance_ms, Hlc detected_at, NodeId detected_by) {
  const Outcome outcome = choose_visible(state.siblings, kind, tolerance_ms);
  ConflictEntry entry;
  entry.key = key;
  entry.siblings = state.siblings;
  entry.strategy = std::string(to_string(kind));
  entry.winner = outcome.winner;
  entry.near_simultaneous = outcome.near_simultaneous;
  entry.detected_at = detected_at;
  entry.detected_by = detected_by;
  return entry;
}

}  // namespace shopsync
