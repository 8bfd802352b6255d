// The replication core of one node: an event-driven state machine with no I/O
// of its own (STYLE.md: NuRaft, etcd-raft).
//
// Events in: local commands (put, remove, resolve), peer events
// (peer_connected, peer_disconnected, receive) and tick(). Effects out: one
// Store::write per event that changes data (records, change index, knowledge,
// node counter, HLC and conflict log together), and messages / notices pushed
// into the Outbox passed to the call, after the commit. The daemon (node/)
// drives it from its event loop; the simulator (tests/replication/sim/) drives
// the very same code with a fake network and manual clocks.
//
// Protocol summary (docs/replication.md has the whole story):
//   - puller -> sender  Pull{knowledge, credit[, snapshot, held]}
//   - sender -> puller  Batch{records, base, complete, more} x credit
//   - puller -> sender  Credit{1} after committing each Batch with more
//   - anyone -> peers   Notify{knowledge} after a commit that changed data
//   - sender -> puller  SnapshotRequired when the puller's knowledge is below
//                       the sender's tombstone horizon; the puller then sends
//                       Pull{snapshot = true}.
// The node owns sockets, HELLO/ERROR/heartbeats and the wire encoding.
//
// Persistence: NodeMeta, records, change index and conflict log through the
// Store API; in Table::settings the keys "replication/peer/<16 hex digits>"
// (a peer's last known knowledge), "replication/horizon" (the tombstone
// horizon) and "replication/writers" (every writer id this store's node has
// written under, with its last counter), all in the text form of
// core/version_vector.h.
//
// Thread-safety: none. One thread (the node's event loop) calls everything.
// Readers elsewhere may read the Store directly (read transactions) and use
// make_visible() to show a record exactly as the Replica would.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "replication/clock.h"
#include "replication/hlc.h"
#include "replication/messages.h"
#include "replication/outbox.h"
#include "replication/strategy.h"
#include "storage/record.h"
#include "storage/store.h"

namespace shopsync {

struct DevicePush;           // device_push.h
struct DeviceChangeOutcome;  // device_push.h
struct DeviceResolve;        // device_push.h
class AccessPolicy;          // access_policy.h

struct ReplicaOptions {
  // This node's id. Used when the store has no NodeMeta yet (must then be
  // non-zero); when the store has one, 0 means "take the stored id" and any
  // other value must match it (refused otherwise).
  NodeId node_id = 0;
  // Cluster name. Stored at first open; a store of another cluster is refused.
  std::string cluster;
  // This node plays the uplink (cloud server) role: its writes carry
  // uplink_origin = true (server_wins / client_wins).
  bool uplink = false;
  // Draws the *writer id* of this Replica: the origin of every dot it issues,
  // fresh at every open() so that a node whose store went back in time (a
  // restored backup) never issues a dot it issued before (docs/replication.md,
  // "Writer ids"). Drawn again while it returns 0, this node's id or an origin
  // the store already knows. Empty: 64 bits from std::random_device. Tests
  // and the simulator pass a deterministic source.
  std::function<NodeId()> draw_writer_id;

  // Strategy per collection; collections not listed use default_strategy.
  // Every node of a cluster must be configured alike.
  std::map<std::string, StrategyKind, std::less<>> strategies;
  StrategyKind default_strategy = StrategyKind::newest_wins;
  std::uint64_t tolerance_ms = kDefaultToleranceMs;

  // Batch limits of a delta answer: a batch stops at whichever comes first
  // (a single record larger than max_batch_bytes still goes alone).
  std::size_t max_batch_records = 1000;
  std::size_t max_batch_bytes = 1 << 20;
  // Batches a puller allows in flight (Pull.credit); it grants one more
  // (Credit{1}) per batch committed, or per batch queued for a group commit
  // (queue_batch). A sender caps any grant at max_credit.
  std::uint32_t initial_credit = 4;
  std::uint32_t max_credit = 64;
  // Batches queue_batch() holds at most before it commits them.
  std::size_t max_group_batches = 8;

