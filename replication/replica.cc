// Replica: opening, the local API and introspection. The peer protocol is in
// replica_sync.cc, tombstone removal in tombstones.cc.
#include "replication/replica.h"

#include <algorithm>
#include <random>

#include "core/version_vector.h"
#include "replication/replica_impl.h"
#include "replication/sibling_set.h"
#include "storage/msgpack_reader.h"

namespace shopsync {

namespace {

constexpr std::size_t kMaxFieldName = 256;

Status validate_field_name(const std::string& name) {
  if (name.empty()) return Status::invalid("field name is empty");
  if (name.size() > kMaxFieldName) return Status::invalid("field name longer than 256 bytes");
  if (!is_valid_utf8(name)) return Status::invalid("field name is not valid UTF-8");
  return Status::ok();
}

Status validate_value(const std::string& name, const std::string& packed) {
  if (packed.empty()) return Status::invalid("field '" + name + "': empty value (expected one MessagePack object)");
  MsgpackReader reader(packed);
  std::string_view span;
  if (!reader.read_value(span) || !reader.at_end()) {
    return Status::invalid("field '" + name + "': not one MessagePack field value" +
                           (reader.ok() ? std::string(" (trailing bytes)") : ": " + reader.error()));
  }
  return Status::ok();
}


// Applies `update` to `base` for a write stamped `now`. A field whose value
// does not change keeps its stamp: under `merge` only real changes compete.
Fields apply_update(const Fields& base, const FieldUpdate& update, Hlc now) {
  Fields out = base;
  if (update.replace) {
    for (auto& [name, field] : out) {
      if (!field.removed() && update.fields.find(name) == update.fields.end()) field = Field{"", now};
    }
  }
  for (const auto& [name, value] : update.fields) {
    auto it = out.find(name);
    const bool present = it != out.end() && !it->second.removed();
    if (value) {
      if (!present || it->second.packed != *value) out[name] = Field{*value, now};
    } else if (present) {
      it->second = Field{"", now};
    }
  }
  return out;
}

}  // namespace

// ---- Impl helpers shared by the other files

Status validate_update(const FieldUpdate& update) {
  for (const auto& [name, value] : update.fields) {
    SHOPSYNC_TRY(validate_field_name(name));
    if (value) SHOPSYNC_TRY(validate_value(name, *value));
  }
  return Status::ok();
}


StrategyKind Replica::Impl::strategy_for(std::string_view collection) const {
  auto it = options.strategies.find(collection);
  return it != options.strategies.end() ? it->second : options.default_strategy;
}

Result<std::optional<RecordState>> Replica::Impl::state_to_write_over(StoreReader& reader, const RecordKey& key,
                                                                      bool* unreadable) const {
  auto state = reader.record(key);
  if (unreadable) *unreadable = false;
  if (state || state.status().code() != Errc::corrupt) return state;
  auto dots = reader.stored_dots(key);
  if (!dots) return dots.status();
  if (unreadable) *unreadable = true;
  return std::optional<RecordState>(unreadable_state(*dots));
}

VisibleRecord Replica::Impl::make_visible(const RecordKey& key, const RecordState& state) const {
  VisibleRecord out;
  out.key = key;
  out.strategy = strategy_for(key.collection);
  if (!state.siblings.empty()) out.visible = choose_visible(state.siblings, out.strategy, options.tolerance_ms);
  out.siblings = state.siblings;
  out.context = state.context;
  return out;
}

PeerState& Replica::Impl::peer(NodeId id) {
  PeerState& ps = peers[id];
  ps.stats.id = id;
  return ps;
}

void Replica::Impl::superseded(const std::vector<Dot>& dots, std::optional<NodeId> except) {
  if (dots.empty()) return;
  for (auto& entry : peers) {
    if (entry.second.answer && entry.first != except) entry.second.answer->cursor.superseded(dots);
  }
}

void Replica::Impl::notify_peers(Outbox& out, std::optional<NodeId> except) {
  for (const auto& [id, ps] : peers) {
    if (ps.stats.connected && id != except) out.send(id, Notify{knowledge_toward(ps)});
  }
}

// Nothing in a data directory tells a restored copy from the latest one: a
// counter kept there goes back with it, and a dot issued again under the same
// origin would name two different writes (peers holding the first would drop
// the second as seen, or keep different versions under one dot, and never
// agree). So dots are not issued under the node id but under a writer id drawn
// afresh at every open(): whatever state the store is in, no dot issued by
// this Replica was issued before. An id already known here (the node id, an
// origin in our knowledge, horizon, writers or a peer's knowledge) is refused;
// one issued before but forgotten with a restored store can only come back by
// two 64-bit random draws meeting.
Status Replica::Impl::draw_writer() {
  auto draw = options.draw_writer_id;
  if (!draw) {
    draw = [] {
      std::random_device rd;
      return (static_cast<NodeId>(rd()) << 32) ^ rd();
    };
  }
  auto known = [&](NodeId id) {
    if (id == 0 || id == meta.node_id || meta.knowledge.get(id) != 0 || horizon.get(id) != 0 ||
        writers.get(id) != 0) {
      return true;
    }
    return std::any_of(peers.begin(), peers.end(), [&](const auto& p) { return p.second.stats.knowledge.get(id) != 0; });
  };
  for (int attempt = 0; attempt < 64; ++attempt) {
    const NodeId id = draw();
    if (!known(id)) {
      writer = id;
      issued = 0;
      // The Pulls are numbered on from the writer id too: a Batch answering
      // a Pull of an earlier run of this node (in flight when it stopped)
      // never carries the number of one of this run.
      pull_seq = id;
      return Status::ok();
    }
  }
  return Status::invalid("no fresh writer id drawn in 64 attempts (the writer id source repeats known ids)");
}

void Replica::Impl::LocalTxn::begin(const Impl& impl) {
  meta = impl.meta;
  issued = impl.issued;
  dropped.clear();
  wanted.clear();
}

Status Replica::Impl::write_version(StoreWriter& w, LocalTxn& tx, const RecordKey& key, const MakeVersion& make,
                                    Hlc now, Result<RecordState>& written) const {
  auto current = state_to_write_over(w, key);
  if (!current) return current.status();
  auto version = make(*current, now);
  if (version && options.access) {
    if (Status allowed = check_local_write(key, *current, *version); !allowed) version = allowed;
  }
  if (!version) {
    written = version.status();
    return Status::ok();
  }
  // Dots are issued under this Replica's writer id, never the node id:
  // see draw_writer().
  const Dot dot{writer, tx.issued + 1};
  version->dot = dot;
  version->updated_at = now;
  version->uplink_origin = options.uplink;
  // A record this node does not hold may still exist elsewhere as versions it
  // has seen and dropped (a tombstone it removed, a snapshot purge): the new
  // version must supersede those too, or a peer still holding such a
  // tombstone would keep it as a concurrent sibling and the two would never
  // agree. Every dot this node's knowledge covers is one it has seen, so that
  // knowledge is the right context for a version written from nothing.
  RecordState base;
  if (current->has_value()) {
    base = **current;
  } else if (!scoped()) {
    base.context = tx.meta.knowledge;
  }
  // A scoped node's knowledge and exit markers cover versions that are live
  // out of its scope: a write from nothing takes an empty context (concurrent
  // with whatever the key holds elsewhere), superseding them would overwrite
  // records outside its grant. And the record may hold there versions it
  // skipped as out of its scope, which its write brings into it: it asks for
  // the record whole until a full sender holds its write (Pull.want).
  if (scoped() && std::find(tx.wanted.begin(), tx.wanted.end(), key) == tx.wanted.end()) {
    SHOPSYNC_TRY(w.put(Table::settings, want_key(key), ""));
    tx.wanted.push_back(key);
  }
  RecordState state = supersede(base, std::move(*version));
  // The store leaves itself unchanged when it refuses one record: that
  // record alone fails.
  if (Status put = w.put_record(key, state); !put) {
    if (put.code() != Errc::too_large && put.code() != Errc::invalid_argument) return put;
    written = put;
    return Status::ok();
  }
  tx.issued = dot.counter;
  ++tx.meta.counter;
  tx.meta.clock = std::max(tx.meta.clock, now);
  tx.meta.knowledge.advance(dot);
  for (const Dot& d : dropped_dots(base, state)) tx.dropped.push_back(d);
  written = std::move(state);
  return Status::ok();
}

Status Replica::Impl::finish_local(StoreWriter& w, const LocalTxn& tx) const {
  if (tx.meta == meta) return Status::ok();  // nothing applied
  VersionVector next_writers = writers;
  next_writers.set(writer, tx.issued);
  SHOPSYNC_TRY(w.put(Table::settings, kWritersKey, version_vector_text(next_writers)));
  return w.put_node_meta(tx.meta);
}

bool Replica::Impl::committed_local(LocalTxn& tx) {
  const bool changed = !(tx.meta == meta);
  meta = std::move(tx.meta);
  if (changed) {
    issued = tx.issued;
    writers.set(writer, issued);
  }
  superseded(tx.dropped);
  wanted.insert(tx.wanted.begin(), tx.wanted.end());
  return changed;
}

Result<std::vector<Result<VisibleRecord>>> Replica::Impl::write_local_batch(
    std::vector<LocalStep>& steps, Outbox& out, const std::map<std::string, std::string>& settings) {
  std::vector<Result<VisibleRecord>> results;
  results.reserve(steps.size());
  std::size_t valid = 0;
  for (LocalStep& step : steps) {
    if (step.precheck) step.precheck = validate_key(step.key);
    if (step.precheck) ++valid;
  }
  if (valid == 0) {
    if (!settings.empty()) {
      Status stored = store.write([&](StoreWriter& w) -> Status {
        for (const auto& [key, value] : settings) SHOPSYNC_TRY(w.put(Table::settings, key, value));
        return Status::ok();
      });
      if (!stored) return stored;
    }
    for (const LocalStep& step : steps) results.emplace_back(step.precheck);
    return results;
  }
  // Read before the write: the clock readings and the counters must be the
  // same whichever number of times the store runs the body. One reading per
  // step, so a key written twice in a batch gets increasing stamps.
  std::vector<Hlc> nows(steps.size(), 0);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].precheck) nows[i] = hlc.now();
  }
  LocalTxn tx;
  std::vector<Result<RecordState>> written;
  Status st = store.write([&](StoreWriter& w) -> Status {
    // The body may run more than once: start from scratch each time.
    tx.begin(*this);
    written.assign(steps.size(), Status::invalid("not written"));
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (!steps[i].precheck) continue;
      SHOPSYNC_TRY(write_version(w, tx, steps[i].key, steps[i].make, nows[i], written[i]));
    }
    for (const auto& [key, value] : settings) SHOPSYNC_TRY(w.put(Table::settings, key, value));
    return finish_local(w, tx);
  });
  if (!st) return st;
  const bool changed = committed_local(tx);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (!steps[i].precheck) {
      results.emplace_back(steps[i].precheck);
    } else if (!written[i]) {
      results.emplace_back(written[i].status());
    } else {
      VisibleRecord visible = make_visible(steps[i].key, *written[i]);
      out.changed(steps[i].key, &visible);
      results.emplace_back(std::move(visible));
    }
  }
  if (changed) notify_peers(out);
  return results;
}

