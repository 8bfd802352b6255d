// Per-record sibling sets with a causal context: dotted version vector sets
// (Almeida et al., "Scalable and Accurate Causality Tracking for Eventually
// Consistent Stores", 2014).
//
// A RecordState is well formed when its siblings have distinct dots, are
// sorted by dot, and its context covers every sibling's dot. Every function
// here takes and returns well-formed states.
#pragma once

#include <vector>

#include "core/status.h"
#include "storage/record.h"

namespace shopsync {

// Merges two states of one record. A sibling of one side survives unless the
// other side's context covers its dot without holding it (then the other side
// has seen it and superseded it); contexts are joined. Commutative,
// associative and idempotent, which is what makes replicas converge whatever
// the order, duplication or repetition of deliveries.
RecordState merge_states(const RecordState& a, const RecordState& b);

// The state after a local write of `version` on a node that holds `current`:
// the new version supersedes every sibling the node has, its context is the
// join of `current.context` and the new dot.
// REQUIRES: current.context does not cover version.dot.
RecordState supersede(const RecordState& current, Version version);

// The dots of `before`'s siblings that `after` no longer holds.
std::vector<Dot> dropped_dots(const RecordState& before, const RecordState& after);

// Sorts siblings by dot (the canonical order stored and sent).
void normalize(RecordState& state);

// invalid_argument naming the rule a received state breaks: duplicate dots, a
// dot with counter 0, a sibling the context does not cover, no siblings.
Status validate_state(const RecordState& state);

// True when some sibling of `after` has a dot no sibling of `before` has: the
// record gained a version (used to log each conflict once).
bool gained_sibling(const RecordState& before, const RecordState& after);

// What a write over a record whose stored bytes do not decode starts from
// (StoreReader::stored_dots): one version without fields per stored dot and a
// context covering them, so that the write supersedes them all (a put keeps
// only its own fields, a delete deletes).
RecordState unreadable_state(const std::vector<Dot>& dots);

}  // namespace shopsync
