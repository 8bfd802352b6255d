#include "storage/memory_store.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <mutex>
#include <vector>

#include "storage/body_scope.h"
#include "storage/key_codec.h"
#include "storage/record_codec.h"

namespace shopsync {

namespace {

constexpr std::size_t kMaxTableKey = 511;  // LMDB's default limit, kept for equal semantics

using Undo = std::vector<std::function<void(MemoryStore::Data&)>>;

Status check_table_key(std::string_view key) {
  if (key.empty()) return Status::invalid("table key is empty");
  if (key.size() > kMaxTableKey) {
    return Status::invalid("table key of " + std::to_string(key.size()) + " bytes is over LMDB's limit of " +
                           std::to_string(kMaxTableKey));
  }
  return Status::ok();
}

// The store seen by one body. `undo` is null for read().
class View final : public StoreWriter {
 public:
  View(MemoryStore::Data& d, Undo* undo, std::size_t max_record_bytes)
      : d_(d), undo_(undo), max_record_bytes_(max_record_bytes) {}

  Result<std::optional<RecordState>> record(const RecordKey& key) override {
    SHOPSYNC_TRY(validate_key(key));
    auto it = d_.records.find(key);
    if (it == d_.records.end()) return std::optional<RecordState>();
    return std::optional<RecordState>(it->second);
  }

  // Every stored state decodes here (nothing is ever encoded to be read back).
  Result<std::vector<Dot>> stored_dots(const RecordKey& key) override {
    SHOPSYNC_TRY(validate_key(key));
    std::vector<Dot> dots;
    if (auto it = d_.records.find(key); it != d_.records.end()) {
      for (const Version& v : it->second.siblings) dots.push_back(v.dot);
    }
    return dots;
  }

  Status for_each_record(std::string_view collection, std::string_view after_id,
                         const std::function<Scan(const RecordKey&, const RecordState&)>& visit) override {
    SHOPSYNC_TRY(validate_collection_name(collection));
    RecordKey start{std::string(collection), std::string(after_id)};
    auto it = after_id.empty() ? d_.records.lower_bound(start) : d_.records.upper_bound(start);
    for (; it != d_.records.end() && it->first.collection == collection; ++it) {
      if (visit(it->first, it->second) == Scan::stop) break;
    }
    return Status::ok();
  }

  Result<std::vector<std::string>> collections() override {
    std::vector<std::string> out;
    for (const auto& [key, state] : d_.records) {
      if (out.empty() || out.back() != key.collection) out.push_back(key.collection);
    }
    return out;
  }

  Status for_each_change(NodeId origin, std::uint64_t after,
                         const std::function<Scan(std::uint64_t, const RecordKey&)>& visit) override {
    if (after == std::numeric_limits<std::uint64_t>::max()) return Status::ok();
    for (auto it = d_.changes.lower_bound(Dot{origin, after + 1}); it != d_.changes.end() && it->first.origin == origin;
         ++it) {
      if (visit(it->first.counter, it->second) == Scan::stop) break;
    }
    return Status::ok();
  }

  Result<std::optional<NodeMeta>> node_meta() override { return d_.meta; }

  Status for_each_conflict(std::uint64_t after, const std::function<Scan(const ConflictEntry&)>& visit) override {
    if (after == std::numeric_limits<std::uint64_t>::max()) return Status::ok();
    for (auto it = d_.conflicts.upper_bound(after); it != d_.conflicts.end(); ++it) {
      if (visit(it->second) == Scan::stop) break;
    }
    return Status::ok();
  }

