// Replica: tombstone removal, the tombstone horizon, and the persisted
// knowledge of known peers (docs/replication.md, "Tombstones").
//
// A tombstone may go only when no node can still hold a version it deleted
// without also learning of the delete. That holds once every known peer's
// knowledge covers the tombstone's dot: a node whose knowledge covers a dot
// holds that version or one that superseded it. A peer we do not know yet
// (or one below the horizon) is answered SnapshotRequired and must take a
// snapshot, which removes what the horizon hides.
#include <algorithm>
#include <string>

#include "core/version_vector.h"
#include "replication/hlc.h"
#include "replication/replica_impl.h"

namespace shopsync {

Status Replica::Impl::load_persisted() {
  return store.read([&](StoreReader& r) -> Status {
    auto h = r.get(Table::settings, kHorizonKey);
    if (!h) return h.status();
    if (*h) {
      auto vv = parse_version_vector(**h);
      if (!vv) return Status::corrupt(vv.status().message()).context("tombstone horizon");
      horizon = std::move(*vv);
    }
    for (auto [key, into] : {std::pair{kWritersKey, &writers}, std::pair{kHeldAboveKey, &held_above}}) {
      auto text = r.get(Table::settings, key);
      if (!text) return text.status();
      if (!*text) continue;
      auto vv = parse_version_vector(**text);
      if (!vv) return Status::corrupt(vv.status().message()).context(std::string(key));
      *into = std::move(*vv);
    }
    Status failure;
    SHOPSYNC_TRY(r.for_each(Table::settings, [&](std::string_view key, std::string_view value) {
      if (key.substr(0, kPeerKeyPrefix.size()) != kPeerKeyPrefix) return Scan::next;
      const auto id = parse_node_id(key.substr(kPeerKeyPrefix.size()));
      auto vv = parse_version_vector(value);
      if (!id || !vv) {
        failure = Status::corrupt("bad peer knowledge entry '" + std::string(key) + "'");
        return Scan::stop;
      }
      PeerState& ps = peer(*id);
      ps.stats.knowledge = std::move(*vv);
      return Scan::next;
    }));
    return failure;
  });
}

Status Replica::Impl::persist_peers_and_horizon(StoreWriter& w) {
  for (const auto& [id, ps] : peers) {
    SHOPSYNC_TRY(w.put(Table::settings, std::string(kPeerKeyPrefix) + node_id_text(id), version_vector_text(ps.stats.knowledge)));
  }
  if (!horizon.empty()) SHOPSYNC_TRY(w.put(Table::settings, kHorizonKey, version_vector_text(horizon)));
  return Status::ok();
}

Status Replica::Impl::collect_tombstones(Outbox& out) {
  // A scoped node removes no tombstone: it would need a horizon, and its
  // knowledge (its own writes) could never cover one (docs/replication.md,
  // "Partial replication").
  if (scoped()) return Status::ok();
  const std::uint64_t now = wall.now_ms();
  auto removable = [&](const Version& v) {
    if (!v.deleted || !meta.knowledge.covers(v.dot)) return false;
    const std::uint64_t written = HybridClock::wall_ms(v.updated_at);
    if (written > now || now - written < options.tombstone_retention_ms) return false;
    return std::all_of(peers.begin(), peers.end(),
                       [&](const auto& p) { return p.second.stats.knowledge.covers(v.dot); });
  };
  // A scoped peer keeps its tombstones (it has no horizon) and is never told
  // that one went here: the collections it reads keep theirs too
  // (docs/replication.md, "Partial replication").
  std::vector<Scope> scoped_peers;
  for (const auto& [id, ps] : peers) {
    if (Scope s = read_scope_of(id); !s.unrestricted()) scoped_peers.push_back(std::move(s));
  }
  auto kept_for_scoped_peers = [&](const RecordKey& key) {
    return std::any_of(scoped_peers.begin(), scoped_peers.end(),
                       [&](const Scope& s) { return s.has_collection(key.collection); });
  };
  VersionVector next_horizon;
  std::vector<RecordKey> removed;
  std::vector<std::pair<RecordKey, RecordState>> trimmed;
  TombstoneScan at;  // where this slice ends, kept once it commits (the body may run again)
  Status st = store.write([&](StoreWriter& w) -> Status {
    next_horizon = horizon;
    removed.clear();
    trimmed.clear();
    at = *tombstone_scan;
    if (!at.collections) {
      auto names = w.collections();
      if (!names) return names.status();
      at.collections = std::move(*names);
    }
    std::size_t budget = std::max<std::size_t>(1, options.tombstone_scan_slice);
    for (; budget > 0 && at.next < at.collections->size(); ++at.next, at.after_id.clear()) {
      bool cut = false;
      SHOPSYNC_TRY(w.for_each_record((*at.collections)[at.next], at.after_id, [&](const RecordKey& key,
                                                                                 const RecordState& state) {
        at.after_id = key.id;
        cut = --budget == 0;
        if (kept_for_scoped_peers(key)) return cut ? Scan::stop : Scan::next;
        RecordState kept;
        kept.context = state.context;
        for (const Version& v : state.siblings) {
          if (!removable(v)) {
            kept.siblings.push_back(v);
          }
        }
        if (kept.siblings.empty()) {
          // Erasing the record forgets its context. That is safe only once
          // our knowledge covers the whole context: then any old version of
          // it that a late or stale batch brings is recognised as seen and
          // dropped (replica_sync.cc, without_known_dropped).
          if (!meta.knowledge.covers(state.context)) return cut ? Scan::stop : Scan::next;
          for (const Version& v : state.siblings) next_horizon.advance(v.dot);
          removed.push_back(key);
        } else if (kept.siblings.size() != state.siblings.size()) {
          // A tombstone beside concurrent live versions: another node may
          // already have removed it (its record held only the tombstone when
          // it did), so keeping it here would leave the two disagreeing for
          // good. The live versions stay; the context still covers the
          // tombstone, so it cannot come back.
          for (const Version& v : state.siblings) {
            if (removable(v)) next_horizon.advance(v.dot);
          }
          trimmed.emplace_back(key, std::move(kept));
        }
        return cut ? Scan::stop : Scan::next;
      }));
      if (cut) break;  // this collection goes on at the next slice, after at.after_id
    }
    for (const RecordKey& key : removed) SHOPSYNC_TRY(w.put_record(key, RecordState{}));
    for (const auto& [key, state] : trimmed) SHOPSYNC_TRY(w.put_record(key, state));
    std::swap(horizon, next_horizon);
    Status s = persist_peers_and_horizon(w);
    std::swap(horizon, next_horizon);
    return s;
  });
  if (!st) return st;
  if (at.next < at.collections->size()) {
    tombstone_scan = std::move(at);
  } else {
    tombstone_scan.reset();
  }
  horizon = std::move(next_horizon);
  for (auto& [id, ps] : peers) ps.knowledge_dirty = false;
  for (const RecordKey& key : removed) out.changed(key, nullptr);
  for (const auto& [key, state] : trimmed) {
    const VisibleRecord visible = make_visible(key, state);
    out.changed(key, &visible);
  }
  return Status::ok();
}

Status Replica::forget_peer(NodeId peer) {
  Status forgotten = impl_->store.write([&](StoreWriter& w) {
    SHOPSYNC_TRY(w.erase(Table::settings, std::string(kReceivedKeyPrefix) + node_id_text(peer)));
    return w.erase(Table::settings, std::string(kPeerKeyPrefix) + node_id_text(peer));
  });
  if (!forgotten) return forgotten;
  impl_->peers.erase(peer);
  return Status::ok();
}

}  // namespace shopsync
