// A Store kept in memory, with the semantics of LmdbStore (same validation,
// same limits, same errors, same change-index rules), for the deterministic
// simulator and for tests that need speed rather than files.
//
// Transactions: write() applies changes in place and keeps an undo log; a body
// that returns an error is rolled back entirely. read() sees a consistent
// snapshot: readers share a lock that write() holds exclusively while its body
// runs, so a reader never sees a half-applied write. (LMDB readers do not wait
// for the writer; here they do. Results are the same, timing is not.)
//
// Thread-safety: as Store. Re-entry is refused as in LmdbStore: write() inside
// any body of the same store, or read() inside a write() body, returns
// invalid_argument (storage/body_scope.h).
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>

#include "storage/store.h"

namespace shopsync {

class MemoryStore final : public Store {
 public:
  explicit MemoryStore(std::size_t max_record_bytes = kDefaultMaxRecordBytes) : max_record_bytes_(max_record_bytes) {}

  Status read(const std::function<Status(StoreReader&)>& body) override;
  Status write(const std::function<Status(StoreWriter&)>& body) override;

  // What the store holds, for tests (the same as committed data).
  struct Data {
    std::map<RecordKey, RecordState> records;
    std::map<Dot, RecordKey> changes;
    std::optional<NodeMeta> meta;
    std::map<std::uint64_t, ConflictEntry> conflicts;
    std::array<std::map<std::string, std::string, std::less<>>, 3> tables;  // by Table
  };

 private:
  std::size_t max_record_bytes_;
  Data data_;
  std::shared_mutex mutex_;  // shared: a read() body runs; unique: a write() body runs
};

}  // namespace shopsync