  Result<std::optional<std::string>> get(Table table, std::string_view key) override {
    SHOPSYNC_TRY(check_table_key(key));
    const auto& t = d_.tables[static_cast<std::size_t>(table)];
    auto it = t.find(key);
    if (it == t.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  Status for_each(Table table, const std::function<Scan(std::string_view, std::string_view)>& visit) override {
    for (const auto& [k, v] : d_.tables[static_cast<std::size_t>(table)]) {
      if (visit(k, v) == Scan::stop) break;
    }
    return Status::ok();
  }

  // ---- writing (undo_ is set) -------------------------------------------------

  Status put_record(const RecordKey& key, const RecordState& state) override {
    SHOPSYNC_TRY(validate_key(key));
    // The same checks, and the same limit as on disk: the encoded size.
    buf_.clear();
    if (Status st = encode_valid_record_state(state, buf_); !st) return st.context("record " + keys::describe(key));
    if (!state.siblings.empty()) {
      if (buf_.size() > max_record_bytes_) {
        return Status::too_large("record " + keys::describe(key) + " encodes to " + std::to_string(buf_.size()) +
                                 " bytes, over the limit of " + std::to_string(max_record_bytes_));
      }
    }
    auto it = d_.records.find(key);
    std::optional<RecordState> before;
    if (it != d_.records.end()) before = it->second;
    auto has_dot = [](const std::vector<Version>& siblings, const Dot& d) {
      return std::any_of(siblings.begin(), siblings.end(), [&](const Version& v) { return v.dot == d; });
    };
    for (const auto& v : state.siblings) {
      if (before && has_dot(before->siblings, v.dot)) continue;
      if (auto owner = d_.changes.find(v.dot); owner != d_.changes.end() && owner->second != key) {
        return Status::invalid("record " + keys::describe(key) + ": dot (" + std::to_string(v.dot.origin) + ", " +
                               std::to_string(v.dot.counter) + ") already belongs to record " +
                               keys::describe(owner->second));
      }
    }
    if (before) {
      for (const auto& v : before->siblings) {
        if (has_dot(state.siblings, v.dot)) continue;
        if (auto owner = d_.changes.find(v.dot); owner != d_.changes.end() && owner->second == key) {
          set_change(v.dot, std::nullopt);
        }
      }
    }
    for (const auto& v : state.siblings) {
      if (!before || !has_dot(before->siblings, v.dot)) set_change(v.dot, key);
    }
    undo_->push_back([key, before](MemoryStore::Data& d) {
      if (before) {
        d.records[key] = *before;
      } else {
        d.records.erase(key);
      }
    });
    if (state.siblings.empty()) {
      if (it != d_.records.end()) d_.records.erase(it);
    } else if (it != d_.records.end()) {
      it->second = state;
    } else {
      d_.records.emplace(key, state);
    }
    return Status::ok();
  }

  Status put_node_meta(const NodeMeta& meta) override {
    undo_->push_back([before = d_.meta](MemoryStore::Data& d) { d.meta = before; });
    d_.meta = meta;
    return Status::ok();
  }

  Result<std::uint64_t> append_conflict(const ConflictEntry& entry) override {
    const std::uint64_t seq = d_.conflicts.empty() ? 1 : d_.conflicts.rbegin()->first + 1;
    ConflictEntry stored = entry;
    stored.seq = seq;
    d_.conflicts.emplace(seq, std::move(stored));
    undo_->push_back([seq](MemoryStore::Data& d) { d.conflicts.erase(seq); });
    return seq;
  }

  Status put(Table table, std::string_view key, std::string_view value) override {
    SHOPSYNC_TRY(check_table_key(key));
    set_table(table, key, std::string(value));
    return Status::ok();
  }

  Status erase(Table table, std::string_view key) override {
    SHOPSYNC_TRY(check_table_key(key));
    set_table(table, key, std::nullopt);
    return Status::ok();
  }

 private:
  void set_change(const Dot& dot, std::optional<RecordKey> target) {
    std::optional<RecordKey> before;
    if (auto it = d_.changes.find(dot); it != d_.changes.end()) before = it->second;
    undo_->push_back([dot, before](MemoryStore::Data& d) {
      if (before) {
        d.changes[dot] = *before;
      } else {
        d.changes.erase(dot);
      }
    });
    if (target) {
      d_.changes[dot] = std::move(*target);
    } else {
      d_.changes.erase(dot);
    }
  }

  void set_table(Table table, std::string_view key, std::optional<std::string> value) {
    auto& t = d_.tables[static_cast<std::size_t>(table)];
    std::optional<std::string> before;
    if (auto it = t.find(key); it != t.end()) before = it->second;
    undo_->push_back([table, k = std::string(key), before](MemoryStore::Data& d) {
      auto& tt = d.tables[static_cast<std::size_t>(table)];
      if (before) {
        tt[k] = *before;
      } else {
        tt.erase(k);
      }
    });
    if (value) {
      t.insert_or_assign(std::string(key), std::move(*value));
    } else if (auto it = t.find(key); it != t.end()) {
      t.erase(it);
    }
  }

  MemoryStore::Data& d_;
  Undo* undo_;
  std::size_t max_record_bytes_;
  msgpack::sbuffer buf_{1024};
};

}  // namespace

Status MemoryStore::read(const std::function<Status(StoreReader&)>& body) {
  const auto active = BodyScope::active(this);
  if (active == BodyScope::Kind::write) {
    return Status::invalid("read() called inside a write() body of the same store: use the StoreWriter");
  }
  // A nested read on this thread already holds the shared lock.
  std::shared_lock lock(mutex_, std::defer_lock);
  if (!active) lock.lock();
  BodyScope scope(this, BodyScope::Kind::read);
  View view(data_, nullptr, max_record_bytes_);
  return body(view);
}

Status MemoryStore::write(const std::function<Status(StoreWriter&)>& body) {
  if (BodyScope::active(this)) {
    return Status::invalid("write() called inside a read() or write() body of the same store");
  }
  std::unique_lock lock(mutex_);
  BodyScope scope(this, BodyScope::Kind::write);
  Undo undo;
  Status st;
  try {
    View view(data_, &undo, max_record_bytes_);
    st = body(view);
  } catch (...) {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) (*it)(data_);
    throw;
  }
  if (!st) {
    // Roll back, newest change first.
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) (*it)(data_);
  }
  return st;
}

}  // namespace shopsync
