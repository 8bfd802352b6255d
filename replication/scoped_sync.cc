// Replica: partial replication (docs/replication.md, "Partial replication").
// The scoped node's side of the delta protocol (knowledge kept per upstream,
// exit markers, leaves), the checks of writes against write scopes, and the
// start-over when this node's own read scope changed.
#include <algorithm>
#include <string>

#include "replication/conflict_log.h"
#include "replication/knowledge_text.h"
#include "replication/replica_impl.h"
#include "replication/sibling_set.h"

namespace shopsync {

namespace {

std::string marker_key(const RecordKey& key) { return std::string(kLeftKeyPrefix) + key.collection + "/" + key.id; }

// The exit marker of a record this node erased because it left its scope:
// the context of what it had seen of it (empty when none).
Result<VersionVector> read_marker(StoreReader& r, const RecordKey& key) {
  auto text = r.get(Table::settings, marker_key(key));
  if (!text) return text.status();
  if (!*text) return VersionVector{};
  auto vv = knowledge_from_text(**text);
  if (!vv) return vv.status().context("exit marker of " + key.collection + "/" + key.id);
  return *vv;
}

bool holds(const RecordState& s, const Dot& d) {
  return std::any_of(s.siblings.begin(), s.siblings.end(), [&](const Version& v) { return v.dot == d; });
}

// A tombstone is writable where its collection is: deleting a record needs
// its versions (checked as superseded) to be in scope, not the tombstone.
bool writable(const Scope& scope, const RecordKey& key, const Version& v) {
  return v.deleted ? scope.has_collection(key.collection) : scope.contains(key, v);
}

std::string dot_text(const Dot& d) { return node_hex(d.origin) + ":" + std::to_string(d.counter); }

std::string describe(const RecordKey& key) { return key.collection + "/" + key.id; }

}  // namespace

std::string write_violation(const Scope& writer, const RecordKey& key, const RecordState& before,
                            const RecordState& remote) {
  for (const Version& v : remote.siblings) {
    if (holds(before, v.dot) || before.context.covers(v.dot)) continue;  // not new here
    if (!writable(writer, key, v)) {
      return "version " + dot_text(v.dot) + (v.deleted ? " (a delete)" : "") + " is outside the sender's write scope";
    }
  }
  for (const Version& v : before.siblings) {
    if (holds(remote, v.dot) || !remote.context.covers(v.dot)) continue;  // not superseded by it
    if (!writable(writer, key, v)) {
      return "it supersedes version " + dot_text(v.dot) + ", which is outside the sender's write scope";
    }
  }
  return "";
}

Scope Replica::Impl::write_scope_of(NodeId node) const {
  return options.access ? options.access->write_scope(node) : Scope::everything();
}

Scope Replica::Impl::read_scope_of(NodeId node) const {
  return options.access ? options.access->read_scope(node) : Scope::everything();
}

VersionVector Replica::Impl::knowledge_toward(const PeerState& ps) const {
  if (!scoped()) return meta.knowledge;
  VersionVector k = meta.knowledge;
  k.join(ps.received);
  return k;
}

Status Replica::Impl::check_local_write(const RecordKey& key, const std::optional<RecordState>& current,
                                        const Version& version) const {
  const Scope mine = write_scope_of(meta.node_id);
  if (mine.unrestricted()) return Status::ok();
  if (!writable(mine, key, version)) {
    return Status::refused(describe(key) + ": the new version is outside this node's write scope (its grant)");
  }
  if (current) {
    for (const Version& v : current->siblings) {
      if (!writable(mine, key, v)) {
        return Status::refused(describe(key) + ": the record holds version " + dot_text(v.dot) +
                               ", outside this node's write scope (its grant)");
      }
    }
  }
  return Status::ok();
}

// A scoped node's knowledge does not cover only what it has seen (it covers
// what was skipped as out of its scope), so a record written from nothing
// takes what it saw of the record: its exit marker.
Result<VersionVector> Replica::Impl::context_from_nothing(StoreReader& r, const RecordKey& key) const {
  return read_marker(r, key);
}

Status Replica::Impl::open_scope() {
  const Scope mine = read_scope_of(meta.node_id);
  if (!mine.unrestricted()) own_scope = mine;
  const std::string fingerprint = mine.fingerprint();
  std::string stored = Scope::everything().fingerprint();
  std::vector<std::string> scoped_keys;  // received/ and left/ settings
  Status loaded = store.read([&](StoreReader& r) -> Status {
    auto text = r.get(Table::settings, kScopeKey);
    if (!text) return text.status();
    if (*text) stored = **text;
    Status failure;
    SHOPSYNC_TRY(r.for_each(Table::settings, [&](std::string_view key, std::string_view value) {
      const bool received = key.substr(0, kReceivedKeyPrefix.size()) == kReceivedKeyPrefix;
      if (received || key.substr(0, kLeftKeyPrefix.size()) == kLeftKeyPrefix) scoped_keys.emplace_back(key);
      if (!received) return Scan::next;
      const std::string hex(key.substr(kReceivedKeyPrefix.size()));
      char* end = nullptr;
      const NodeId id = std::strtoull(hex.c_str(), &end, 16);
      auto vv = knowledge_from_text(value);
      if (hex.size() != 16 || end != hex.c_str() + hex.size() || !vv) {
        failure = Status::corrupt("bad received knowledge entry '" + std::string(key) + "'");
        return Scan::stop;
      }
      peer(id).received = std::move(*vv);
      return Scan::next;
    }));
    return failure;
  });
  if (!loaded) return loaded;
  if (stored == fingerprint) return Status::ok();

  // The scope changed (or the node became scoped or unscoped): what it
  // received was relative to the old scope. Start over from its own writes;
  // its upstreams send the new scope whole.
  NodeMeta next = meta;
  if (scoped()) {
    next.knowledge = VersionVector{};
    for (const auto& [origin, counter] : meta.knowledge.entries()) {
      if (origin == meta.node_id || writers.get(origin) != 0 || origin == writer) next.knowledge.set(origin, counter);
    }
  }
  Status started_over = store.write([&](StoreWriter& w) -> Status {
    for (const std::string& key : scoped_keys) SHOPSYNC_TRY(w.erase(Table::settings, key));
    if (scoped()) {
      SHOPSYNC_TRY(w.erase(Table::settings, kHeldAboveKey));
      SHOPSYNC_TRY(w.erase(Table::settings, kHorizonKey));
      std::vector<RecordKey> outside;
      auto names = w.collections();
      if (!names) return names.status();
      for (const std::string& name : *names) {
        SHOPSYNC_TRY(w.for_each_record(name, "", [&](const RecordKey& key, const RecordState& state) {
          if (!own_scope->contains(key, state)) outside.push_back(key);
          return Scan::next;
        }));
      }
      for (const RecordKey& key : outside) SHOPSYNC_TRY(w.put_record(key, RecordState{}));
      if (next != meta) SHOPSYNC_TRY(w.put_node_meta(next));
    }
    return w.put(Table::settings, kScopeKey, fingerprint);
  });
  if (!started_over) return started_over;
  meta = std::move(next);
  if (scoped()) {
    held_above = VersionVector{};
    horizon = VersionVector{};
  }
  for (auto& [id, ps] : peers) ps.received = VersionVector{};
  return Status::ok();
}

// A batch at a scoped node. Unlike a full node it (1) drops a received
// version as seen only by the record's own context or exit marker, never by
// its knowledge (which covers versions skipped while out of scope, live again
// when a concurrent sibling brings the record back); (2) raises what it
// received from this peer, not its knowledge, per batch in sequence; (3) keeps
// out of its store what is not in its scope, and erases what a leave entry
// takes out of it, keeping the context as an exit marker; (4) takes batches of
// the current answer only: a late batch of an earlier one could bring a version
// that the current answer skipped as out of scope.
Status Replica::Impl::on_scoped_batch(NodeId from, const Batch& batch, Outbox& out) {
  PeerState& ps = peer(from);
  if (batch.answer != ps.pull_answer || !ps.stats.pull_in_flight) return Status::ok();
  const bool snapshot_active = batch.snapshot && ps.snapshot.has_value();
  const bool in_sequence = snapshot_active && batch.base == ps.snapshot->progress;
  const bool finishing = snapshot_active && in_sequence && !batch.more && !ps.snapshot->broken;
  const Scope sender_writes = write_scope_of(from);
  const Hlc detected_at = observe_batch(ps, batch);

  NodeMeta next;
  VersionVector next_received;
  std::vector<ChangedRecord> changed;
  std::vector<ConflictEntry> conflicts;
  std::vector<std::pair<RecordKey, std::string>> refused;
  std::vector<Dot> dropped;
  Status st = store.write([&](StoreWriter& w) -> Status {
    next = meta;
    next_received = ps.received;
    changed.clear();
    conflicts.clear();
    refused.clear();
    dropped.clear();
    // Erases a record that is not (or no longer) in our scope, keeping what
    // we saw of it as its exit marker.
    auto leave = [&](const RecordKey& key, const RecordState& held, const VersionVector& seen,
                     const VersionVector& marker) -> Status {
      if (!held.siblings.empty()) {
        SHOPSYNC_TRY(w.put_record(key, RecordState{}));
        for (const Version& v : held.siblings) dropped.push_back(v.dot);
        changed.push_back(ChangedRecord{key, std::nullopt, nullptr});
      }
      if (seen != marker) SHOPSYNC_TRY(w.put(Table::settings, marker_key(key), knowledge_to_text(seen)));
      return Status::ok();
    };
    for (const auto& [key, packed] : batch.records) {
      bool unreadable = false;
      auto local = state_to_write_over(w, key, &unreadable);
      if (!local) return local.status();
      auto marker = read_marker(w, key);
      if (!marker) return marker.status();
      RecordState before = local->value_or(RecordState{});
      if (unreadable) before.siblings.clear();
      VersionVector seen = before.context;
      seen.join(*marker);
      const RecordState remote = packed.decode();
      RecordState fresh;
      fresh.context = remote.context;
      for (const Version& v : remote.siblings) {
        if (holds(before, v.dot) || !seen.covers(v.dot)) fresh.siblings.push_back(v);
      }
      if (!sender_writes.unrestricted()) {
        std::string why = write_violation(sender_writes, key, before, fresh);
        if (!why.empty()) {
          refused.emplace_back(key, std::move(why));
          continue;
        }
      }
      RecordState merged = merge_states(before, fresh);
      if (!own_scope->contains(key, merged)) {
        seen.join(merged.context);
        SHOPSYNC_TRY(leave(key, local->value_or(RecordState{}), seen, *marker));
        continue;
      }
      if (merged == before && local->has_value()) continue;
      SHOPSYNC_TRY(w.put_record(key, merged));
      if (!marker->empty()) SHOPSYNC_TRY(w.erase(Table::settings, marker_key(key)));
      for (const Dot& d : dropped_dots(before, merged)) dropped.push_back(d);
      if (merged.siblings.size() > 1 && gained_sibling(before, merged)) {
        ConflictEntry entry = make_conflict_entry(key, merged, strategy_for(key.collection), options.tolerance_ms,
                                                  detected_at, meta.node_id);
        auto seq = w.append_conflict(entry);
        if (!seq) return seq.status();
        entry.seq = *seq;
        conflicts.push_back(std::move(entry));
      }
      changed.push_back(ChangedRecord{key, std::move(merged), nullptr});
    }
    for (const auto& [key, context] : batch.left) {
      auto local = state_to_write_over(w, key);
      if (!local) return local.status();
      if (!local->has_value()) continue;
      auto marker = read_marker(w, key);
      if (!marker) return marker.status();
      const RecordState& held = **local;
      RecordState kept;
      kept.context = held.context;
      kept.context.join(context);
      for (const Version& v : held.siblings) {
        if (!context.covers(v.dot)) kept.siblings.push_back(v);
      }
      if (kept.siblings.empty() || !own_scope->contains(key, kept)) {
        VersionVector seen = kept.context;
        seen.join(*marker);
        SHOPSYNC_TRY(leave(key, held, seen, *marker));
      } else if (kept.siblings != held.siblings) {
        SHOPSYNC_TRY(w.put_record(key, kept));
        for (const Dot& d : dropped_dots(held, kept)) dropped.push_back(d);
        changed.push_back(ChangedRecord{key, kept, nullptr});
      }
    }
    if (!refused.empty() || ps.refused_in_answer) {
      // Claims wait for an answer without refusals.
    } else if (!batch.snapshot) {
      next_received = apply_completeness(knowledge_toward(ps), batch);
    } else if (finishing) {
      auto purged = snapshot_purge(w, ps, batch);
      if (!purged) return purged.status();
      for (auto& [key, state] : *purged) {
        auto held = w.record(key);
        if (!held) return held.status();
        if (state.siblings.empty() || !own_scope->contains(key, state)) {
          auto marker = read_marker(w, key);
          if (!marker) return marker.status();
          VersionVector seen = held->value_or(RecordState{}).context;
          seen.join(*marker);
          SHOPSYNC_TRY(leave(key, held->value_or(RecordState{}), seen, *marker));
        } else {
          SHOPSYNC_TRY(w.put_record(key, state));
          changed.push_back(ChangedRecord{key, state, nullptr});
        }
      }
      next_received.join(batch.complete);
    }
    if (next_received != ps.received) {
      SHOPSYNC_TRY(w.put(Table::settings, std::string(kReceivedKeyPrefix) + node_hex(from),
                         knowledge_to_text(next_received)));
    }
    next.clock = std::max(meta.clock, hlc.last());
    if (next != meta) SHOPSYNC_TRY(w.put_node_meta(next));
    return Status::ok();
  });
  if (!st) return st;

  const bool received_grew = next_received != ps.received;
  meta = std::move(next);
  ps.received = std::move(next_received);
  ps.last_progress_ms = timers.now_ms();
  ps.stats.records_in += batch.records.size();
  ++ps.stats.batches_in;
  ps.stats.last_sync_ms = wall.now_ms();
  if (!changed.empty() || received_grew) ps.answer_changed_data = true;
  superseded(dropped, from);
  for (const ChangedRecord& c : changed) report_changed(c, out);
  for (const ConflictEntry& entry : conflicts) out.conflict(entry);
  for (const auto& [key, why] : refused) out.refused(from, key, why);
  ps.stats.records_refused += refused.size();
  if (!refused.empty()) ps.refused_in_answer = true;
  after_batch(from, batch, snapshot_active, in_sequence, finishing, out);
  return Status::ok();
}

}  // namespace shopsync
