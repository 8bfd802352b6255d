// Replica::apply_device_push: a device's push decided and committed in one
// transaction (device_push.h).
#include "replication/device_push.h"

#include <algorithm>
#include <set>

#include "replication/conflict_log.h"
#include "replication/device_state.h"
#include "replication/replica_impl.h"
#include "storage/msgpack_reader.h"
#include "storage/record_codec.h"

namespace shopsync {

std::string_view to_string(DeviceWinner winner) {
  switch (winner) {
    case DeviceWinner::server: return "server";
    case DeviceWinner::client: return "client";
    case DeviceWinner::merged: return "merged";
  }
  return "server";
}

bool is_device_bookkeeping(std::string_view name) {
  return name == "updated_at" || name == "sync_status" || name == "last_synced_at" || name == "_deleted" ||
         name == kEditedAtField;
}

std::uint64_t edited_at_ms(const Outcome& visible) {
  auto it = visible.fields.find(kEditedAtField);
  if (it == visible.fields.end() || it->second.removed()) return HybridClock::wall_ms(visible.updated_at);
  for (const auto& [name, field] : visible.fields) {
    // A field changed after the edit time was kept (a patch at a node): the
    // version is that later write's.
    if (!field.removed() && field.stamp > it->second.stamp) return HybridClock::wall_ms(visible.updated_at);
  }
  MsgpackReader in(it->second.packed);
  std::uint64_t ms = 0;
  if (!in.read_uint(ms)) return HybridClock::wall_ms(visible.updated_at);
  return ms;
}

namespace {

std::string packed_uint(std::uint64_t value) {
  msgpack::sbuffer buffer;
  Packer pk(buffer);
  pk.pack_uint64(value);
  return std::string(buffer.data(), buffer.size());
}

Hlc newest_hlc(const std::vector<Version>& siblings) {
  Hlc newest = 0;
  for (const auto& v : siblings) newest = std::max(newest, v.updated_at);
  return newest;
}

using SameValue = std::function<bool(std::string_view, std::string_view)>;

bool same_fields(const Fields& visible, const DeviceChange& change, const SameValue& same) {
  std::size_t present = 0;
  for (const auto& [name, field] : visible) {
    if (field.removed() || name == kEditedAtField) continue;
    ++present;
    auto it = change.fields.find(name);
    if (it == change.fields.end() || !same(field.packed, it->second)) return false;
  }
  return present == change.fields.size();
}

// The change's fields and when it was edited (kEditedAtField).
FieldUpdate whole_record(const DeviceChange& change, std::uint64_t edited_ms) {
  FieldUpdate u;
  u.replace = true;
  for (const auto& [name, packed] : change.fields) u.fields.emplace(name, packed);
  u.fields.emplace(std::string(kEditedAtField), packed_uint(edited_ms));
  return u;
}

// One run of the push's transaction body: every change decided in order
// against what the transaction holds so far, so a record pushed twice is
// decided against what its earlier change left (the record and what the
// device was then given).
class PushTxn {
 public:
  PushTxn(Replica::Impl& impl, StoreWriter& w, const DevicePush& push, Hlc detected_at)
      : impl_(impl), w_(w), push_(push), detected_at_(detected_at) {
    if (push.same_value) {
      same_ = push.same_value;
    } else {
      same_ = [](std::string_view a, std::string_view b) { return a == b; };
    }
  }

  Status decide(const DeviceChange& change, Hlc now, Replica::Impl::LocalTxn& tx, DeviceChangeOutcome& outcome,
                std::optional<RecordState>& written);
  // The device's state after the push, saved in the same transaction.
  Status save_device_state();

  std::vector<ConflictEntry> logged;

 private:
  // What the device now holds of `key`.
  Status remember(const RecordKey& key, const RecordState& state) {
    return save_seen(w_, push_.device, key, SeenVersion{state.context, newest_hlc(state.siblings)});
  }
  // A write of the change's fields (or a tombstone when `update` is null).
  Status write(Replica::Impl::LocalTxn& tx, const RecordKey& key, const FieldUpdate* update, Hlc now,
               Result<RecordState>& result) {
    const StrategyKind kind = impl_.strategy_for(key.collection);
    const std::uint64_t tolerance = impl_.options.tolerance_ms;
    if (update) {
      if (Status valid = validate_update(*update); !valid) {
        result = valid;
        return Status::ok();
      }
      return impl_.write_version(w_, tx, key, make_put_version(*update, kind, tolerance), now, result);
    }
    return impl_.write_version(w_, tx, key, make_remove_version(key, kind, tolerance), now, result);
  }
  Status log_conflict(const DeviceChange& change, const RecordState& server, DeviceConflict& conflict, Dot device_dot,
                      Dot winner);

