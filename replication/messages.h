// The messages the replication core exchanges with its peers (DESIGN.md,
// "Knowledge and deltas"). The core produces and consumes these as values; the
// node encodes them on the wire (node/wire_codec.h, docs/wire-format.md).
#pragma once

#include <cstdint>
#include <utility>
#include <variant>
#include <vector>

#include "storage/packed_record.h"
#include "storage/record.h"

namespace shopsync {

// "Send me what my knowledge does not cover; at most `credit` batches for now."
inline constexpr std::size_t kMaxPullHeld = 10'000;
inline constexpr std::size_t kMaxPullWant = 1'000;

struct Pull {
  VersionVector knowledge;
  std::uint32_t credit = 0;
  // Added by the replication core (appended on the wire): ask for a full
  // snapshot (every live record) rather than a delta; sent after
  // SnapshotRequired. See docs/replication.md, "Tombstones".
  bool snapshot = false;
  // Appended: the dots the puller holds above its knowledge (at most
  // kMaxPullHeld), so that the sender does not send those versions again
  // (docs/replication.md, "Writer ids").
  std::vector<Dot> held;
  // Appended (partial replication): the puller's number for this Pull, echoed
  // in every Batch of its answer; a scoped puller takes batches of its current
  // answer only (docs/replication.md, "Partial replication").
  std::uint64_t answer = 0;
  // Appended: records a scoped puller wants sent whole (or as a leave) in
  // this answer whatever their dots: it wrote them from nothing or holds a
  // version of them the sender lacked (at most kMaxPullWant).
  std::vector<RecordKey> want;
  bool operator==(const Pull&) const = default;
};

// A record outside a scoped puller's read scope (Batch.left): its context
// and the dots of its live siblings (one per origin at most), so that the
// puller drops the versions the context covers and knows which of them are
// still live out of its scope (they come back if the record re-enters it).
struct LeftRecord {
  RecordKey key;
  VersionVector context;
  VersionVector live;
  bool operator==(const LeftRecord&) const = default;
};

// Part of the answer to a Pull. `complete` says, per origin, the counter up to
// which the sender has now sent everything the puller lacked; the puller may
// raise its knowledge to it once the batch is committed. `more` is true while
// the answer goes on.
//
// Added by the replication core (appended on the wire): `base` says, per origin,
// the counter this batch continues from; the puller raises its knowledge of an
// origin to `complete` only if it already knows that origin up to `base`, so a
// lost or reordered batch can never make it claim what it has not received.
// `snapshot` marks the batches answering a Pull with snapshot = true.
//
// Records travel as they are stored (PackedRecord): neither the sender nor
// the receiver builds their fields unless something needs them.
struct Batch {
  std::vector<std::pair<RecordKey, PackedRecord>> records;
  VersionVector complete;
  bool more = false;
  VersionVector base;
  bool snapshot = false;
  // Appended (partial replication): records outside the puller's read scope
  // that it may hold, with their context: it drops the versions the context
  // covers. And the Pull's `answer`, echoed.
  std::vector<LeftRecord> left;
  std::uint64_t answer = 0;
  bool operator==(const Batch&) const = default;
};

// The puller grants the sender `batches` more batches in flight.
struct Credit {
  std::uint32_t batches = 0;
  bool operator==(const Credit&) const = default;
};

// "This is what I know now": sent to every connected peer after a commit.
struct Notify {
  VersionVector knowledge;
  bool operator==(const Notify&) const = default;
};

// "Your knowledge is older than my tombstone horizon: start from a snapshot."
// Added by the replication core (appended on the wire): `horizon`, the
// sender's tombstone horizon (the dots of the tombstones it removed); the
// puller adopts it when the snapshot completes, so that it in turn sends
// SnapshotRequired to peers still below it.
struct SnapshotRequired {
  VersionVector horizon;
  bool operator==(const SnapshotRequired&) const = default;
};

using Message = std::variant<Pull, Batch, Credit, Notify, SnapshotRequired>;

}  // namespace shopsync
