// Delta selection (DESIGN.md, "Knowledge and deltas").
//
// Sender side: a DeltaCursor walks the change index for one answer to a Pull:
// for each origin the puller lags on (origins in node-id order), the entries
// above the puller's counter up to the sender's knowledge at pull time
// (`target`), in counter order, cut into batches of at most max_records
// records or max_bytes estimated bytes. Each batch carries the whole current
// state of each record it names, `base` (per origin, where this batch starts)
// and `complete` (per origin, up to where everything has now been sent).
//
// Puller side: apply_completeness() raises knowledge from a committed batch.
//
// Why `complete` may pass dots the batch does not carry: a dot missing from
// the change index was superseded at the sender by a later write whose record
// context covers it. A write made before the Pull is within `target` for its
// own origin (or the puller has it), so it is sent in this answer, and
// merging it drops the superseded dot anyway.
//
// A claim passes such a dot safely only once the superseding write has come:
// the puller joins an answer's claims into its knowledge with the last batch
// of an answer it received whole (replica_impl.h, PeerState::claimed), and a
// record rewritten while an answer is in progress, over a dot the answer had
// still to send, lowers the answer's claim for that origin below the dot
// (superseded()): the new write is above `target`, so no batch of this answer
// brings it, and the next Pull starts there.
//
// A record whose stored bytes do not decode is skipped the same way (the
// store notes it; the node logs and counts it): it cannot be sent, and one bad
// record must not stop every later one. Its content never left this node; a
// write over it is sent as usual.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <vector>

#include "core/status.h"
#include "replication/grant.h"
#include "replication/messages.h"
#include "storage/record.h"
#include "storage/store.h"

namespace shopsync {

struct BatchLimits {
  std::size_t max_records = 1000;
  std::size_t max_bytes = 1 << 20;
};

class DeltaCursor {
 public:
  // `puller` is the knowledge the Pull carried (empty for a snapshot);
  // `target` the sender's knowledge when the Pull arrived.
  DeltaCursor(const VersionVector& puller, const VersionVector& target, bool snapshot);
  // The same, also sending the versions the sender holds above its
  // knowledge, up to `held_above` per origin (docs/replication.md, "Writer
  // ids": versions whose origin may have lost them). No version whose dot is
  // in `puller_holds` (Pull.held) is sent, below `target` or above it: the
  // puller has it. `base` and `complete` never pass `target`.
  DeltaCursor(const VersionVector& puller, const VersionVector& target, const VersionVector& held_above,
              std::set<Dot> puller_holds, bool snapshot);

  // The next batch, read in the caller's read transaction. A batch holds at
  // least one record unless the answer has nothing (left) to send; `more`
  // is false on the last one.
  Result<Batch> next(StoreReader& reader, const BatchLimits& limits);
  bool done() const { return next_origin_ >= origins_.size(); }
  // The sender dropped `dots` from their records (superseded them) while this
  // answer was in progress. One the answer still had to send leaves a gap
  // whose superseding write no batch of the answer brings: `base` and
  // `complete` stop below it.
  void superseded(const std::vector<Dot>& dots);
  bool snapshot() const { return snapshot_; }
  // Partial replication: sends only the records in `scope` (the puller's
  // read scope). A record outside it goes as a leave entry (Batch.left: its
  // key and context) when its context shares an origin with `puller` (the
  // Pull's knowledge: the puller may hold a version of it), and is skipped
  // otherwise; `complete` passes both (the puller's knowledge is relative to
  // its scope).
  void restrict_to(Scope scope, VersionVector puller);
  // Sends these records first (whole if in the scope, else as a leave),
  // whatever their dots (Pull.want).
  void add_wanted(std::vector<RecordKey> keys) { wanted_ = std::move(keys); }

 private:
  std::vector<NodeId> origins_;  // origins where target is ahead of the puller
  std::size_t next_origin_ = 0;
  VersionVector progress_;  // per origin of origins_, the counter sent up to
  VersionVector target_;    // per origin, how far to scan (knowledge or held above it)
  VersionVector claim_;     // the sender's knowledge: what base and complete may say
  std::set<Dot> puller_holds_;
  bool snapshot_;
  std::optional<Scope> scope_;
  VersionVector puller_;
  std::vector<RecordKey> wanted_;
};

// An estimate of a record's size in a batch on the wire, for batch limits.
std::size_t estimated_size(const RecordKey& key, const PackedRecord& record);

// The puller's knowledge after committing `batch`: each origin with
// knowledge >= batch.base is raised to batch.complete; others are left alone
// (an earlier batch of the answer is missing).
VersionVector apply_completeness(const VersionVector& knowledge, const Batch& batch);

}  // namespace shopsync