  Replica::Impl& impl_;
  StoreWriter& w_;
  const DevicePush& push_;
  const Hlc detected_at_;
  SameValue same_;
  std::set<RecordKey> settled_;  // the device holds the winner: no longer to resend
  std::vector<RecordKey> resend_;
};

Status PushTxn::log_conflict(const DeviceChange& change, const RecordState& server, DeviceConflict& conflict,
                             Dot device_dot, Dot winner) {
  Fields device_fields;
  for (const auto& [name, packed] : change.fields) device_fields.emplace(name, Field{packed, 0});
  ConflictEntry entry = make_device_conflict_entry(change.key, server, device_fields, change.deleted,
                                                   conflict.client_ms, device_dot, conflict.strategy, winner,
                                                   conflict.near_simultaneous, detected_at_, impl_.meta.node_id);
  auto seq = w_.append_conflict(entry);
  if (!seq) return seq.status();
  entry.seq = *seq;
  conflict.log_seq = *seq;
  logged.push_back(std::move(entry));
  return Status::ok();
}

Status PushTxn::decide(const DeviceChange& change, Hlc now, Replica::Impl::LocalTxn& tx,
                       DeviceChangeOutcome& outcome, std::optional<RecordState>& written) {
  const RecordKey& key = change.key;
  if (Status valid = validate_key(key); !valid) {
    outcome.error = valid;
    return Status::ok();
  }
  // A stored record or seen entry that does not decode fails this change
  // alone; anything else the store says fails the push.
  auto stored = w_.record(key);
  if (!stored) {
    if (stored.status().code() != Errc::corrupt) return stored.status();
    outcome.error = stored.status();
    return Status::ok();
  }
  auto seen = load_seen(w_, push_.device, key);
  if (!seen) {
    if (seen.status().code() != Errc::corrupt) return seen.status();
    outcome.error = seen.status();
    return Status::ok();
  }
  std::optional<VisibleRecord> current;
  if (stored->has_value() && !(*stored)->siblings.empty()) current = impl_.make_visible(key, **stored);
  const bool live = current && !current->visible.deleted;
  const bool same = live && !change.deleted && same_fields(current->visible.fields, change, same_);
  // Changed on the node since the device last saw it. A tombstone the device
  // never saw is treated as absent (its push re-creates the record).
  const bool unseen_change = current && (live || *seen) && (!*seen || !(*seen)->context.covers(current->context));
  // The device's edit time, no later than our clock plus the cluster's max
  // offset: a device whose clock runs fast does not win every conflict.
  const std::uint64_t bound = impl_.options.max_clock_offset_ms;
  const std::uint64_t now_ms = HybridClock::wall_ms(now);
  const std::uint64_t latest = bound > ~std::uint64_t{0} - now_ms ? ~std::uint64_t{0} : now_ms + bound;
  const std::uint64_t client_ms = std::min(change.client_ms, latest);
  const FieldUpdate client_update = whole_record(change, client_ms);
  const FieldUpdate* client_write = change.deleted ? nullptr : &client_update;

  if (same || (change.deleted && !live)) {  // nothing to write: the device has the node's state
    if (current) SHOPSYNC_TRY(remember(key, **stored));
    settled_.insert(key);
    outcome.applied = change.deleted ? DeviceAction::remove : DeviceAction::update;
    return Status::ok();
  }
  if (!unseen_change) {
    const DeviceAction action = change.deleted ? DeviceAction::remove : live ? DeviceAction::update : DeviceAction::create;
    Result<RecordState> result = Status::invalid("not written");
    SHOPSYNC_TRY(write(tx, key, client_write, now, result));
    if (!result) {
      outcome.error = result.status();
      return Status::ok();
    }
    SHOPSYNC_TRY(remember(key, *result));
    settled_.insert(key);
    outcome.applied = action;
    written = std::move(*result);
    return Status::ok();
  }

  // A conflict: the node's version changed since the device last saw it.
  DeviceConflict conflict;
  conflict.strategy = current->strategy;
  conflict.client_ms = client_ms;
  conflict.server = current;
  const std::uint64_t server_ms = edited_at_ms(current->visible);
  const DeviceWinner newest = client_ms > server_ms ? DeviceWinner::client : DeviceWinner::server;
  FieldUpdate merge_update;
  merge_update.replace = false;
  switch (conflict.strategy) {
    case StrategyKind::server_wins:
    case StrategyKind::manual:
      conflict.winner = DeviceWinner::server;
      break;
    case StrategyKind::client_wins:
      conflict.winner = DeviceWinner::client;
      break;
    case StrategyKind::newest_wins: {
      const std::uint64_t diff = server_ms > client_ms ? server_ms - client_ms : client_ms - server_ms;
      conflict.near_simultaneous = diff <= impl_.options.tolerance_ms;
      conflict.winner = newest;
      break;
    }
    case StrategyKind::merge: {
      if (change.deleted || !live) {  // nothing to merge field by field: newest wins
        conflict.winner = newest;
        break;
      }
      const Hlc seen_hlc = *seen ? (*seen)->updated_at : 0;
      const Fields& server = current->visible.fields;
      for (const auto& [name, value] : change.fields) {
        auto sf = server.find(name);
        if (sf != server.end() && !sf->second.removed() && same_(sf->second.packed, value)) continue;
        const bool server_changed = sf != server.end() && sf->second.stamp > seen_hlc;
        if (!server_changed || client_ms > HybridClock::wall_ms(sf->second.stamp)) merge_update.fields[name] = value;
      }
      if (*seen) {  // fields the device removed, that the node left alone
        for (const auto& [name, field] : server) {
          if (field.removed() || is_device_bookkeeping(name) || change.fields.contains(name)) continue;
          if (field.stamp <= seen_hlc) merge_update.fields[name] = std::nullopt;
        }
      }
      conflict.winner = DeviceWinner::merged;
      break;
    }
  }

  if (conflict.winner == DeviceWinner::server) {
    resend_.push_back(key);  // the device holds the losing version
    SHOPSYNC_TRY(log_conflict(change, **stored, conflict, Dot{}, current->visible.winner));
    outcome.conflict = std::move(conflict);
    return Status::ok();
  }
  Result<RecordState> result = **stored;  // a merge with nothing to write: the node's value stands
  const bool writes = conflict.winner == DeviceWinner::client || !merge_update.fields.empty();
  if (writes) {
    result = Status::invalid("not written");
    SHOPSYNC_TRY(write(tx, key, conflict.winner == DeviceWinner::client ? client_write : &merge_update, now, result));
    if (!result) {
      outcome.error = result.status();
      return Status::ok();
    }
  }
  const VisibleRecord now_visible = impl_.make_visible(key, *result);
  Dot device_dot;
  if (conflict.winner == DeviceWinner::client) {
    device_dot = now_visible.visible.winner;  // the device's version, as written
    SHOPSYNC_TRY(remember(key, *result));
    settled_.insert(key);
  } else {
    conflict.merged = now_visible;
    resend_.push_back(key);  // the device must take the merged value
  }
  SHOPSYNC_TRY(log_conflict(change, **stored, conflict, device_dot, now_visible.visible.winner));
  outcome.applied = DeviceAction::update;
  outcome.conflict = std::move(conflict);
  if (writes) written = std::move(*result);
  return Status::ok();
}

Status PushTxn::save_device_state() {
  auto loaded = load_device(w_, push_.device);
  if (!loaded) return loaded.status();
  DeviceState state = loaded->value_or(DeviceState{});
  if (state.first_seen_ms == 0) state.first_seen_ms = push_.now_ms;
  state.last_push_ms = push_.now_ms;
  state.last_sync_ms = push_.now_ms;
  ++state.pushes;
  std::erase_if(state.resend, [&](const RecordKey& k) { return settled_.count(k) > 0; });
  for (const auto& k : resend_) {
    if (std::find(state.resend.begin(), state.resend.end(), k) == state.resend.end()) state.resend.push_back(k);
  }
  return save_device(w_, push_.device, state);
}

}  // namespace

Result<std::vector<DeviceChangeOutcome>> Replica::Impl::apply_device_push(const DevicePush& push, Outbox& out) {
  SHOPSYNC_TRY(validate_device_id(push.device));
  // Read before the write, as in write_local_batch: the body may run more
  // than once and must see the same readings.
  std::vector<Hlc> nows;
  nows.reserve(push.changes.size());
  for (std::size_t i = 0; i < push.changes.size(); ++i) nows.push_back(hlc.now());
  const Hlc detected_at = hlc.now();

  LocalTxn tx;
  std::vector<DeviceChangeOutcome> outcomes;
  std::vector<std::optional<RecordState>> written;
  std::vector<ConflictEntry> logged;
  Status st = store.write([&](StoreWriter& w) -> Status {
    tx.begin(*this);
    outcomes.assign(push.changes.size(), DeviceChangeOutcome{});
    written.assign(push.changes.size(), std::nullopt);
    PushTxn txn(*this, w, push, detected_at);
    for (std::size_t i = 0; i < push.changes.size(); ++i) {
      SHOPSYNC_TRY(txn.decide(push.changes[i], nows[i], tx, outcomes[i], written[i]));
    }
    SHOPSYNC_TRY(txn.save_device_state());
    logged = std::move(txn.logged);
    return finish_local(w, tx);
  });
  if (!st) return st;
  const bool changed = committed_local(tx);
  for (std::size_t i = 0; i < written.size(); ++i) {
    if (!written[i]) continue;
    const VisibleRecord visible = make_visible(push.changes[i].key, *written[i]);
    out.changed(push.changes[i].key, &visible);
  }
  for (const ConflictEntry& entry : logged) out.conflict(entry);
  if (changed) notify_peers(out);
  return outcomes;
}

Result<VisibleRecord> Replica::Impl::apply_device_resolve(const DeviceResolve& r, Outbox& out) {
  SHOPSYNC_TRY(validate_device_id(r.device));
  SHOPSYNC_TRY(validate_key(r.key));
  Resolution resolution;
  if (r.fields) {
    resolution.fields = *r.fields;
    SHOPSYNC_TRY(validate_resolution(resolution));
  }
  const StrategyKind kind = strategy_for(r.key.collection);
  const Hlc now = hlc.now();  // read before the write: the body may run more than once
  LocalTxn tx;
  std::optional<RecordState> result;
  bool wrote = false;
  Status st = store.write([&](StoreWriter& w) -> Status {
    tx.begin(*this);
    wrote = false;
    auto stored = w.record(r.key);
    if (!stored) return stored.status();
    const bool exists = stored->has_value() && !(*stored)->siblings.empty();
    if (!r.fields) {
      if (!exists) return Status::not_found(r.key.collection + "/" + r.key.id + ": no such record");
      result = **stored;
    } else {
      const MakeVersion make = exists ? make_resolve_version(r.key, resolution, kind, options.tolerance_ms)
                                      : make_put_version(*r.fields, kind, options.tolerance_ms);
      Result<RecordState> written = Status::invalid("not written");
      SHOPSYNC_TRY(write_version(w, tx, r.key, make, now, written));
      if (!written) return written.status();  // aborts: nothing of it is stored
      result = std::move(*written);
      wrote = true;
    }
    auto loaded = load_device(w, r.device);
    if (!loaded) return loaded.status();
    DeviceState state = loaded->value_or(DeviceState{});
    if (state.first_seen_ms == 0) state.first_seen_ms = r.now_ms;
    std::erase(state.resend, r.key);
    SHOPSYNC_TRY(save_seen(w, r.device, r.key, SeenVersion{result->context, newest_hlc(result->siblings)}));
    SHOPSYNC_TRY(save_device(w, r.device, state));
    return finish_local(w, tx);
  });
  if (!st) return st;
  const bool changed = committed_local(tx);
  VisibleRecord visible = make_visible(r.key, *result);
  if (wrote) out.changed(r.key, &visible);
  if (changed) notify_peers(out);
  return visible;
}

Result<std::vector<DeviceChangeOutcome>> Replica::apply_device_push(const DevicePush& push, Outbox& out) {
  return impl_->apply_device_push(push, out);
}

Result<VisibleRecord> Replica::apply_device_resolve(const DeviceResolve& resolve, Outbox& out) {
  return impl_->apply_device_resolve(resolve, out);
}

}  // namespace shopsync
