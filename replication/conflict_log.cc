#include "replication/conflict_log.h"

#include "replication/hlc.h"

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

ConflictEntry make_device_conflict_entry(const RecordKey& key, const RecordState& server, const Fields& device_fields,
                                         bool device_deleted, std::uint64_t device_ms, Dot device_dot,
                                         StrategyKind kind, Dot winner, bool near_simultaneous, Hlc detected_at,
                                         NodeId detected_by) {
  Version device;
  device.dot = device_dot;
  device.updated_at = HybridClock::make(device_ms, 0);
  device.deleted = device_deleted;
  for (const auto& [name, field] : device_fields) device.fields.emplace(name, Field{field.packed, device.updated_at});
  ConflictEntry entry;
  entry.key = key;
  entry.siblings = server.siblings;
  entry.siblings.push_back(std::move(device));
  entry.strategy = std::string(to_string(kind));
  entry.winner = winner;
  entry.near_simultaneous = near_simultaneous;
  entry.detected_at = detected_at;
  entry.detected_by = detected_by;
  return entry;
}

}  // namespace shopsync
