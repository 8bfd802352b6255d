#include "app/record_counts.h"

#include <algorithm>

#include "storage/packed_record.h"

namespace shopsync::app {

namespace {

// A StoreWriter that passes everything to the real one and notes, for each
// record written, what it counted before and what it counts after.
//
// What a record counted before is taken from the read that precedes its write
// when there is one (the replica reads every record it writes over, in the
// same transaction): the last record() is remembered, as its contribution to
// the counts, until anything is written. Only a write that was not preceded by
// a read of its record costs a read of its own.
class CountingWriter final : public StoreWriter {
 public:
  CountingWriter(StoreWriter& w, const CountingStore& owner, RecordCounts& delta)
      : w_(w), owner_(owner), delta_(delta) {}

  Result<std::optional<RecordState>> record(const RecordKey& key) override {
    auto state = w_.record(key);
    last_read_.reset();
    if (state) {
      last_read_.emplace(key, CollectionCounts{});
      if (state->has_value()) last_read_->second = owner_.contribution(key, **state);
    } else if (state.status().code() == Errc::corrupt) {
      last_read_.emplace(key, CollectionCounts{});  // never counted (scans skip it)
    }
    return state;
  }
  Result<std::vector<Dot>> stored_dots(const RecordKey& key) override { return w_.stored_dots(key); }
  Status for_each_record(std::string_view collection, std::string_view after_id,
                         const std::function<Scan(const RecordKey&, const RecordState&)>& visit) override {
    return w_.for_each_record(collection, after_id, visit);
  }
  Status for_each_record_heads(std::string_view collection, std::string_view after_id,
                               const std::function<Scan(const RecordKey&, const RecordState&)>& visit) override {
    return w_.for_each_record_heads(collection, after_id, visit);
  }
  Result<std::vector<std::string>> collections() override { return w_.collections(); }
  Status for_each_change(NodeId origin, std::uint64_t after,
                         const std::function<Scan(std::uint64_t, const RecordKey&)>& visit) override {
    return w_.for_each_change(origin, after, visit);
  }
  Result<std::uint64_t> changes_run_from(NodeId origin, std::uint64_t after) override {
    return w_.changes_run_from(origin, after);
  }
  Result<std::optional<NodeMeta>> node_meta() override { return w_.node_meta(); }
  Status for_each_conflict(std::uint64_t after, const std::function<Scan(const ConflictEntry&)>& visit) override {
    return w_.for_each_conflict(after, visit);
  }
  Result<std::optional<std::string>> get(Table table, std::string_view key) override { return w_.get(table, key); }
  Status for_each(Table table, const std::function<Scan(std::string_view, std::string_view)>& visit) override {
    return w_.for_each(table, visit);
  }

  Result<std::optional<PackedRecord>> packed_record(const RecordKey& key) override { return w_.packed_record(key); }

  Status put_record(const RecordKey& key, const RecordState& state) override {
    return counted(key, state, [&] { return w_.put_record(key, state); });
  }
  // One sibling counts by its head alone; more take the strategy, and with
  // it the fields.
  Status put_packed_record(const RecordKey& key, const PackedRecord& record) override {
    if (record.heads().siblings.size() > 1) return put_record(key, record.decode());
    return counted(key, record.heads(), [&] { return w_.put_packed_record(key, record); });
  }
  Status put_node_meta(const NodeMeta& meta) override { return w_.put_node_meta(meta); }
  Result<std::uint64_t> append_conflict(const ConflictEntry& entry) override { return w_.append_conflict(entry); }
  Status put(Table table, std::string_view key, std::string_view value) override {
    last_read_.reset();  // a raw write may change a record behind our back
    return w_.put(table, key, value);
  }
  Status erase(Table table, std::string_view key) override {
    last_read_.reset();
    return w_.erase(table, key);
  }

