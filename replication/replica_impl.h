// Internal to replication/: the state behind Replica, shared by the files
// that implement it by concern (replica.cc: open and local writes;
// replica_sync.cc: peers and the delta protocol; tombstones.cc: removal of
// tombstones and the horizon). Not a public header.
#pragma once

#include <map>
#include <optional>
#include <set>

#include "replication/access_policy.h"
#include "replication/delta.h"
#include "replication/replica.h"

namespace shopsync {

// The sender's side of one answer in progress toward a peer.
struct OutgoingAnswer {
  DeltaCursor cursor;
  std::uint32_t credit = 0;
  std::uint64_t answer = 0;  // Pull.answer, echoed in every batch
};

// What the puller tracks of a snapshot it is taking from one peer. Its
// knowledge is not advanced until the last batch, so a snapshot cut short is
// simply started again (and SnapshotRequired asked again).
struct IncomingSnapshot {
  VersionVector progress;       // `complete` of the last batch applied in sequence
  std::set<RecordKey> keys;     // every key the sender has sent so far
  bool broken = false;          // a batch was missed: restart at the end
  VersionVector horizon;        // the sender's tombstone horizon, adopted at the end

  // Starts over (a batch was missed or the answer stalled); the horizon stays.
  void restart() {
    progress = VersionVector{};
    keys.clear();
    broken = false;
  }
};

struct PeerState {
  PeerStats stats;
  bool dirty = false;  // its PeerProgress is to be persisted at the next tick
  // Puller side.
  // Timer clock (ReplicaOptions::timers) readings.
  std::uint64_t last_pull_ms = 0;      // when the last Pull was sent
  std::uint64_t last_progress_ms = 0;  // last Pull sent or batch received
  bool answer_changed_data = false;    // some batch of the current answer changed data
  // What the current answer's batches have claimed complete so far. Joined
  // into knowledge only with the last batch of an answer received whole: a
  // claim may pass a dot superseded at the sender by a write that another
  // batch brings, and an answer cut short or missing a batch (its sender then
  // restored from an older copy) must not leave us knowing a dot we neither
  // hold nor saw superseded. A missed batch shows at the last one: its `base`
  // is then above what we know and the claims together.
  VersionVector claimed;
  std::optional<IncomingSnapshot> snapshot;
  // Pull.answer of the Pull in flight.
  std::uint64_t pull_answer = 0;
  // A record of the current answer was refused (outside the peer's write
  // scope): its claims are not joined, and the next pull waits for the
  // safety-net interval.
  bool refused_in_answer = false;
  // A scoped node: the join of this peer's claims to it (settings
  // kReceivedKeyPrefix), raised per batch received in sequence.
  VersionVector received;
  // Sender side.
  std::optional<OutgoingAnswer> answer;
};

// Where the tombstone scan in progress goes on at the next tick (one slice
// of records per tick, ReplicaOptions::tombstone_scan_slice). Outside Impl:
// clang cannot default-construct a nested class with member initializers
// before the enclosing class is complete (optional::emplace()).
struct TombstoneScan {
  std::optional<std::vector<std::string>> collections;  // listed by the first slice
  std::size_t next = 0;     // index into collections
  std::string after_id;     // last id looked at in collections[next]
};

// A received Batch waiting for the commit of its group (Replica::queue_batch).
struct QueuedBatch {
  NodeId from = 0;
  Batch batch;
  Hlc detected_at = 0;  // observe_batch() at its arrival
};

struct Replica::Impl {
  Impl(Store& s, Clock& c, ReplicaOptions o, NodeMeta m)
      : store(s),
        wall(c),
        timers(o.timers ? *o.timers : c),
        options(std::move(o)),
        meta(std::move(m)),
        hlc(c, meta.clock, options.max_clock_offset_ms) {}

