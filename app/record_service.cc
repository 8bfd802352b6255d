#include "app/record_service.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <tuple>

namespace shopsync::app {

using namespace shopsync::api;

namespace {

std::string key_text(const RecordKey& key) { return key.collection + "/" + key.id; }

std::uint64_t wall_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

FieldValues visible_fields(const Fields& fields) {
  FieldValues out;
  for (const auto& [name, field] : fields) {
    if (!field.removed()) out.emplace(name, field.packed);
  }
  return out;
}

SiblingView to_sibling(const Version& v) {
  return SiblingView{v.dot, v.updated_at, v.deleted, v.uplink_origin, visible_fields(v.fields)};
}

WriteResult to_write_result(const VisibleRecord& r) { return WriteResult{r.visible.winner, r.visible.updated_at}; }

std::size_t field_bytes(const FieldValues& fields) {
  std::size_t n = 0;
  for (const auto& [name, packed] : fields) n += name.size() + packed.size();
  return n;
}

// A record the application sees: not a tombstone, or a conflicted one.
bool shown(const VisibleRecord& r) { return !r.visible.deleted || r.visible.conflicted; }

ConflictLogEntry to_log_entry(const ConflictEntry& e) {
  ConflictLogEntry entry{e.seq, e.key, e.strategy, e.winner, e.near_simultaneous, e.detected_at, e.detected_by, {}};
  for (const auto& v : e.siblings) entry.siblings.push_back(to_sibling(v));
  return entry;
}

}  // namespace

RecordView to_record_view(const VisibleRecord& record) {
  RecordView v;
  v.key = record.key;
  v.fields = visible_fields(record.visible.fields);
  v.dot = record.visible.winner;
  v.updated_at = record.visible.updated_at;
  v.deleted = record.visible.deleted;
  v.conflicted = record.visible.conflicted;
  v.sibling_count = static_cast<std::uint32_t>(record.siblings.size());
  if (record.siblings.size() > 1) {
    for (const auto& s : record.siblings) v.siblings.push_back(to_sibling(s));
  }
  return v;
}

Status start_counting(CountingStore& counted, const Replica& replica) {
  counted.set_is_live([&replica](const RecordKey& key, const RecordState& state) {
    return !replica.make_visible(key, state).visible.deleted;
  });
  return counted.recount().context("counting the records");
}

RecordService::RecordService(Replica& replica, CountingStore& store, Outbox& outbox)
    : replica_(replica), store_(store), outbox_(outbox) {}

Result<WriteResult> RecordService::put(const PutRequest& request) {
  FieldUpdate update;
  update.replace = request.mode == PutMode::replace;
  for (const auto& [name, packed] : request.fields) update.fields.emplace(name, packed);
  for (const auto& name : request.unset) update.fields.emplace(name, std::nullopt);
  auto written = replica_.put(request.key, update, outbox_);
  if (!written) return written.status().context("writing " + key_text(request.key));
  return to_write_result(*written);
}

Result<RecordView> RecordService::get(const RecordKey& key) {
  auto found = replica_.get(key);
  if (!found) return found.status().context("reading " + key_text(key));
  if (!found->has_value()) return Status::not_found(key_text(key) + " does not exist");
  const VisibleRecord& record = **found;
  if (!shown(record)) return Status::not_found(key_text(key) + " was deleted");
  return to_record_view(record);
}

Result<WriteResult> RecordService::remove(const RecordKey& key) {
  auto removed = replica_.remove(key, outbox_);
  if (!removed) {
    if (removed.status().code() == Errc::not_found) return Status::not_found(key_text(key) + " does not exist");
    return removed.status().context("deleting " + key_text(key));
  }
  return to_write_result(*removed);
}

Result<ListPage> RecordService::list(const ListRequest& request) {
  ListPage page;
  const std::uint32_t limit = std::clamp<std::uint32_t>(request.limit, 1, kMaxPageLimit);
  // Tombstones are skipped but still cost a visit: bound the visits too, and
  // let the client continue from where the scan stopped.
  const std::size_t max_visits = std::size_t{limit} * 10 + 1000;
  Status s = store_.read([&](StoreReader& reader) -> Status {
    std::size_t visits = 0;
    std::size_t bytes = 0;
    std::string last_visited;
    Status scan = reader.for_each_record(
        request.collection, request.after, [&](const RecordKey& key, const RecordState& state) {
          if (state.siblings.empty()) return Scan::next;
          VisibleRecord record = replica_.make_visible(key, state);
          if (shown(record)) {
            if (page.records.size() >= limit || (bytes >= kMaxPageBytes && !page.records.empty())) {
              page.next_after = page.records.back().key.id;  // one more exists
              return Scan::stop;
            }
            RecordView view = to_record_view(record);
            view.siblings.clear();  // list shows values; get shows siblings
            bytes += field_bytes(view.fields);
            page.records.push_back(std::move(view));
          }
          last_visited = key.id;
          if (++visits >= max_visits) {
            page.next_after = last_visited;
            return Scan::stop;
          }
          return Scan::next;
        });
    return scan;
  });
  if (!s) return s.context("listing " + request.collection);
  return page;
}

namespace {

std::vector<CollectionCount> live_counts(const RecordCounts& counts) {
  std::vector<CollectionCount> out;
  for (const auto& [name, c] : counts) out.push_back(CollectionCount{name, static_cast<std::uint64_t>(c.live)});
  return out;
}

}  // namespace

Result<CollectionList> RecordService::collections() { return CollectionList{live_counts(counts())}; }

Status RecordService::for_each_visible(const std::string& collection, const std::string& after,
                                       const std::function<Scan(const VisibleRecord&)>& visit) {
  return store_.read([&](StoreReader& r) {
    return r.for_each_record(collection, after, [&](const RecordKey& key, const RecordState& state) {
      return visit(replica_.make_visible(key, state));
    });
  });
}

Result<std::uint64_t> RecordService::count_conflicts_after(std::uint64_t& seq) {
  std::uint64_t n = 0;
  Status s = store_.read([&](StoreReader& r) {
    return r.for_each_conflict(seq, [&](const ConflictEntry& entry) {
      ++n;
      seq = entry.seq;
      return Scan::next;
    });
  });
  if (!s) return s.context("reading the conflict log");
  return n;
}

Status RecordService::read_for_device(const std::function<Status(StoreReader&)>& body) { return store_.read(body); }

Status RecordService::record_device_pull(std::string_view device, const std::vector<SentToDevice>& sent,
                                         const DeviceState& state) {
  return store_.write([&](StoreWriter& w) -> Status {
    for (const auto& s : sent) SHOPSYNC_TRY(save_seen(w, device, s.key, s.seen));
    return save_device(w, device, state);
  });
}

Result<ChangesPage> RecordService::changes(const ChangesRequest& request) {
  ChangesPage page;
  const std::uint32_t limit = std::clamp<std::uint32_t>(request.limit, 1, kMaxPageLimit);
  Status s = store_.read([&](StoreReader& reader) -> Status {
    auto meta = reader.node_meta();
    if (!meta) return meta.status();
    const VersionVector knowledge = meta->has_value() ? (*meta)->knowledge : VersionVector();
    ChangeCursor cursor = request.since_now ? knowledge : request.since;
    // Rounds over the index; more than one only when a collection filter
    // hides everything a round found. Bounded so that a call stays short.
    for (int round = 0; round < 16; ++round) {
      struct Candidate {
        Hlc updated_at;
        Dot dot;
        RecordKey key;
        bool deleted;
      };
      std::vector<Candidate> candidates;
      std::set<NodeId> truncated;  // origins with entries beyond those read
      std::set<NodeId> origins;
      for (const auto& [node, counter] : knowledge.entries()) origins.insert(node);
      for (const auto& [node, counter] : cursor.entries()) origins.insert(node);
      for (NodeId origin : origins) {
        std::uint32_t taken = 0;
        Status scan = reader.for_each_change(origin, cursor.get(origin), [&](std::uint64_t counter, const RecordKey& key) {
          if (taken == limit) {
            truncated.insert(origin);
            return Scan::stop;
          }
          ++taken;
          candidates.push_back(Candidate{0, Dot{origin, counter}, key, false});
          return Scan::next;
        });
        SHOPSYNC_TRY(scan);
      }
      // When each change happened: the version's HLC, read from the record.
      for (auto& c : candidates) {
        auto state = reader.record(c.key);
        if (!state) return state.status();
        if (!state->has_value()) continue;
        for (const auto& v : (*state)->siblings) {
          if (v.dot == c.dot) {
            c.updated_at = v.updated_at;
            c.deleted = v.deleted;
          }
        }
      }
      std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
        return std::tie(a.updated_at, a.dot) < std::tie(b.updated_at, b.dot);
      });
      // Per origin, HLCs grow with counters, so the `limit` oldest overall are
      // a counter prefix of each origin's entries: the cursor can move past them.
      const std::size_t take = std::min<std::size_t>(candidates.size(), limit);
      std::set<NodeId> cut;  // origins with candidates left out
      for (std::size_t i = 0; i < candidates.size(); ++i) {
        const auto& c = candidates[i];
        if (i >= take) {
          cut.insert(c.dot.origin);
          continue;
        }
        cursor.advance(c.dot);
        if (request.collection.empty() || request.collection == c.key.collection) {
          page.changes.push_back(Change{c.key, c.dot, c.updated_at, c.deleted});
        }
      }
      // An origin read to its end is known up to our knowledge of it: nothing
      // below that can appear later.
      for (const auto& [node, counter] : knowledge.entries()) {
        if (!truncated.count(node) && !cut.count(node) && counter > cursor.get(node)) cursor.set(node, counter);
      }
      page.more = !truncated.empty() || !cut.empty();
      if (!page.changes.empty() || !page.more) break;
    }
    page.cursor = cursor;
    return Status::ok();
  });
  if (!s) return s.context("reading the changes feed");
  return page;
}

