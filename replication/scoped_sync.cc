// Replica: partial replication (docs/replication.md, "Partial replication").
// The scoped node's side of the delta protocol (knowledge kept per upstream,
// exit markers, leaves), the checks of writes against write scopes, and the
// start-over when this node's own read scope changed.
#include <algorithm>
#include <initializer_list>
#include <string>

#include "core/version_vector.h"
#include "replication/conflict_log.h"
#include "replication/replica_impl.h"
#include "replication/sibling_set.h"

namespace shopsync {

std::string want_key(const RecordKey& key) { return std::string(kWantKeyPrefix) + key.collection + "/" + key.id; }

namespace {

std::string marker_key(const RecordKey& key) { return std::string(kLeftKeyPrefix) + key.collection + "/" + key.id; }

RecordKey key_from(std::string_view text) {
  const std::size_t slash = text.find('/');
  return RecordKey{std::string(text.substr(0, slash)), std::string(text.substr(slash + 1))};
}

// The exit marker of a record this node erased because it left its scope:
// the context it had seen of it, less the versions that were live (out of
// its scope) when it left: those come back if the record re-enters it.
struct Marker {
  VersionVector context;
  VersionVector live;  // one live dot per origin at most (a DVV set's siblings)
  bool seen(const Dot& d) const { return context.covers(d) && live.get(d.origin) != d.counter; }
  bool empty() const { return context.empty(); }
  // Both markers' knowledge: a dot one says superseded stays superseded.
  void join(const Marker& other) {
    VersionVector still_live;
    for (const Marker* m : std::initializer_list<const Marker*>{this, &other}) {
      for (const auto& [origin, counter] : m->live.entries()) {
        const Dot d{origin, counter};
        if (!seen(d) && !other.seen(d)) still_live.advance(d);
      }
    }
    context.join(other.context);
    live = std::move(still_live);
  }
  bool operator==(const Marker&) const = default;
};

std::string to_text(const Marker& m) { return version_vector_text(m.context) + ";" + version_vector_text(m.live); }

Result<Marker> read_marker(StoreReader& r, const RecordKey& key) {
  auto text = r.get(Table::settings, marker_key(key));
  if (!text) return text.status();
  if (!*text) return Marker{};
  const std::size_t semi = (*text)->find(';');
  auto context = parse_version_vector(std::string_view(**text).substr(0, semi));
  auto live = parse_version_vector(semi == std::string::npos ? std::string_view() : std::string_view(**text).substr(semi + 1));
  if (!context || !live) return Status::corrupt("exit marker of " + key.collection + "/" + key.id + " does not parse");
  return Marker{std::move(*context), std::move(*live)};
}

// What a state says of a record's versions: its context, live = its siblings.
Marker marker_of(const VersionVector& context, const std::vector<Version>& siblings) {
  Marker m{context, {}};
  for (const Version& v : siblings) m.live.advance(v.dot);
  return m;
}

bool holds(const RecordState& s, const Dot& d) {
  return std::any_of(s.siblings.begin(), s.siblings.end(), [&](const Version& v) { return v.dot == d; });
}

}  // namespace

std::string write_violation(const Scope& writer, const RecordKey& key, const RecordState& before,
                            const RecordState& remote) {
  for (const Version& v : remote.siblings) {
    if (holds(before, v.dot) || before.context.covers(v.dot)) continue;  // not new here
    if (!may_write(writer, key, v)) {
      return "version " + dot_text(v.dot) + (v.deleted ? " (a delete)" : "") + " is outside the sender's write scope";
    }
  }
  for (const Version& v : before.siblings) {
    if (holds(remote, v.dot) || !remote.context.covers(v.dot)) continue;  // not superseded by it
    if (!may_write(writer, key, v)) {
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
  const std::string why =
      local_write_violation(write_scope_of(meta.node_id), key, current ? current->siblings : std::vector<Version>{}, version);
  if (why.empty()) return Status::ok();
  return Status::refused(why + " of this node (its grant)");
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
      const bool wants = key.substr(0, kWantKeyPrefix.size()) == kWantKeyPrefix;
      if (wants) wanted.insert(key_from(key.substr(kWantKeyPrefix.size())));
      if (received || wants || key.substr(0, kLeftKeyPrefix.size()) == kLeftKeyPrefix) scoped_keys.emplace_back(key);
      if (!received) return Scan::next;
      const auto id = parse_node_id(key.substr(kReceivedKeyPrefix.size()));
      auto vv = parse_version_vector(value);
      if (!id || !vv) {
        failure = Status::corrupt("bad received knowledge entry '" + std::string(key) + "'");
        return Scan::stop;
      }
      peer(*id).received = std::move(*vv);
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
  wanted.clear();
  return Status::ok();
}

// A batch at a scoped node. Unlike a full node it (1) drops a received
// version as seen only by the record's own context or exit marker, never by
// its knowledge (which covers versions skipped while out of scope, live again
// when a concurrent sibling brings the record back); (2) raises what it
// received from this peer, not its knowledge, per batch in sequence; (3) keeps
// out of its store what is not in its scope, and erases what a leave entry
// takes out of it, keeping the context as an exit marker; (4) is given batches of
// the current answer only (of_current_answer): a late batch of an earlier one
// could bring a version that the current answer skipped as out of scope.
Status Replica::Impl::on_scoped_batch(NodeId from, const Batch& batch, Outbox& out) {
  PeerState& ps = peer(from);
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
  // Records of which we hold versions the sender lacks: once it has them,
  // the record may be in our scope there, with versions it skipped or told us
  // to leave; we ask for them whole (Pull.want) until a sender has ours.
  std::set<RecordKey> now_wanted = wanted;
  Status st = store.write([&](StoreWriter& w) -> Status {
    next = meta;
    next_received = ps.received;
    now_wanted = wanted;
    // Only a full sender's state tells: a scoped one may hold our write and
    // lack versions of the record out of its own scope (and the full
    // senders send what changes the record anyway, being above our
    // knowledge of them).
    const bool full_sender = read_scope_of(from).unrestricted();
    auto want = [&](const RecordKey& key, bool on) -> Status {
      if (on == (now_wanted.count(key) != 0) || !full_sender) return Status::ok();
      if (on) {
        now_wanted.insert(key);
        return w.put(Table::settings, want_key(key), "");
      }
      now_wanted.erase(key);
      return w.erase(Table::settings, want_key(key));
    };
    changed.clear();
    conflicts.clear();
    refused.clear();
    dropped.clear();
    // Erases a record that is not (or no longer) in our scope, keeping what
    // we saw of it as its exit marker.
    auto own_origin = [&](NodeId o) { return o == meta.node_id || o == writer || writers.get(o) != 0; };
    auto leave = [&](const RecordKey& key, const RecordState& held, const Marker& seen,
                     const Marker& marker) -> Status {
      // Our own versions stay (only our deletes can be out of our scope): we
      // claim our own dots to every peer, so we must still hold them; a
      // deleted record is the one thing a scoped node keeps outside its scope.
      RecordState own;
      auto kept = [&](const Version& v) { return v.deleted && own_origin(v.dot.origin) && !seen.seen(v.dot); };
      for (const Version& v : held.siblings) {
        if (kept(v)) {
          own.siblings.push_back(v);
          own.context.advance(v.dot);
        }
      }
      if (own.siblings.size() != held.siblings.size()) {
        SHOPSYNC_TRY(w.put_record(key, own));
        for (const Version& v : held.siblings) {
          if (!kept(v)) dropped.push_back(v.dot);
        }
        changed.push_back(
            ChangedRecord{key, own.siblings.empty() ? std::nullopt : std::optional<RecordState>(own), nullptr});
      }
      if (!(seen == marker)) SHOPSYNC_TRY(w.put(Table::settings, marker_key(key), to_text(seen)));
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
      const RecordState remote = packed.decode();
      RecordState fresh;
      fresh.context = remote.context;
      for (const Version& v : remote.siblings) {
        if (holds(before, v.dot) || !(before.context.covers(v.dot) || marker->seen(v.dot))) fresh.siblings.push_back(v);
      }
      if (!sender_writes.whole_collection(key.collection)) {
        std::string why = write_violation(sender_writes, key, before, fresh);
        if (!why.empty()) {
          refused.emplace_back(key, std::move(why));
          continue;
        }
      }
      RecordState merged = merge_states(before, fresh);
      const bool sender_has_all = std::all_of(merged.siblings.begin(), merged.siblings.end(), [&](const Version& v) {
        return holds(remote, v.dot) || remote.context.covers(v.dot);
      });
      // Until a sender holds all we do, it may hold versions we skipped.
      SHOPSYNC_TRY(want(key, !sender_has_all));
      if (!own_scope->contains(key, merged) && sender_has_all) {
        Marker seen = marker_of(merged.context, merged.siblings);
        seen.join(*marker);
        SHOPSYNC_TRY(leave(key, local->value_or(RecordState{}), seen, *marker));
        continue;
      }
      if (merged == before && local->has_value()) continue;
      SHOPSYNC_TRY(w.put_record(key, merged));
      if (!marker->empty()) SHOPSYNC_TRY(w.erase(Table::settings, marker_key(key)));
      for (const Dot& d : dropped_dots(before, merged)) dropped.push_back(d);
      SHOPSYNC_TRY(log_conflict(w, key, before, merged, detected_at, conflicts));
      changed.push_back(ChangedRecord{key, std::move(merged), nullptr});
    }
    for (const LeftRecord& left : batch.left) {
      const RecordKey& key = left.key;
      const VersionVector& context = left.context;
      auto local = state_to_write_over(w, key);
      if (!local) return local.status();
      if (!local->has_value()) continue;
      auto marker = read_marker(w, key);
      if (!marker) return marker.status();
      const RecordState& held = **local;
      const bool sender_has_all = std::all_of(held.siblings.begin(), held.siblings.end(),
                                              [&](const Version& v) { return context.covers(v.dot); });
      SHOPSYNC_TRY(want(key, !sender_has_all));
      if (!sender_has_all) continue;  // our concurrent write: kept, and the record asked for
      Marker seen = marker_of(held.context, held.siblings);
      seen.join(Marker{context, left.live});
      seen.join(*marker);
      SHOPSYNC_TRY(leave(key, held, seen, *marker));
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
        if (!state.siblings.empty()) {
          SHOPSYNC_TRY(want(key, true));  // versions the sender lacks: as for a leave
          continue;
        }
        // The sender's knowledge covers these versions and it did not send
        // the record: superseded there, or live out of our scope. The marker
        // claims nothing of them.
        auto marker = read_marker(w, key);
        if (!marker) return marker.status();
        SHOPSYNC_TRY(leave(key, held->value_or(RecordState{}), *marker, *marker));
      }
      next_received.join(batch.complete);
    }
    if (next_received != ps.received) {
      SHOPSYNC_TRY(w.put(Table::settings, std::string(kReceivedKeyPrefix) + node_id_text(from),
                         version_vector_text(next_received)));
    }
    next.clock = std::max(meta.clock, hlc.last());
    if (next != meta) SHOPSYNC_TRY(w.put_node_meta(next));
    return Status::ok();
  });
  if (!st) return st;

  const bool received_grew = next_received != ps.received;
  meta = std::move(next);
  ps.received = std::move(next_received);
  if (received_grew) ps.answer_changed_data = true;
  wanted = std::move(now_wanted);
  committed_batch(from, batch,
                  BatchEffects{std::move(changed), std::move(conflicts), std::move(refused), std::move(dropped), {}, false},
                  out);
  after_batch(from, batch, snapshot_active, in_sequence, finishing, /*credited=*/false, out);
  return Status::ok();
}

}  // namespace shopsync