  Store& store;
  Clock& wall;    // timestamps: HLC, last_sync_ms, tombstone age
  Clock& timers;  // durations: pull interval and timeout, tombstone scans
  ReplicaOptions options;
  NodeMeta meta;  // as committed
  NodeId writer = 0;       // origin of the dots this Replica issues (drawn at open)
  std::uint64_t issued = 0;  // last counter issued under `writer`, as committed
  VersionVector writers;   // kWritersKey: every writer id of this node, as committed
  // kHeldAboveKey: per origin, the highest dot held here above our knowledge
  // (received before the batches that complete it; see close_over_held), as
  // committed. Sent on with every answer so that it cannot be stranded here.
  VersionVector held_above;
  HybridClock hlc;
  VersionVector horizon;  // join of the dots of removed tombstones
  std::map<NodeId, PeerState> peers;
  std::optional<std::uint64_t> last_tombstone_scan_ms;  // timer clock; none yet: scan at the first tick
  std::optional<TombstoneScan> tombstone_scan;  // the scan in progress, if any
  // This node's read scope when restricted (read at open), else none.
  std::optional<Scope> own_scope;
  std::uint64_t pull_seq = 0;  // numbers the Pulls (Pull.answer)
  // A scoped node: records whose whole state it must ask for (Pull.want;
  // settings kWantKeyPrefix), as committed.
  std::set<RecordKey> wanted;
  // Batches received and checked, their credit returned, not yet committed
  // (group commit: Replica::queue_batch). In arrival order.
  std::vector<QueuedBatch> queued;

  bool scoped() const { return own_scope.has_value(); }
  // What our Pulls to `peer` and Notifies tell it we know: for a scoped node,
  // its own writes and what it received from that peer.
  VersionVector knowledge_toward(const PeerState& ps) const;
  Scope write_scope_of(NodeId node) const;
  // Two scoped nodes do not sync with each other: each syncs with full nodes
  // (docs/replication.md, "Topology").
  bool syncs_with(NodeId peer) const { return !scoped() || read_scope_of(peer).unrestricted(); }
  Scope read_scope_of(NodeId node) const;

  StrategyKind strategy_for(std::string_view collection) const;
  // The record's state before a write, where a stored state that does not
  // decode reads as unreadable_state() of its dots (and sets `unreadable`): a
  // bad record can always be overwritten or deleted, by this node or by a
  // peer's batch.
  Result<std::optional<RecordState>> state_to_write_over(StoreReader& reader, const RecordKey& key,
                                                         bool* unreadable = nullptr) const;
  VisibleRecord make_visible(const RecordKey& key, const RecordState& state) const;
  // A record a received batch changed: its new state, or the batch's packed
  // record stored as it came, or neither when it was erased.
  struct ChangedRecord {
    RecordKey key;
    std::optional<RecordState> state;
    const PackedRecord* packed = nullptr;
  };
  // Outbox::changed for it, making its visible value only for an outbox that reads it.
  void report_changed(const ChangedRecord& c, Outbox& out) const;
  PeerState& peer(NodeId id);
  // Tells every answer in progress which dots a commit superseded
  // (DeltaCursor::superseded), but the one to the peer whose batch brought the
  // new states: that peer holds them.
  void superseded(const std::vector<Dot>& dots, std::optional<NodeId> except = std::nullopt);