// Open conflicts: every conflicted record is in the log, so each logged key's
// current state is looked at once. `visit` returns false to stop.
Status RecordService::for_each_open_conflict(StoreReader& reader, std::string_view collection,
                                              const std::function<bool(const VisibleRecord&)>& visit) {
  std::set<RecordKey> seen;
  std::vector<RecordKey> keys;
  SHOPSYNC_TRY(reader.for_each_conflict(0, [&](const ConflictEntry& e) {
    if ((collection.empty() || e.key.collection == collection) && seen.insert(e.key).second) keys.push_back(e.key);
    return Scan::next;
  }));
  for (const auto& key : keys) {
    auto state = reader.record(key);
    if (!state) return state.status();
    if (!state->has_value() || (*state)->siblings.size() < 2) continue;
    VisibleRecord record = replica_.make_visible(key, **state);
    if (record.visible.conflicted && !visit(record)) break;
  }
  return Status::ok();
}

Result<ConflictsPage> RecordService::conflicts(const ConflictsRequest& request) {
  ConflictsPage page;
  page.last_seq = request.log_after;
  const std::uint32_t limit = std::clamp<std::uint32_t>(request.limit, 1, kMaxPageLimit);
  Status s = store_.read([&](StoreReader& reader) -> Status {
    std::size_t bytes = 0;
    SHOPSYNC_TRY(for_each_open_conflict(reader, request.collection, [&](const VisibleRecord& record) {
      if (page.open.size() >= limit || bytes >= kMaxPageBytes) return false;
      RecordView view = to_record_view(record);
      view.strategy = std::string(to_string(record.strategy));
      for (const auto& sib : view.siblings) bytes += field_bytes(sib.fields);
      page.open.push_back(std::move(view));
      return true;
    }));
    bytes = 0;
    return reader.for_each_conflict(request.log_after, [&](const ConflictEntry& e) {
      if (page.log.size() >= limit || bytes >= kMaxPageBytes) return Scan::stop;
      page.last_seq = e.seq;
      if (!request.collection.empty() && e.key.collection != request.collection) return Scan::next;
      page.log.push_back(to_log_entry(e));
      for (const auto& sib : page.log.back().siblings) bytes += field_bytes(sib.fields);
      return Scan::next;
    });
  });
  if (!s) return s.context("reading conflicts");
  return page;
}

