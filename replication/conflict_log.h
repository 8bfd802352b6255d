// The conflict log (DESIGN.md, "Causality"): the audit trail of every record
// left with more than one sibling. The replica appends an entry, in the same
// transaction as the merge, whenever a merge leaves a record with several
// siblings and at least one of them is new to this node: each conflict is
// logged once per node, and a re-delivered batch logs nothing.
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

}  // namespace shopsync