  // Local writes (replica.cc). `make` builds the new version from the
  // record's current state (inside the transaction) and the write's HLC.
  using MakeVersion = std::function<Result<Version>(const std::optional<RecordState>&, Hlc now)>;
  struct LocalStep {
    RecordKey key;
    MakeVersion make;
    Status precheck = Status::ok();  // not ok: the step is skipped with this error
  };
  // The local writes of one Store::write in progress: the node meta and
  // writer counter they advance, and the dots they supersede. begin() at the
  // start of every run of the body (it may run more than once).
  struct LocalTxn {
    NodeMeta meta;
    std::uint64_t issued = 0;
    std::vector<Dot> dropped;
    std::vector<RecordKey> wanted;  // a scoped node's writes from nothing
    void begin(const Impl& impl);
  };
  // One local write inside `w`: the version `make` builds over the record's
  // current state, stamped `now`, under a new dot. `written` gets the new
  // state, or the record's own error (make's, too_large, invalid_argument),
  // which leaves the store and `tx` unchanged. Returns what fails the whole
  // transaction (the store's errors).
  Status write_version(StoreWriter& w, LocalTxn& tx, const RecordKey& key, const MakeVersion& make, Hlc now,
                       Result<RecordState>& written) const;
  // Stores the node meta and writer counter `tx` advanced (nothing if none).
  Status finish_local(StoreWriter& w, const LocalTxn& tx) const;
  // After the commit: adopts what `tx` advanced and tells the answers in
  // progress what it superseded. True when something was written (the
  // caller then notifies the peers).
  bool committed_local(LocalTxn& tx);
  // All steps in one Store::write, one result per step (see
  // Replica::apply_local_writes); write_local is a batch of one.
  // `settings` (Table::settings) are written in the same transaction.
  Result<std::vector<Result<VisibleRecord>>> write_local_batch(std::vector<LocalStep>& steps, Outbox& out,
                                                               const std::map<std::string, std::string>& settings = {});
  Result<VisibleRecord> write_local(const RecordKey& key, Outbox& out, MakeVersion make);
  void notify_peers(Outbox& out, std::optional<NodeId> except = std::nullopt);

  // A device's push (device_push.cc; Replica::apply_device_push).
  Result<std::vector<DeviceChangeOutcome>> apply_device_push(const DevicePush& push, Outbox& out);
  Result<VisibleRecord> apply_device_resolve(const DeviceResolve& resolve, Outbox& out);

  // Sync (replica_sync.cc).
  void send_pull(NodeId peer, bool snapshot, Outbox& out);
  void maybe_pull(NodeId peer, Outbox& out);
  Status pump(NodeId peer, Outbox& out);
  Status on_pull(NodeId from, const Pull& pull, Outbox& out);
  bool of_current_answer(NodeId from, const Batch& batch);
  Status on_batch(NodeId from, const Batch& batch, Outbox& out);
  // Group commit (Replica::queue_batch, Replica::commit_queued).
  Status queue_batch(NodeId from, Batch batch, Outbox& out);
  Status commit_queued(Outbox& out);
  // protocol when a record or key of the batch breaks the rules.
  static Status check_batch(const Batch& batch);
  // Received batches being applied in one Store::write (one batch, or a
  // group): the node meta, horizon and held_above they advance, and each
  // sender's claims and refusals so far. begin() at the start of every run of
  // the body (it may run more than once).
  struct ReceiveTxn {
    NodeMeta next;
    VersionVector horizon;
    VersionVector held_above;
    std::map<NodeId, VersionVector> claimed;  // PeerState::claimed
    std::map<NodeId, bool> refusing;          // PeerState::refused_in_answer
    void begin(const Impl& impl);
  };
  // What one batch did inside it, for after the commit.
  struct BatchEffects {
    std::vector<ChangedRecord> changed;
    std::vector<ConflictEntry> conflicts;
    std::vector<std::pair<RecordKey, std::string>> refused;
    std::vector<Dot> dropped;  // superseded, for the answers in progress
    VersionVector claimed;     // the sender's claims after it (PeerState::claimed)
    bool knowledge_grew = false;
  };
  // Applies one batch inside `w`, on top of what `tx` holds. `finishing`: the
  // last batch of a complete snapshot.
  Status apply_batch(StoreWriter& w, NodeId from, const Batch& batch, Hlc detected_at, bool finishing, ReceiveTxn& tx,
                     BatchEffects& effects);
  // Stores what `tx` advanced (held_above, node meta), then after the commit adopts it.
  Status finish_received(StoreWriter& w, const ReceiveTxn& tx) const;
  void adopt_received(ReceiveTxn& tx);
  Status close_over_held(StoreReader& r, const Batch& batch, VersionVector& knowledge);
  VersionVector held_above_after(const VersionVector& held, const Batch& batch, const VersionVector& knowledge) const;
  Status on_credit(NodeId from, const Credit& credit, Outbox& out);
  Status on_notify(NodeId from, const Notify& notify, Outbox& out);
  Status on_snapshot_required(NodeId from, const SnapshotRequired& required, Outbox& out);
  // After a batch's commit: the peer's claims and counters, the answers in
  // progress told what it superseded, the notices (changed, conflict, refused).
  void committed_batch(NodeId from, const Batch& batch, const BatchEffects& effects, Outbox& out);
  // The tail of a committed batch: credit (unless `credited` already, at its
  // arrival), the end of the answer, snapshot bookkeeping, notices and the next pull.
  void after_batch(NodeId from, const Batch& batch, bool snapshot_active, bool in_sequence, bool finishing,
                   bool credited, Outbox& out);