  // The monotonic clock the core's timers read (pull interval and timeout,
  // tombstone scans); the Clock given to open() is the wall clock, read only
  // for timestamps (HLC, last_sync_ms, tombstone age). A wall clock that steps
  // (NTP) must not drive timers: the daemon passes a SteadyClock, the
  // simulator its unskewed time. Null: the wall clock drives the timers too,
  // for tests that move one ManualClock forward only. Must outlive the Replica.
  Clock* timers = nullptr;
  // A received HLC reading further ahead of the wall clock than this is not
  // adopted into this node's clock (hlc.h, "Max offset"); the peer that sent
  // it is counted in PeerStats::readings_ahead. The daemon passes
  // --max-clock-skew-ms.
  std::uint64_t max_clock_offset_ms = HybridClock::kNoMaxOffset;

  // Safety-net pull toward each connected peer when no pull ran for this long.
  std::uint64_t pull_interval_ms = 30'000;
  // A pull answer that makes no progress for this long is asked again.
  std::uint64_t pull_timeout_ms = 10'000;

  // Tombstones are removed only when every known peer's knowledge covers them
  // and they are at least this old (by their HLC's wall part).
  std::uint64_t tombstone_retention_ms = 7ull * 24 * 3600 * 1000;
  // How often tick() scans for removable tombstones.
  std::uint64_t tombstone_scan_interval_ms = 3600'000;
  // Records one tick() looks at in such a scan: a scan of a large store goes
  // on over several ticks (a million records: 100 ticks) instead of holding
  // the node's loop and the write transaction for seconds, which also kept
  // every sync and write waiting at each start.
  std::size_t tombstone_scan_slice = 10'000;

  // Grants (docs/replication.md, "Partial replication"): this node's read
  // scope (what it holds; read at open), its write scope (local writes) and
  // its peers' (what it sends them, what it accepts from them). Null: nothing
  // is restricted. Must outlive the Replica.
  const AccessPolicy* access = nullptr;
};

// A write of some or all fields of a record. Values are MessagePack-packed
// field values (one object each); nullopt removes the field.
struct FieldUpdate {
  std::map<std::string, std::optional<std::string>, std::less<>> fields;
  // true: the record becomes exactly `fields` (fields not listed are removed).
  // false: only the listed fields change, the others keep their value.
  bool replace = true;
};

// One local write of a batch (Replica::apply_local_writes): a put of `update`
// (whole record or field patch, as FieldUpdate::replace says) or, when
// `remove` is true, a tombstone (`update` is then ignored).
struct LocalWrite {
  RecordKey key;
  FieldUpdate update;
  bool remove = false;
};

// How a conflicted record is resolved by hand: choose one sibling, or supply
// the merged fields (a whole-record replacement).
struct Resolution {
  std::optional<Dot> choose;             // a sibling's dot
  std::optional<FieldUpdate> fields;     // used when `choose` is empty
  // Optional guard: the context the user saw. When set and the record now has
  // a sibling it does not cover, resolve() fails (refused) instead of silently
  // superseding a version the user never saw.
  std::optional<VersionVector> seen;
};

// A record as the API shows it: the visible value under the collection's
// strategy, plus the siblings and causal context behind it.
struct VisibleRecord {
  RecordKey key;
  StrategyKind strategy = StrategyKind::newest_wins;
  Outcome visible;                 // fields, deleted, winner, conflicted, ...
  std::vector<Version> siblings;   // sorted by dot
  VersionVector context;
  bool operator==(const VisibleRecord&) const = default;
};

// What the core knows about one peer (in memory; knowledge also persisted).
struct PeerStats {
  NodeId id = 0;
  bool connected = false;
  VersionVector knowledge;        // latest the peer told us (HELLO, Pull, Notify)
  std::uint64_t records_in = 0;   // records received in batches from it
  std::uint64_t records_out = 0;  // records sent to it
  std::uint64_t batches_in = 0;
  std::uint64_t batches_out = 0;
  std::uint64_t last_sync_ms = 0;  // wall ms of the last batch committed from it
  // Batches from it whose newest HLC reading was too far ahead of our clock to
  // adopt (ReplicaOptions::max_clock_offset_ms): written by a fast clock, its
  // own or one it relays.
  std::uint64_t readings_ahead = 0;
  // Records of its batches refused: outside its write scope.
  std::uint64_t records_refused = 0;
  bool pull_in_flight = false;
  bool snapshot_in_progress = false;
};

class Replica {
 public:
  // Loads NodeMeta (or creates it: counter 0, empty knowledge) and the
  // persisted peer knowledge and tombstone horizon, and draws this Replica's
  // writer id. `store` and `clock` (the wall clock) must outlive the Replica. Errors:
  // invalid_argument (node_id 0 on a new store, a bad option, no usable
  // writer id drawn), refused (other cluster or node id), and the store's
  // errors.
  static Result<std::unique_ptr<Replica>> open(Store& store, Clock& clock, ReplicaOptions options);

