// The conflict log (DESIGN.md, "Causality"): the audit trail of every record
// left with more than one sibling. The replica appends an entry, in the same
// transaction as the merge, whenever a merge leaves a record with several
// siblings and at least one of them is new to this node: each conflict is
// logged once per node, and a re-delivered batch logs nothing. A device
// conflict (device_push.h) is appended in the same transaction as the push
// that met it.
#pragma once

#include "replication/strategy.h"
#include "storage/record.h"
#include "storage/store.h"

namespace shopsync {

// The entry for `state` (REQUIRES: more than one sibling) under `kind`:
// every sibling, the strategy's name, its winner and near_simultaneous flag,
// when (HLC) and where (node id) it was detected. seq is left 0 (the store
// assigns it).
ConflictEntry make_conflict_entry(const RecordKey& key, const RecordState& state, StrategyKind kind,
                                  std::uint64_t tolerance_ms, Hlc detected_at, NodeId detected_by);

// The entry of a device conflict (device_push.h): the node's siblings as the
// push met them (`server`), then the device's version: `device_dot` (the dot
// its write got when the device won, else 0:0, a version never stored),
// `updated_at` the device's edit time as an HLC (logical 0), its fields
// stamped alike. `winner` is the dot of the version now visible (for a merge:
// the merged write), `near_simultaneous` as the push decided it.
ConflictEntry make_device_conflict_entry(const RecordKey& key, const RecordState& server, const Fields& device_fields,
                                         bool device_deleted, std::uint64_t device_ms, Dot device_dot,
                                         StrategyKind kind, Dot winner, bool near_simultaneous, Hlc detected_at,
                                         NodeId detected_by);

}  // namespace shopsync