  // Partial replication (scoped_sync.cc).
  Status open_scope();
  Status on_scoped_batch(NodeId from, const Batch& batch, Outbox& out);
  // A local write at a node whose write scope is restricted: refused when the
  // new version or a version it supersedes is outside it.
  Status check_local_write(const RecordKey& key, const std::optional<RecordState>& current,
                           const Version& version) const;
  // Reads a batch's HLC readings into our clock; returns the reading that
  // stamps what the batch detects (conflicts).
  Hlc observe_batch(PeerState& ps, const Batch& batch);
  // Appends a conflict entry when a merge left `merged` with a sibling new
  // to `before` among several.
  Status log_conflict(StoreWriter& w, const RecordKey& key, const RecordState& before, const RecordState& merged,
                      Hlc detected_at, std::vector<ConflictEntry>& conflicts);
  // The last batch of a complete snapshot: for each record we hold that the
  // sender did not send, the siblings its knowledge covers (it saw them and no
  // longer has them) removed. Only the records that change.
  Result<std::vector<std::pair<RecordKey, RecordState>>> snapshot_purge(StoreReader& r, const PeerState& ps,
                                                                        const Batch& batch);

  // Tombstones and the persisted state of peers (tombstones.cc; peer_progress.h).
  Status load_persisted();
  Status draw_writer();
  Status persist_peers_and_horizon(StoreWriter& w);
  // One slice of the tombstone scan in progress; ends it after the last.
  Status collect_tombstones(Outbox& out);
};

// invalid_argument naming a bad field name or value of `update`.
Status validate_update(const FieldUpdate& update);
// The versions of put() and remove() (replica.cc). REQUIRES: `update` and
// `key` outlive the returned function.
Replica::Impl::MakeVersion make_put_version(const FieldUpdate& update, StrategyKind kind, std::uint64_t tolerance);
Replica::Impl::MakeVersion make_remove_version(const RecordKey& key, StrategyKind kind, std::uint64_t tolerance);
// The version of resolve(), and what it checks before the transaction.
Replica::Impl::MakeVersion make_resolve_version(const RecordKey& key, const Resolution& resolution, StrategyKind kind,
                                                std::uint64_t tolerance);
Status validate_resolution(const Resolution& resolution);

// Settings keys (replica.h, "Persistence").
inline constexpr std::string_view kHorizonKey = "replication/horizon";
inline constexpr std::string_view kWritersKey = "replication/writers";
inline constexpr std::string_view kHeldAboveKey = "replication/held_above";
inline constexpr std::string_view kReceivedKeyPrefix = "replication/received/";
inline constexpr std::string_view kLeftKeyPrefix = "replication/left/";
inline constexpr std::string_view kScopeKey = "replication/scope";
inline constexpr std::string_view kWantKeyPrefix = "replication/want/";
std::string want_key(const RecordKey& key);

// A received record's new sibling, or a sibling of ours it supersedes, outside
// `writer`'s write scope: the reason, or "" when the record may be taken.
std::string write_violation(const Scope& writer, const RecordKey& key, const RecordState& before,
                            const RecordState& remote);

}  // namespace shopsync
