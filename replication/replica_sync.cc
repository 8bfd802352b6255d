// Replica: peers and the delta protocol (docs/replication.md, "Delta
// protocol"). Pull-based: each side pulls what it lacks from the other; a
// Notify after a commit that changed data tells peers to pull at once, and
// tick() pulls periodically to catch a lost notice.
#include <algorithm>
#include <string>

#include "core/version_vector.h"
#include "replication/conflict_log.h"
#include "replication/replica_impl.h"
#include "replication/sibling_set.h"

namespace shopsync {

namespace {

std::string describe(const RecordKey& key) { return key.collection + "/" + key.id; }

// `remote` without the siblings this node has already seen and dropped: a dot
// our knowledge covers that `local` does not hold was superseded here (or is
// superseded by a write on its way here), even when the record itself is gone
// (its tombstone removed, a snapshot purge) and its context with it. Without
// this, a late or duplicated batch would bring a deleted version back.
RecordState without_known_dropped(const RecordState& remote, const RecordState& local, const VersionVector& knowledge) {
  RecordState out;
  out.context = remote.context;
  for (const Version& v : remote.siblings) {
    const bool held = std::any_of(local.siblings.begin(), local.siblings.end(),
                                  [&](const Version& l) { return l.dot == v.dot; });
    if (held || !knowledge.covers(v.dot)) out.siblings.push_back(v);
  }
  return out;
}

// A record new here whose versions may be stored as they came: one sibling
// (no conflict to log), not one we have already seen and dropped
// (without_known_dropped). Merging it into nothing gives it back unchanged.
bool taken_as_is(const RecordState& heads, const VersionVector& knowledge) {
  return heads.siblings.size() == 1 && !knowledge.covers(heads.siblings.front().dot);
}

}  // namespace

Status Replica::Impl::log_conflict(StoreWriter& w, const RecordKey& key, const RecordState& before,
                                   const RecordState& merged, Hlc detected_at, std::vector<ConflictEntry>& conflicts) {
  if (merged.siblings.size() < 2 || !gained_sibling(before, merged)) return Status::ok();
  ConflictEntry entry =
      make_conflict_entry(key, merged, strategy_for(key.collection), options.tolerance_ms, detected_at, meta.node_id);
  auto seq = w.append_conflict(entry);
  if (!seq) return seq.status();
  entry.seq = *seq;
  conflicts.push_back(std::move(entry));
  return Status::ok();
}

Hlc Replica::Impl::observe_batch(PeerState& ps, const Batch& batch) {
  Hlc newest_seen = 0;
  for (const auto& [key, record] : batch.records) {
    for (const Version& v : record.heads().siblings) newest_seen = std::max(newest_seen, v.updated_at);
  }
  if (!hlc.observe(newest_seen)) ++ps.stats.readings_ahead;
  return hlc.now();
}

Result<std::vector<std::pair<RecordKey, RecordState>>> Replica::Impl::snapshot_purge(StoreReader& r,
                                                                                     const PeerState& ps,
                                                                                     const Batch& batch) {
  std::vector<std::pair<RecordKey, RecordState>> purged;
  auto names = r.collections();
  if (!names) return names.status();
  for (const std::string& name : *names) {
    SHOPSYNC_TRY(r.for_each_record(name, "", [&](const RecordKey& key, const RecordState& state) {
      if (ps.snapshot->keys.count(key) != 0) return Scan::next;
      if (std::any_of(batch.records.begin(), batch.records.end(), [&](const auto& rec) { return rec.first == key; })) {
        return Scan::next;
      }
      RecordState kept;
      kept.context = state.context;
      for (const Version& v : state.siblings) {
        if (!batch.complete.covers(v.dot)) kept.siblings.push_back(v);
      }
      if (kept.siblings.size() != state.siblings.size()) {
        if (kept.siblings.empty()) kept.context = VersionVector{};
        purged.emplace_back(key, std::move(kept));
      }
      return Scan::next;
    }));
  }
  return purged;
}

void Replica::Impl::report_changed(const ChangedRecord& c, Outbox& out) const {
  if ((!c.state && c.packed == nullptr) || !out.reads_records()) {
    out.changed(c.key, nullptr);
    return;
  }
  const VisibleRecord visible = make_visible(c.key, c.state ? *c.state : c.packed->decode());
  out.changed(c.key, &visible);
}

void Replica::Impl::send_pull(NodeId peer_id, bool snapshot, Outbox& out) {
  PeerState& ps = peer(peer_id);
  Pull pull;
  if (!snapshot) pull.knowledge = knowledge_toward(ps);
  // What we hold above our knowledge, so that it is not sent again. Should
  // the read fail, the Pull goes without: the answer may then repeat them.
  // (A scoped node keeps no held_above: it passes on only its own writes.)
  Status held = snapshot || scoped() ? Status::ok() : store.read([&](StoreReader& r) -> Status {
    for (const auto& entry : held_above.entries()) {
      const NodeId origin = entry.first;  // named, not bound: clang 14 cannot capture bindings
      const std::uint64_t highest = entry.second;
      SHOPSYNC_TRY(r.for_each_change(origin, meta.knowledge.get(origin), [&](std::uint64_t counter, const RecordKey&) {
        if (counter > highest || pull.held.size() >= kMaxPullHeld) return Scan::stop;
        pull.held.push_back(Dot{origin, counter});
        return Scan::next;
      }));
    }
    return Status::ok();
  });
  if (!held) pull.held.clear();
  pull.credit = options.initial_credit;
  pull.snapshot = snapshot;
  for (const RecordKey& key : wanted) {
    if (snapshot || pull.want.size() >= kMaxPullWant) break;
    pull.want.push_back(key);
  }
  if (++pull_seq == 0) ++pull_seq;  // 0 is "not numbered"
  pull.answer = pull_seq;
  ps.pull_answer = pull.answer;
  ps.refused_in_answer = false;
  const std::uint64_t now = timers.now_ms();
  ps.stats.pull_in_flight = true;
  ps.claimed = VersionVector{};
  ps.last_pull_ms = now;
  ps.last_progress_ms = now;
  ps.answer_changed_data = false;
  out.send(peer_id, std::move(pull));
}

void Replica::Impl::maybe_pull(NodeId peer_id, Outbox& out) {
  PeerState& ps = peer(peer_id);
  if (!ps.stats.connected || ps.stats.pull_in_flight || !syncs_with(peer_id)) return;
  // A peer below our tombstone horizon may still hold versions whose
  // tombstones we removed; taking its records would resurrect them. It gets
  // SnapshotRequired when it pulls from us; once it has caught up we pull.
  // (A scoped peer sends only its own writes; a version of them that a
  // removed tombstone deleted is one our knowledge covers, dropped as seen.)
  if (!ps.stats.knowledge.covers(horizon) && read_scope_of(peer_id).unrestricted()) return;
  if (knowledge_toward(ps).covers(ps.stats.knowledge)) return;
  send_pull(peer_id, false, out);
}

Status Replica::Impl::pump(NodeId peer_id, Outbox& out) {
  PeerState& ps = peer(peer_id);
  const BatchLimits limits{options.max_batch_records, options.max_batch_bytes};
  while (ps.answer && ps.answer->credit > 0) {
    std::optional<Batch> batch;
    SHOPSYNC_TRY(store.read([&](StoreReader& r) -> Status {
      auto next = ps.answer->cursor.next(r, limits);
      if (!next) return next.status();
      batch = std::move(*next);
      return Status::ok();
    }));
    --ps.answer->credit;
    batch->answer = ps.answer->answer;
    ps.stats.records_out += batch->records.size();
    ps.dirty = true;
    ++ps.stats.batches_out;
    if (!batch->more) ps.answer.reset();
    out.send(peer_id, std::move(*batch));
  }
  return Status::ok();
}

Status Replica::Impl::on_pull(NodeId from, const Pull& pull, Outbox& out) {
  PeerState& ps = peer(from);
  ps.stats.knowledge.join(pull.knowledge);
  ps.dirty = true;
  if (!pull.snapshot && !pull.knowledge.covers(horizon)) {
    // We removed tombstones the puller has not seen: a delta would leave it
    // holding the versions they deleted. It must take a snapshot.
    ps.answer.reset();
    out.send(from, SnapshotRequired{horizon});
    return Status::ok();
  }
  // A scoped node never asks for a snapshot (it has no horizon), and answers
  // none: its knowledge is its own writes, and a snapshot's purge would take
  // every record it does not send from the puller.
  if ((pull.snapshot && scoped()) || !syncs_with(from)) return Status::ok();
  // A new Pull replaces any answer in progress: its knowledge says what the
  // puller has committed since, so nothing committed is sent again.
  // Versions held above knowledge go to full pullers only: a scoped one
  // passes on nothing but its own writes, and sends no Pull.held to stop them.
  const bool full_puller = read_scope_of(from).unrestricted();
  ps.answer = OutgoingAnswer{DeltaCursor(pull.snapshot ? VersionVector{} : pull.knowledge, meta.knowledge,
                                         scoped() || !full_puller ? VersionVector{} : held_above,
                                         std::set<Dot>(pull.held.begin(), pull.held.end()), pull.snapshot),
                             std::min(pull.credit, options.max_credit), pull.answer};
  if (Scope theirs = read_scope_of(from); !theirs.unrestricted()) {
    ps.answer->cursor.restrict_to(std::move(theirs), pull.knowledge);
    std::vector<RecordKey> want(pull.want.begin(), pull.want.begin() + std::min(pull.want.size(), kMaxPullWant));
    ps.answer->cursor.add_wanted(std::move(want));
  }
  SHOPSYNC_TRY(pump(from, out));
  maybe_pull(from, out);
  return Status::ok();
}

Status Replica::Impl::on_credit(NodeId from, const Credit& credit, Outbox& out) {
  PeerState& ps = peer(from);
  if (!ps.answer) return Status::ok();  // the answer is over; a late grant
  ps.answer->credit = std::min<std::uint64_t>(std::uint64_t{ps.answer->credit} + credit.batches, options.max_credit);
  return pump(from, out);
}

Status Replica::Impl::on_notify(NodeId from, const Notify& notify, Outbox& out) {
  PeerState& ps = peer(from);
  ps.stats.knowledge.join(notify.knowledge);
  ps.dirty = true;
  maybe_pull(from, out);
  return Status::ok();
}

Status Replica::Impl::on_snapshot_required(NodeId from, const SnapshotRequired& required, Outbox& out) {
  PeerState& ps = peer(from);
  if (!ps.stats.connected) return Status::ok();
  if (ps.snapshot && ps.stats.pull_in_flight) {  // already taking one
    ps.snapshot->horizon.join(required.horizon);
    return Status::ok();
  }
  ps.snapshot = IncomingSnapshot{};
  ps.snapshot->horizon = required.horizon;
  ps.stats.snapshot_in_progress = true;
  send_pull(from, true, out);
  return Status::ok();
}

// A record arrives with all its siblings, some of which may be above what
// this batch completes for their origin (a later batch of the answer brings
// the rest). Should the answer never come (its sender was restored from an
// older copy and lost them), such a sibling would sit here above our
// knowledge, never sent on. Knowledge may move over a held dot that directly
// follows it (every dot up to it is then known here), and that is enough to
// pass it on.
Status Replica::Impl::close_over_held(StoreReader& r, const Batch& batch, VersionVector& knowledge) {
  std::set<NodeId> origins;
  for (const auto& [key, record] : batch.records) {
    for (const Version& v : record.heads().siblings) {
      if (!knowledge.covers(v.dot)) origins.insert(v.dot.origin);
    }
  }
  for (NodeId origin : origins) {
    auto run = r.changes_run_from(origin, knowledge.get(origin));
    if (!run) return run.status();
    knowledge.set(origin, *run);
  }
  return Status::ok();
}

// held_above after committing `batch` with `knowledge` over `held`: raised by
// the batch's versions above it, and an origin dropped once knowledge covers
// its entry. (An entry may outlive the versions it stands for, superseded or
// removed since: the cursor then finds nothing above knowledge.)
VersionVector Replica::Impl::held_above_after(const VersionVector& held, const Batch& batch,
                                              const VersionVector& knowledge) const {
  VersionVector raised = held;
  for (const auto& [key, record] : batch.records) {
    for (const Version& v : record.heads().siblings) {
      if (!knowledge.covers(v.dot)) raised.set(v.dot.origin, std::max(raised.get(v.dot.origin), v.dot.counter));
    }
  }
  VersionVector out;
  for (const auto& [origin, counter] : raised.entries()) {
    if (counter > knowledge.get(origin)) out.set(origin, counter);
  }
  return out;
}

Status Replica::Impl::check_batch(const Batch& batch) {
  for (const auto& [key, record] : batch.records) {
    if (Status s = validate_key(key); !s) return Status::protocol("batch from peer: " + s.message());
    Status s = record.check();
    if (s) s = validate_state(record.heads());
    if (!s) return Status::protocol("batch from peer: record " + describe(key) + ": " + s.message());
  }
  for (const LeftRecord& left : batch.left) {
    if (Status s = validate_key(left.key); !s) return Status::protocol("batch from peer: left " + s.message());
  }
  return Status::ok();
}

void Replica::Impl::ReceiveTxn::begin(const Impl& impl) {
  next = impl.meta;
  horizon = impl.horizon;
  held_above = impl.held_above;
  claimed.clear();
  refusing.clear();
}

Status Replica::Impl::apply_batch(StoreWriter& w, NodeId from, const Batch& batch, Hlc detected_at, bool finishing,
                                  ReceiveTxn& tx, BatchEffects& effects) {
  PeerState& ps = peer(from);
  const Scope sender_writes = write_scope_of(from);
  VersionVector& claimed = tx.claimed.try_emplace(from, ps.claimed).first->second;
  bool& refusing = tx.refusing.try_emplace(from, ps.refused_in_answer).first->second;
  // What this node knows before the batch: committed, or advanced by the
  // batches before it in the same transaction.
  const VersionVector known = tx.next.knowledge;
  for (const auto& [key, packed] : batch.records) {
    bool unreadable = false;
    auto local = state_to_write_over(w, key, &unreadable);
    if (!local) return local.status();
    if (!sender_writes.whole_collection(key.collection)) {
      const RecordState before = local->value_or(RecordState{});
      std::string why = write_violation(sender_writes, key, before, without_known_dropped(packed.decode(), before, known));
      if (!why.empty()) {
        effects.refused.emplace_back(key, std::move(why));
        continue;
      }
    }
    if (!local->has_value() && !unreadable && taken_as_is(packed.heads(), known)) {
      SHOPSYNC_TRY(w.put_packed_record(key, packed));
      effects.changed.push_back(ChangedRecord{key, std::nullopt, &packed});
      continue;
    }
    const RecordState remote = packed.decode();
    RecordState before = local->value_or(RecordState{});
    // What an unreadable record held is lost: the peer's versions replace
    // it (its context still covers the lost dots) instead of competing with
    // empty ones.
    if (unreadable) before.siblings.clear();
    RecordState merged = merge_states(before, without_known_dropped(remote, before, known));
    if (merged == before) continue;
    SHOPSYNC_TRY(w.put_record(key, merged));
    for (const Dot& d : dropped_dots(before, merged)) effects.dropped.push_back(d);
    SHOPSYNC_TRY(log_conflict(w, key, before, merged, detected_at, effects.conflicts));
    effects.changed.push_back(ChangedRecord{key, std::move(merged), nullptr});
  }
  if (!batch.snapshot) {
    VersionVector claimed_so_far = known;
    claimed_so_far.join(claimed);
    VersionVector next_claimed = apply_completeness(claimed_so_far, batch);
    const bool received_whole = claimed_so_far.covers(batch.base);  // no batch of the answer missed
    // A refused record's dot may lie under the claims: they wait for the
    // answer that brings it acceptably.
    refusing = refusing || !effects.refused.empty();
    if (!batch.more && received_whole && !refusing) tx.next.knowledge = next_claimed;
    SHOPSYNC_TRY(close_over_held(w, batch, tx.next.knowledge));
    claimed = batch.more ? next_claimed : VersionVector{};
    effects.claimed = claimed;
  } else if (finishing) {
    // The last batch of a complete snapshot: every record the sender holds
    // has been received. A version we hold whose dot the sender knows, of a
    // record it did not send, was superseded there and its tombstone since
    // removed: drop it. Versions the sender has not seen stay.
    auto purged = snapshot_purge(w, ps, batch);
    if (!purged) return purged.status();
    for (auto& [key, state] : *purged) {
      SHOPSYNC_TRY(w.put_record(key, state));
      effects.changed.push_back(
          ChangedRecord{key, state.siblings.empty() ? std::nullopt : std::optional<RecordState>(state), nullptr});
    }
    tx.next.knowledge.join(batch.complete);
    // We now lack the tombstones the sender removed, exactly as if we had
    // removed them ourselves: adopt its horizon, so that a peer still
    // holding what they deleted is sent to a snapshot by us too.
    tx.horizon.join(ps.snapshot->horizon);
    if (tx.horizon != horizon) SHOPSYNC_TRY(w.put(Table::settings, kHorizonKey, version_vector_text(tx.horizon)));
  }
  tx.held_above = held_above_after(tx.held_above, batch, tx.next.knowledge);
  effects.knowledge_grew = tx.next.knowledge != known;
  return Status::ok();
}

Status Replica::Impl::finish_received(StoreWriter& w, const ReceiveTxn& tx) const {
  if (tx.held_above != held_above) SHOPSYNC_TRY(w.put(Table::settings, kHeldAboveKey, version_vector_text(tx.held_above)));
  NodeMeta next = tx.next;
  next.clock = std::max(meta.clock, hlc.last());
  if (next != meta) SHOPSYNC_TRY(w.put_node_meta(next));
  return Status::ok();
}

void Replica::Impl::adopt_received(ReceiveTxn& tx) {
  tx.next.clock = std::max(meta.clock, hlc.last());
  meta = std::move(tx.next);
  horizon = std::move(tx.horizon);
  held_above = std::move(tx.held_above);
}

// A batch of an answer this node no longer waits for (sent before the
// session restarted, or before a newer Pull) is dropped unapplied: the current
// answer brings what it lacks. A peer of a version before the answer number
// echoes 0; a full replica takes its batches (a scoped one cannot: see
// on_scoped_batch).
bool Replica::Impl::of_current_answer(NodeId from, const Batch& batch) {
  const PeerState& ps = peer(from);
  if (batch.answer == 0 && !scoped()) return true;
  return ps.stats.pull_in_flight && batch.answer == ps.pull_answer;
}

Status Replica::Impl::on_batch(NodeId from, const Batch& batch, Outbox& out) {
  SHOPSYNC_TRY(check_batch(batch));
  if (!of_current_answer(from, batch)) return Status::ok();
  if (scoped()) return on_scoped_batch(from, batch, out);
  PeerState& ps = peer(from);
  const bool snapshot_active = batch.snapshot && ps.snapshot.has_value();
  const bool in_sequence = snapshot_active && batch.base == ps.snapshot->progress;
  const bool finishing = snapshot_active && in_sequence && !batch.more && !ps.snapshot->broken;
  const Hlc detected_at = observe_batch(ps, batch);

  ReceiveTxn tx;
  BatchEffects effects;
  Status st = store.write([&](StoreWriter& w) -> Status {
    tx.begin(*this);
    effects = BatchEffects{};
    SHOPSYNC_TRY(apply_batch(w, from, batch, detected_at, finishing, tx, effects));
    return finish_received(w, tx);
  });
  if (!st) return st;
  adopt_received(tx);
  committed_batch(from, batch, effects, out);
  after_batch(from, batch, snapshot_active, in_sequence, finishing, /*credited=*/false, out);
  return Status::ok();
}

// Group commit: a batch waits for the batches that follow it on the socket
// and they are all committed in one Store::write (one fsync). Its credit goes
// back at once, so that the sender keeps sending while this node commits;
// nothing else is told before the commit (knowledge in Notify and Pull,
// changes, conflicts), and a batch lost uncommitted (the node stops) is sent
// again from the knowledge committed. The last batch of an answer ends a
// group: what follows it (Notify, the next Pull) depends on its commit.
Status Replica::Impl::queue_batch(NodeId from, Batch batch, Outbox& out) {
  if (scoped() || batch.snapshot) {
    SHOPSYNC_TRY(commit_queued(out));
    return on_batch(from, batch, out);
  }
  SHOPSYNC_TRY(check_batch(batch));
  if (!of_current_answer(from, batch)) return Status::ok();
  if (batch.more) out.send(from, Credit{1});
  const Hlc detected_at = observe_batch(peer(from), batch);
  const bool last = !batch.more;
  queued.push_back(QueuedBatch{from, std::move(batch), detected_at});
  if (last || queued.size() >= options.max_group_batches) return commit_queued(out);
  return Status::ok();
}

Status Replica::Impl::commit_queued(Outbox& out) {
  if (queued.empty()) return Status::ok();
  const std::vector<QueuedBatch> group = std::move(queued);
  queued.clear();
  ReceiveTxn tx;
  std::vector<BatchEffects> effects;
  Status st = store.write([&](StoreWriter& w) -> Status {
    tx.begin(*this);
    effects.assign(group.size(), BatchEffects{});
    for (std::size_t i = 0; i < group.size(); ++i) {
      SHOPSYNC_TRY(apply_batch(w, group[i].from, group[i].batch, group[i].detected_at, false, tx, effects[i]));
    }
    return finish_received(w, tx);
  });
  if (!st) return st;
  adopt_received(tx);
  for (std::size_t i = 0; i < group.size(); ++i) {
    committed_batch(group[i].from, group[i].batch, effects[i], out);
    after_batch(group[i].from, group[i].batch, false, false, false, /*credited=*/group[i].batch.more, out);
  }
  return Status::ok();
}

void Replica::Impl::committed_batch(NodeId from, const Batch& batch, const BatchEffects& effects, Outbox& out) {
  PeerState& ps = peer(from);
  if (!batch.snapshot && !scoped()) ps.claimed = effects.claimed;
  if (effects.knowledge_grew) ps.answer_changed_data = true;
  ps.last_progress_ms = timers.now_ms();
  ps.stats.records_in += batch.records.size();
  ps.stats.records_in_run += batch.records.size();
  ++ps.stats.batches_in;
  ps.stats.last_sync_ms = wall.now_ms();
  ps.dirty = true;
  if (!effects.changed.empty()) ps.answer_changed_data = true;
  superseded(effects.dropped, from);
  for (const ChangedRecord& c : effects.changed) report_changed(c, out);
  for (const ConflictEntry& entry : effects.conflicts) out.conflict(entry);
  for (const auto& [key, why] : effects.refused) out.refused(from, key, why);
  ps.stats.records_refused += effects.refused.size();
  if (!effects.refused.empty()) ps.refused_in_answer = true;
}

void Replica::Impl::after_batch(NodeId from, const Batch& batch, bool snapshot_active, bool in_sequence,
                                bool finishing, bool credited, Outbox& out) {
  PeerState& ps = peer(from);
  if (snapshot_active) {
    if (in_sequence) {
      ps.snapshot->progress = batch.complete;
      for (const auto& [key, record] : batch.records) ps.snapshot->keys.insert(key);
    } else {
      ps.snapshot->broken = true;
    }
  }
  if (batch.more) {
    if (!credited) out.send(from, Credit{1});
    return;
  }
  // The answer is over.
  ps.stats.pull_in_flight = false;
  if (snapshot_active) {
    if (finishing) {
      ps.snapshot.reset();
      ps.stats.snapshot_in_progress = false;
    } else {
      ps.snapshot->restart();  // a batch was missed: take it again
      send_pull(from, true, out);
      return;
    }
  }
  // Tell everyone, the sender included: it learns our progress (for pending
  // counts and tombstone removal) and pulls if we hold what it lacks.
  if (ps.answer_changed_data) notify_peers(out);
  // After a refusal, not at once: the safety-net pull asks again (by then we
  // may hold from elsewhere the version that made the record unacceptable).
  if (!ps.refused_in_answer) maybe_pull(from, out);
}

// ---- Replica entry points

void Replica::peer_connected(NodeId peer, const VersionVector& their_knowledge, const VersionVector& told,
                             Outbox& out) {
  if (peer == impl_->meta.node_id) return;  // a node never syncs with itself
  std::erase_if(impl_->queued, [&](const QueuedBatch& q) { return q.from == peer; });  // of an earlier session
  PeerState& ps = impl_->peer(peer);
  ps.stats.connected = true;
  // Replaced, not joined: what a peer said in an earlier session may be more
  // than it knows now (its data directory was restored from an older copy).
  // Keeping the old claim would make us pull forever for writes it lost.
  // Within a session its knowledge only grows (Pull, Notify join).
  ps.stats.knowledge = their_knowledge;
  ps.dirty = true;
  ps.answer.reset();
  ps.snapshot.reset();
  ps.stats.snapshot_in_progress = false;
  ps.stats.pull_in_flight = false;
  ps.claimed = VersionVector{};
  if (const VersionVector now = impl_->knowledge_toward(ps); told != now) out.send(peer, Notify{now});
  impl_->maybe_pull(peer, out);
  // A peer below our horizon is told at once rather than when it pulls: if we
  // are below its horizon too (it removed tombstones while we were restored
  // from an older copy, or we while it was), neither would ever pull from the
  // other. It takes a snapshot from us; then we may pull from it (and take one
  // in turn if it sends us SnapshotRequired).
  // A scoped peer tells its knowledge relative to us only in its Pulls (its
  // HELLO has its own writes only) and has no horizon: its Pull decides.
  if (!ps.stats.knowledge.covers(impl_->horizon) && impl_->read_scope_of(peer).unrestricted()) {
    out.send(peer, SnapshotRequired{impl_->horizon});
  }
}

void Replica::peer_disconnected(NodeId peer) {
  std::erase_if(impl_->queued, [&](const QueuedBatch& q) { return q.from == peer; });
  auto it = impl_->peers.find(peer);
  if (it == impl_->peers.end()) return;
  PeerState& ps = it->second;
  ps.stats.connected = false;
  ps.stats.pull_in_flight = false;
  ps.stats.snapshot_in_progress = false;
  ps.answer.reset();
  ps.snapshot.reset();
  ps.claimed = VersionVector{};
}

Status Replica::receive(NodeId from, const Message& message, Outbox& out) {
  if (from == impl_->meta.node_id) return Status::protocol("a message claims to come from this node itself");
  SHOPSYNC_TRY(impl_->commit_queued(out));
  return std::visit(
      [&](const auto& m) -> Status {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Pull>) return impl_->on_pull(from, m, out);
        if constexpr (std::is_same_v<T, Batch>) return impl_->on_batch(from, m, out);
        if constexpr (std::is_same_v<T, Credit>) return impl_->on_credit(from, m, out);
        if constexpr (std::is_same_v<T, Notify>) return impl_->on_notify(from, m, out);
        if constexpr (std::is_same_v<T, SnapshotRequired>) return impl_->on_snapshot_required(from, m, out);
        return Status::ok();
      },
      message);
}

