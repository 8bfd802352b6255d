// Live and conflicted records per collection, kept current on every write so
// that counting (status, GET /v1, /metrics: only through app/record_service.h)
// costs O(collections) instead of a scan of every record.
//
// A CountingStore stands between the Replica and the real store: everything
// passes through; each put_record compares the record's state before (as the
// read that precedes the write found it, or read for the purpose) and after (live = its visible version is not a delete, which depends on the
// collection's strategy, hence the IsLive function: Replica::make_visible).
// The counts change when the write transaction commits, never for a body
// that is aborted or run again. recount() scans once (at start).
//
// Thread-safety: counts() from any thread; writes from one thread, as for
// any Store.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "storage/store.h"

namespace shopsync::app {

struct CollectionCounts {
  std::int64_t stored = 0;      // records stored, tombstones included
  std::int64_t live = 0;        // records whose visible version is not a delete
  std::int64_t conflicted = 0;  // records holding more than one sibling
  bool operator==(const CollectionCounts&) const = default;
};
using RecordCounts = std::map<std::string, CollectionCounts, std::less<>>;

class CountingStore final : public Store {
 public:
  using IsLive = std::function<bool(const RecordKey&, const RecordState&)>;

  // A record of one sibling is live when that sibling is not a delete; of
  // several, as `is_live` says (until set_is_live(): when one is not a delete).
  explicit CountingStore(Store& inner) : inner_(inner) {}

  void set_is_live(IsLive is_live) { is_live_ = std::move(is_live); }
  // Counts every record once (one read transaction).
  Status recount();
  RecordCounts counts() const;  // collections that hold records

  Status read(const std::function<Status(StoreReader&)>& body) override { return inner_.read(body); }
  Status write(const std::function<Status(StoreWriter&)>& body) override;

  bool is_live(const RecordKey& key, const RecordState& state) const;
  // What one record counts for in its collection (nothing once erased).
  CollectionCounts contribution(const RecordKey& key, const RecordState& state) const;

 private:
  Store& inner_;
  IsLive is_live_;
  mutable std::mutex mutex_;
  RecordCounts counts_;
};

// Every record counted by a scan: what CountingStore keeps, the slow way.
Result<RecordCounts> count_records(StoreReader& reader, const CountingStore::IsLive& is_live);

}  // namespace shopsync::app