Result<std::vector<ConflictLogEntry>> RecordService::history(const RecordKey& key) {
  std::vector<ConflictLogEntry> out;
  Status s = store_.read([&](StoreReader& reader) -> Status {
    return reader.for_each_conflict(0, [&](const ConflictEntry& e) {
      if (e.key == key) out.push_back(to_log_entry(e));
      return out.size() < kMaxHistoryEntries ? Scan::next : Scan::stop;
    });
  });
  if (!s) return s.context("reading the conflict log of " + key_text(key));
  return out;
}

Result<WriteResult> RecordService::resolve(const ResolveRequest& request) {
  Resolution resolution;
  resolution.choose = request.pick;
  if (request.fields) {
    FieldUpdate update;
    update.replace = true;
    for (const auto& [name, packed] : *request.fields) update.fields.emplace(name, packed);
    resolution.fields = std::move(update);
  }
  auto written = replica_.resolve(request.key, resolution, outbox_);
  if (!written) return written.status().context("resolving " + key_text(request.key));
  return to_write_result(*written);
}

Result<Hlc> RecordService::oldest_change_after(const VersionVector& known) {
  Hlc oldest = 0;
  Status s = store_.read([&](StoreReader& reader) -> Status {
    for (const auto& [origin, counter] : replica_.knowledge().entries()) {
      if (counter <= known.get(origin)) continue;
      std::optional<std::pair<std::uint64_t, RecordKey>> first;
      SHOPSYNC_TRY(reader.for_each_change(origin, known.get(origin), [&](std::uint64_t c, const RecordKey& key) {
        first.emplace(c, key);
        return Scan::stop;
      }));
      if (!first) continue;
      auto state = reader.record(first->second);
      if (!state) return state.status();
      if (!state->has_value()) continue;
      for (const auto& v : (*state)->siblings) {
        if (v.dot == Dot{origin, first->first} && (oldest == 0 || v.updated_at < oldest)) oldest = v.updated_at;
      }
    }
    return Status::ok();
  });
  if (!s) return s.context("finding the oldest pending change");
  return oldest;
}