 private:
  // Runs `write`, which stores `state` (or a state that counts the same) for
  // `key`, and notes the change of the counts. A record that does not decode
  // was never counted (scans skip it): its replacement only adds.
  template <class Write>
  Status counted(const RecordKey& key, const RecordState& state, Write&& write) {
    CollectionCounts before;
    if (last_read_ && last_read_->first == key) {
      before = last_read_->second;
    } else {
      auto read = w_.record(key);
      if (!read && read.status().code() != Errc::corrupt) return read.status();
      if (read && read->has_value()) before = owner_.contribution(key, **read);
    }
    last_read_.reset();
    SHOPSYNC_TRY(write());
    const CollectionCounts after = owner_.contribution(key, state);
    auto& d = delta_[key.collection];
    d.stored += after.stored - before.stored;
    d.live += after.live - before.live;
    d.conflicted += after.conflicted - before.conflicted;
    return Status::ok();
  }

  StoreWriter& w_;
  const CountingStore& owner_;
  RecordCounts& delta_;
  // The last record read and what it counts, while nothing has been written since.
  std::optional<std::pair<RecordKey, CollectionCounts>> last_read_;
};

}  // namespace

bool CountingStore::is_live(const RecordKey& key, const RecordState& state) const {
  // One sibling is the visible version under every strategy: no need to ask.
  if (state.siblings.size() == 1) return !state.siblings.front().deleted;
  if (is_live_) return is_live_(key, state);
  return std::any_of(state.siblings.begin(), state.siblings.end(), [](const Version& v) { return !v.deleted; });
}

CollectionCounts CountingStore::contribution(const RecordKey& key, const RecordState& state) const {
  if (state.siblings.empty()) return {};  // erased
  return {1, is_live(key, state) ? 1 : 0, state.siblings.size() > 1 ? 1 : 0};
}

Result<RecordCounts> count_records(StoreReader& reader, const CountingStore::IsLive& is_live) {
  RecordCounts counts;
  auto names = reader.collections();
  if (!names) return names.status();
  for (const auto& name : *names) {
    auto& c = counts[name];
    // A record of one sibling is live when that sibling is not a delete,
    // which its heads say; of several, the strategy decides on the whole
    // record (read only for those).
    Status failure;
    SHOPSYNC_TRY(reader.for_each_record_heads(name, "", [&](const RecordKey& key, const RecordState& heads) {
      ++c.stored;
      if (heads.siblings.size() == 1) {
        c.live += heads.siblings.front().deleted ? 0 : 1;
        return Scan::next;
      }
      ++c.conflicted;
      auto whole = reader.record(key);  // reads: the scan showed it, in the same snapshot
      if (!whole) {
        failure = whole.status();
        return Scan::stop;
      }
      c.live += whole->has_value() && is_live(key, **whole) ? 1 : 0;
      return Scan::next;
    }));
    SHOPSYNC_TRY(failure);
  }
  return counts;
}

Status CountingStore::recount() {
  RecordCounts counted;
  SHOPSYNC_TRY(inner_.read([&](StoreReader& r) -> Status {
    auto counts = count_records(r, [this](const RecordKey& key, const RecordState& state) { return is_live(key, state); });
    if (!counts) return counts.status();
    counted = std::move(*counts);
    return Status::ok();
  }));
  std::lock_guard lock(mutex_);
  counts_ = std::move(counted);
  return Status::ok();
}

RecordCounts CountingStore::counts() const {
  std::lock_guard lock(mutex_);
  RecordCounts out;
  for (const auto& [name, c] : counts_) {
    if (c.stored > 0) out.emplace(name, c);
  }
  return out;
}

Status CountingStore::write(const std::function<Status(StoreWriter&)>& body) {
  RecordCounts delta;
  Status s = inner_.write([&](StoreWriter& w) -> Status {
    delta.clear();  // the body may run again (the map grew)
    CountingWriter counting(w, *this, delta);
    return body(counting);
  });
  if (!s) return s;
  std::lock_guard lock(mutex_);
  for (const auto& [name, d] : delta) {
    auto& c = counts_[name];
    c.stored += d.stored;
    c.live += d.live;
    c.conflicted += d.conflicted;
  }
  return s;
}

}  // namespace shopsync::app