  ~Replica();
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // ---- local API: each is one Store::write; Notify goes to connected peers.
  // Errors: invalid_argument (bad key, bad or empty packed value), too_large
  // (record over the size limit), the store's errors. Nothing changes on
  // error.
  Result<VisibleRecord> put(const RecordKey& key, const FieldUpdate& update, Outbox& out);
  // Writes a tombstone. not_found when the record is unknown or already deleted.
  Result<VisibleRecord> remove(const RecordKey& key, Outbox& out);
  // Many local writes in ONE Store::write (one commit, one fsync) and one
  // Notify to connected peers after it. Each write is exactly what put() or
  // remove() would do, in order (a key written twice sees its earlier write).
  // Errors are per record: the answer holds one result per write, in order;
  // a write with a bad key or value (invalid_argument, found before the
  // transaction), too large (too_large) or nothing to remove (not_found) gets
  // its own error and the others still apply. The outer Result fails only for
  // what concerns the whole batch, the store's errors; then nothing of the
  // batch is applied. put()/remove() are this
  // with a batch of one.
  Result<std::vector<Result<VisibleRecord>>> apply_local_writes(const std::vector<LocalWrite>& writes, Outbox& out);
  // The same, with `settings` (Table::settings, key -> value) written in the
  // same Store::write, even when no write of the batch applies: a position in
  // an outside source (the PostgreSQL LSN the writes came from) commits with
  // the writes, so they are applied exactly once.
  Result<std::vector<Result<VisibleRecord>>> apply_local_writes(const std::vector<LocalWrite>& writes, Outbox& out,
                                                                const std::map<std::string, std::string>& settings);
  // A device's push through the HTTP gateway (device_push.h): each change
  // decided against what the device last saw and the node's state, the
  // writes, device conflicts (also appended to the conflict log), the
  // device's seen versions and its state in ONE Store::write; one Notify to
  // connected peers after it when something was written. One outcome per
  // change, in order; a change that fails alone (too_large, invalid_argument,
  // a stored record that does not decode) gets its error and the others
  // apply. The outer Result fails for the store's errors: then nothing of the
  // push is stored, the device's state included.
  Result<std::vector<DeviceChangeOutcome>> apply_device_push(const DevicePush& push, Outbox& out);
  // A device settles a conflict (device_push.h): the resolution or new
  // record (with fields), what the device now holds and its resend list in
  // ONE Store::write. Returns the record as it now is. Errors: not_found
  // (keeping the node's version of a record it does not show),
  // invalid_argument, too_large, the store's errors; nothing changes on error.
  Result<VisibleRecord> apply_device_resolve(const DeviceResolve& resolve, Outbox& out);
  // A local write whose context covers every sibling. not_found (unknown
  // record or no sibling with the chosen dot), refused (`seen` guard),
  // invalid_argument (neither choose nor fields).
  Result<VisibleRecord> resolve(const RecordKey& key, const Resolution& resolution, Outbox& out);
  // nullopt when the record is unknown here (a tombstone is returned, with
  // visible.deleted = true).
  Result<std::optional<VisibleRecord>> get(const RecordKey& key);