Result<VisibleRecord> Replica::Impl::write_local(const RecordKey& key, Outbox& out, MakeVersion make) {
  std::vector<LocalStep> steps;
  steps.push_back(LocalStep{key, std::move(make)});
  auto results = write_local_batch(steps, out);
  if (!results) return results.status();
  return std::move(results->front());
}

// ---- Replica

Replica::Replica(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Replica::~Replica() = default;

Result<std::unique_ptr<Replica>> Replica::open(Store& store, Clock& clock, ReplicaOptions options) {
  if (options.max_batch_records == 0 || options.max_batch_bytes == 0) {
    return Status::invalid("batch limits must be positive");
  }
  if (options.max_group_batches == 0) return Status::invalid("max_group_batches must be at least 1");
  if (options.initial_credit == 0 || options.max_credit < options.initial_credit) {
    return Status::invalid("initial credit must be at least 1 and at most max_credit");
  }
  std::optional<NodeMeta> stored;
  SHOPSYNC_TRY(store.read([&](StoreReader& r) -> Status {
    auto m = r.node_meta();
    if (!m) return m.status();
    stored = std::move(*m);
    return Status::ok();
  }));
  NodeMeta meta;
  if (stored) {
    if (options.node_id != 0 && options.node_id != stored->node_id) {
      return Status::refused("the store belongs to node " + std::to_string(stored->node_id) + ", not " +
                             std::to_string(options.node_id));
    }
    if (!options.cluster.empty() && !stored->cluster.empty() && options.cluster != stored->cluster) {
      return Status::refused("the store belongs to cluster '" + stored->cluster + "', not '" + options.cluster + "'");
    }
    meta = std::move(*stored);
    options.node_id = meta.node_id;
    if (options.cluster.empty()) options.cluster = meta.cluster;
  } else {
    if (options.node_id == 0) return Status::invalid("a new node needs a non-zero node id");
    meta.node_id = options.node_id;
    meta.cluster = options.cluster;
    SHOPSYNC_TRY(store.write([&](StoreWriter& w) { return w.put_node_meta(meta); }));
  }
  auto impl = std::make_unique<Impl>(store, clock, std::move(options), std::move(meta));
  SHOPSYNC_TRY(impl->load_persisted().context("loading replication state"));
  SHOPSYNC_TRY(impl->draw_writer());
  SHOPSYNC_TRY(impl->open_scope().context("opening the node's read scope"));
  return std::unique_ptr<Replica>(new Replica(std::move(impl)));
}

// The versions of put() and remove(), shared with apply_local_writes().
Replica::Impl::MakeVersion make_put_version(const FieldUpdate& update, StrategyKind kind, std::uint64_t tolerance) {
  return [&update, kind, tolerance](const std::optional<RecordState>& current, Hlc now) -> Result<Version> {
    Version v;
    const Fields base = current ? base_fields(current->siblings, kind, tolerance) : Fields{};
    v.fields = apply_update(base, update, now);
    return v;
  };
}

Replica::Impl::MakeVersion make_remove_version(const RecordKey& key, StrategyKind kind, std::uint64_t tolerance) {
  return [&key, kind, tolerance](const std::optional<RecordState>& current, Hlc) -> Result<Version> {
    if (!current || current->siblings.empty() || choose_visible(current->siblings, kind, tolerance).deleted) {
      return Status::not_found("no record " + key.collection + "/" + key.id + " to delete");
    }
    Version v;
    v.deleted = true;
    return v;
  };
}


Result<VisibleRecord> Replica::put(const RecordKey& key, const FieldUpdate& update, Outbox& out) {
  SHOPSYNC_TRY(validate_update(update));
  return impl_->write_local(key, out,
                            make_put_version(update, impl_->strategy_for(key.collection), impl_->options.tolerance_ms));
}

Result<VisibleRecord> Replica::remove(const RecordKey& key, Outbox& out) {
  return impl_->write_local(key, out,
                            make_remove_version(key, impl_->strategy_for(key.collection), impl_->options.tolerance_ms));
}

Result<std::vector<Result<VisibleRecord>>> Replica::apply_local_writes(const std::vector<LocalWrite>& writes,
                                                                       Outbox& out) {
  return apply_local_writes(writes, out, {});
}

Result<std::vector<Result<VisibleRecord>>> Replica::apply_local_writes(const std::vector<LocalWrite>& writes, Outbox& out,
                                                                       const std::map<std::string, std::string>& settings) {
  std::vector<Impl::LocalStep> steps;
  steps.reserve(writes.size());
  for (const LocalWrite& write : writes) {
    const StrategyKind kind = impl_->strategy_for(write.key.collection);
    const std::uint64_t tolerance = impl_->options.tolerance_ms;
    Impl::LocalStep step{write.key, write.remove ? make_remove_version(write.key, kind, tolerance)
                                                 : make_put_version(write.update, kind, tolerance)};
    if (!write.remove) step.precheck = validate_update(write.update);
    steps.push_back(std::move(step));
  }
  return impl_->write_local_batch(steps, out, settings);
}

Replica::Impl::MakeVersion make_resolve_version(const RecordKey& key, const Resolution& resolution, StrategyKind kind,
                                                std::uint64_t tolerance) {
  return [&key, &resolution, kind, tolerance](const std::optional<RecordState>& current, Hlc now) -> Result<Version> {
    const std::string name = key.collection + "/" + key.id;
    if (!current || current->siblings.empty()) return Status::not_found("no record " + name + " to resolve");
    if (resolution.seen) {
      for (const Version& s : current->siblings) {
        if (!resolution.seen->covers(s.dot)) {
          return Status::refused("record " + name + " has a version the resolution has not seen (" +
                                 std::to_string(s.dot.origin) + ":" + std::to_string(s.dot.counter) + ")");
        }
      }
    }
    Version v;
    if (resolution.choose) {
      auto it = std::find_if(current->siblings.begin(), current->siblings.end(),
                             [&](const Version& s) { return s.dot == *resolution.choose; });
      if (it == current->siblings.end()) return Status::not_found("record " + name + " has no such sibling");
      v.deleted = it->deleted;
      // The chosen value, restamped: the resolution is a new change of every
      // field, newer than any it settles.
      for (const auto& [field_name, field] : it->fields) v.fields.emplace(field_name, Field{field.packed, now});
    } else {
      FieldUpdate whole = *resolution.fields;
      whole.replace = true;
      v.fields = apply_update(base_fields(current->siblings, kind, tolerance), whole, now);
      for (auto& [field_name, field] : v.fields) field.stamp = now;
    }
    return v;
  };
}

Status validate_resolution(const Resolution& resolution) {
  if (!resolution.choose && !resolution.fields) {
    return Status::invalid("a resolution chooses a sibling or supplies the fields");
  }
  if (resolution.fields) SHOPSYNC_TRY(validate_update(*resolution.fields));
  return Status::ok();
}

Result<VisibleRecord> Replica::resolve(const RecordKey& key, const Resolution& resolution, Outbox& out) {
  SHOPSYNC_TRY(validate_resolution(resolution));
  return impl_->write_local(key, out,
                            make_resolve_version(key, resolution, impl_->strategy_for(key.collection),
                                                 impl_->options.tolerance_ms));
}

Result<std::optional<VisibleRecord>> Replica::get(const RecordKey& key) {
  SHOPSYNC_TRY(validate_key(key));
  std::optional<VisibleRecord> out;
  SHOPSYNC_TRY(impl_->store.read([&](StoreReader& r) -> Status {
    auto state = r.record(key);
    if (!state) return state.status();
    if (state->has_value() && !(*state)->siblings.empty()) out = impl_->make_visible(key, **state);
    return Status::ok();
  }));
  return out;
}

NodeId Replica::id() const { return impl_->meta.node_id; }
bool Replica::is_own_origin(NodeId origin) const {
  return origin == impl_->meta.node_id || origin == impl_->writer || impl_->writers.get(origin) != 0;
}
NodeId Replica::writer() const { return impl_->writer; }
std::uint64_t Replica::local_writes() const { return impl_->meta.counter; }
const std::string& Replica::cluster() const { return impl_->meta.cluster; }
const VersionVector& Replica::knowledge() const { return impl_->meta.knowledge; }
bool Replica::scoped() const { return impl_->scoped(); }
Hlc Replica::clock() const { return impl_->hlc.last(); }
const VersionVector& Replica::tombstone_horizon() const { return impl_->horizon; }
StrategyKind Replica::strategy_for(std::string_view collection) const { return impl_->strategy_for(collection); }

void Replica::set_strategies(std::map<std::string, StrategyKind, std::less<>> strategies, StrategyKind default_strategy,
                             std::uint64_t tolerance_ms) {
  impl_->options.strategies = std::move(strategies);
  impl_->options.default_strategy = default_strategy;
  impl_->options.tolerance_ms = tolerance_ms;
}

VisibleRecord Replica::make_visible(const RecordKey& key, const RecordState& state) const {
  return impl_->make_visible(key, state);
}

std::vector<PeerStats> Replica::peers() const {
  std::vector<PeerStats> out;
  for (const auto& [id, ps] : impl_->peers) out.push_back(ps.stats);
  return out;
}

Result<std::map<std::string, std::uint64_t>> Replica::pending_changes(NodeId peer) {
  VersionVector theirs;
  if (auto it = impl_->peers.find(peer); it != impl_->peers.end()) theirs = it->second.stats.knowledge;
  std::map<std::string, std::uint64_t> counts;
  const VersionVector mine = impl_->meta.knowledge;
  Status st = impl_->store.read([&](StoreReader& r) -> Status {
    for (const auto& [origin, counter] : mine.entries()) {
      if (counter <= theirs.get(origin)) continue;
      SHOPSYNC_TRY(r.for_each_change(origin, theirs.get(origin), [&](std::uint64_t, const RecordKey& key) {
        ++counts[key.collection];
        return Scan::next;
      }));
    }
    return Status::ok();
  });
  if (!st) return st;
  return counts;
}

}  // namespace shopsync