Result<std::uint64_t> RecordService::count_open_conflicts() {
  std::uint64_t n = 0;
  Status s = store_.read([&](StoreReader& reader) {
    return for_each_open_conflict(reader, "", [&](const VisibleRecord&) {
      ++n;
      return true;
    });
  });
  if (!s) return s.context("counting open conflicts");
  return n;
}

Result<NodeStatus> RecordService::status() {
  NodeStatus s;
  s.node_id = replica_.id();
  s.cluster = replica_.cluster();
  s.knowledge = replica_.knowledge();
  s.counter = replica_.local_writes();
  s.clock = replica_.clock();
  s.collections = live_counts(counts());
  for (const auto& peer : replica_.peers()) {
    auto pending = replica_.pending_changes(peer.id);
    if (!pending) return pending.status().context("counting changes pending for " + node_id_text(peer.id));
    PendingChanges p;
    p.peer = peer.id;
    for (const auto& [collection, n] : *pending) {
      if (n == 0) continue;
      p.per_collection.emplace(collection, n);
      p.total += n;
    }
    s.pending.push_back(std::move(p));
  }
  auto open = count_open_conflicts();
  if (!open) return open.status();
  s.open_conflicts = *open;
  return s;
}

Result<PeerList> RecordService::peers() {
  PeerList list;
  for (const auto& peer : replica_.peers()) {
    PeerInfo info;
    info.node_id = peer.id;
    info.state = peer.connected ? "connected" : "disconnected";
    info.records_in = peer.records_in;
    info.records_out = peer.records_out;
    info.last_sync_ms = peer.last_sync_ms;
    auto pending = replica_.pending_changes(peer.id);
    if (!pending) return pending.status().context("counting changes pending for " + node_id_text(peer.id));
    for (const auto& [collection, n] : *pending) info.lag_changes += n;
    if (info.lag_changes > 0) {
      auto oldest = oldest_change_after(peer.knowledge);
      if (!oldest) return oldest.status();
      const std::uint64_t now_ms = wall_ms();
      if (*oldest != 0 && hlc_millis(*oldest) < now_ms) info.lag_ms = now_ms - hlc_millis(*oldest);
    }
    list.peers.push_back(std::move(info));
  }
  return list;
}

Status RecordService::forget_peer(NodeId peer) {
  for (const auto& p : replica_.peers()) {
    if (p.id != peer) continue;
    if (p.connected) return Status(Errc::refused, "peer " + node_id_text(peer) + " is connected");
    return replica_.forget_peer(peer);
  }
  return Status::not_found("no peer " + node_id_text(peer) + " is known here");
}

Result<DiscoveryReport> RecordService::discovery() {
  return Status(Errc::unavailable, "no discovery runs behind this API (it is shopsyncd's)");
}

namespace {

Status no_keys() { return Status(Errc::unavailable, "keys belong to shopsyncd"); }

}  // namespace

Result<TrustedKeyList> RecordService::trusted_keys() { return no_keys(); }
Status RecordService::trust(const TrustAddRequest&) { return no_keys(); }
Status RecordService::distrust(std::string_view) { return no_keys(); }
Result<PublicKey> RecordService::public_key() { return no_keys(); }

Result<TokenSecret> RecordService::create_token(const TokenCreateRequest& request) {
  std::optional<Grant> scope;
  if (!request.scope.empty()) {
    auto grant = parse_grant(request.scope);
    if (!grant) return grant.status().context("the token's scope");
    scope = std::move(*grant);
  }
  auto secret = app::create_token(store_, request.name, wall_ms(), scope);
  if (!secret) return secret.status();
  return TokenSecret{request.name, std::move(secret).value()};
}

Result<CredentialList> RecordService::list_tokens() {
  auto tokens = app::list_tokens(store_);
  if (!tokens) return tokens.status();
  return credential_list(*tokens);
}

Result<bool> RecordService::check_password(std::string_view name, std::string_view password) {
  std::optional<std::string> stored_hash;
  if (validate_user_name(name)) {
    auto record = replica_.get({std::string(kUsersCollection), std::string(name)});
    if (!record) return record.status();
    if (*record && !(*record)->visible.deleted) stored_hash = password_hash_of((*record)->visible.fields);
  }
  return password_matches(stored_hash, password);
}

}  // namespace shopsync::app