  // ---- peers
  // After the node's HELLO exchange with `peer`: pulls at once if the peer
  // knows something we do not. `told` is the knowledge our HELLO gave the
  // peer; if ours has grown since, the peer gets a Notify (a write between
  // our HELLO and now notified no one, and the peer has just replaced what
  // earlier Notifies told it with that HELLO's knowledge).
  void peer_connected(NodeId peer, const VersionVector& their_knowledge, const VersionVector& told, Outbox& out);
  // The same when the peer heard our knowledge as it is now.
  void peer_connected(NodeId peer, const VersionVector& their_knowledge, Outbox& out) {
    peer_connected(peer, their_knowledge, knowledge(), out);
  }
  // Ends any answer in progress toward the peer; its knowledge is kept (and
  // still holds back tombstone removal until forget_peer()).
  void peer_disconnected(NodeId peer);
  // Stops counting `peer` for tombstone removal (an operator removed it).
  Status forget_peer(NodeId peer);
  // A message from a connected peer. protocol when it breaks the protocol
  // (invalid keys or states in a batch): nothing of it is applied and the
  // node should answer ERROR. Store errors are returned as they are.
  Status receive(NodeId from, const Message& message, Outbox& out);
  // Group commit, for a node that reads several messages at a time: a Batch
  // taken off the socket while more may follow. It is checked as receive()
  // would (protocol, nothing queued), and when its answer goes on the sender
  // gets its Credit{1} at once, so that it keeps sending while this node
  // commits. The batches queued are committed together, in one Store::write,
  // at commit_queued(), receive() and tick(), when max_group_batches are
  // queued, and with the last batch of an answer. Nothing of a queued batch is told before its commit (no Notify,
  // no knowledge in a Pull, no change or conflict notice); a peer's queued
  // batches are dropped when it disconnects (its answer will start again
  // from what was committed), as is the queue when the Replica is destroyed.
  Status queue_batch(NodeId from, Batch batch, Outbox& out);
  // Commits the batches queue_batch() holds. Store errors: the batches are
  // dropped (their senders' answers stall, then are asked again).
  Status commit_queued(Outbox& out);
  // Periodic work: safety-net pulls, re-asking stalled answers, tombstone
  // removal. Call every second or so; it reads the Clock.
  Status tick(Outbox& out);

  // ---- introspection
  // The node's stable identity (sessions, peers, conflict log `detected_by`).
  NodeId id() const;
  // The origin of the dots this Replica issues (new at every open()).
  NodeId writer() const;
  // Whether `origin` is a writer id this node has written under (or its node id).
  bool is_own_origin(NodeId origin) const;
  // Writes made at this node, all writer ids together (NodeMeta::counter).
  std::uint64_t local_writes() const;
  const std::string& cluster() const;
  // For a scoped node (its read scope is restricted), its own writes only:
  // what it received is kept per upstream (docs/replication.md, "Scoped
  // knowledge").
  const VersionVector& knowledge() const;
  // This node's read scope is restricted.
  bool scoped() const;
  Hlc clock() const;
  const VersionVector& tombstone_horizon() const;
  StrategyKind strategy_for(std::string_view collection) const;
  // A new strategy table (shopsyncd's reload on SIGHUP): visible values are
  // chosen with it from now on. Nothing stored changes: siblings are kept
  // whatever the strategy, so the visible value is recomputed, never lost.
  void set_strategies(std::map<std::string, StrategyKind, std::less<>> strategies, StrategyKind default_strategy,
                      std::uint64_t tolerance_ms);
  std::vector<PeerStats> peers() const;
  // Per collection, how many live versions we hold that `peer`'s knowledge
  // lacks (what it would pull from us now).
  Result<std::map<std::string, std::uint64_t>> pending_changes(NodeId peer);

  // The record as the API shows it, from a state read by the caller.
  VisibleRecord make_visible(const RecordKey& key, const RecordState& state) const;

  struct Impl;

 private:
  explicit Replica(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace shopsync