Status Replica::queue_batch(NodeId from, Batch batch, Outbox& out) {
  if (from == impl_->meta.node_id) return Status::protocol("a message claims to come from this node itself");
  return impl_->queue_batch(from, std::move(batch), out);
}

Status Replica::commit_queued(Outbox& out) { return impl_->commit_queued(out); }

Status Replica::tick(Outbox& out) {
  Impl& im = *impl_;
  SHOPSYNC_TRY(im.commit_queued(out));
  const std::uint64_t now = im.timers.now_ms();
  for (auto& [id, ps] : im.peers) {
    if (!ps.stats.connected) continue;
    if (ps.stats.pull_in_flight) {
      if (now - std::min(now, ps.last_progress_ms) >= im.options.pull_timeout_ms) {
        // The answer stalled (a lost batch or credit): ask again from what we
        // have committed. A snapshot starts over.
        if (ps.snapshot) ps.snapshot->restart();
        im.send_pull(id, ps.snapshot.has_value(), out);
      }
    } else if (now - std::min(now, ps.last_pull_ms) >= im.options.pull_interval_ms &&
               ps.stats.knowledge.covers(im.horizon) && im.syncs_with(id)) {
      im.send_pull(id, false, out);  // the safety net for a lost Notify
    }
  }
  if (im.tombstone_scan || !im.last_tombstone_scan_ms ||
      now - std::min(now, *im.last_tombstone_scan_ms) >= im.options.tombstone_scan_interval_ms) {
    if (!im.tombstone_scan) {
      im.last_tombstone_scan_ms = now;
      im.tombstone_scan.emplace();
    }
    return im.collect_tombstones(out);
  }
  return save_peers();
}

}  // namespace shopsync
