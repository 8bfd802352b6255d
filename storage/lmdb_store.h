// The real Store: one LMDB environment in one directory.
//
// Layout (docs/storage-format.md, schema version kSchemaVersion): named
// databases records, changes, meta, peers, conflicts, trusted_keys, settings,
// all opened in one start-up transaction.
//
// Guarantees:
//   - write() is one LMDB write transaction, committed durably (fsync) before
//     it returns ok: a kill -9 at any instant loses nothing committed.
//   - When the map is full the transaction is aborted, the map grows (doubling,
//     up to max_map_size) and `body` runs again; nothing committed is lost.
//   - read() is a snapshot; readers in other threads and processes (e.g. the
//     inspector with read_only) work while a writer writes.
//   - Stale reader slots of dead processes are cleared at open.
//   - A store written by a newer schema: newer_schema. An LMDB environment that
//     is not a shopsync store: not_shopsync. A stored value that does not
//     decode: corrupt, naming its key; scans skip such a record and note it
//     in unreadable(), and a write replaces it. Nothing crashes.
//
// Thread-safety: read() from any thread; write() from one thread at a time
// (serialised inside anyway). write() inside any body of the same store, and
// read() inside a write() body, return invalid_argument (the map cannot grow
// while a body of this thread holds a transaction; and a nested read would not
// see the body's own changes: use the StoreWriter). LMDB forbids opening the same directory twice in one process:
// open each store directory once per process.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "storage/full_disk.h"
#include "storage/lmdb.h"
#include "storage/store.h"
#include "storage/unreadable_records.h"

namespace shopsync {

// The on-disk schema this build writes and the newest it can read. 2: records
// are sealed with a checksum (storage/sealed_record.h); a store of schema 1
// is marked 2 when opened for writing.
inline constexpr std::uint32_t kSchemaVersion = 2;

struct StoreOptions {
  // Map size of a new store (an existing one keeps its own, if larger).
  std::size_t initial_map_size = 64u << 20;
  // The map never grows beyond this; writes that need more fail with disk_full.
  std::size_t max_map_size = std::size_t{1} << 40;
  // Largest encoded record state put_record accepts (too_large beyond).
  std::size_t max_record_bytes = kDefaultMaxRecordBytes;
  // Open for reading only (the inspector, while the daemon runs). write()
  // then fails with invalid_argument. The store must exist.
  bool read_only = false;
  // false: write() commits without fsync (LMDB's MDB_NOSYNC): what is committed
  // survives a crash or kill of the process, and flush() (the node calls it
  // every second) puts it on disk; an OS crash or power cut may undo the
  // transactions since the last flush. true: every commit is fsynced.
  bool sync_each_commit = true;
};

struct TableStats {
  std::string name;
  std::size_t entries = 0;
  std::size_t pages = 0;
};

struct StoreStats {
  std::size_t map_size = 0;      // the map now: it grows on demand...
  std::size_t max_map_size = 0;  // ...up to this
  std::size_t used_bytes = 0;
  std::size_t page_size = 0;
  unsigned readers_in_use = 0;
  unsigned max_readers = 0;
  std::uint32_t schema_version = 0;
  std::vector<TableStats> tables;  // in the order of the format document
};

class LmdbStore final : public Store {
 public:
  static Result<std::unique_ptr<LmdbStore>> open(const std::filesystem::path& dir, StoreOptions options = {});
  ~LmdbStore() override;

  Status read(const std::function<Status(StoreReader&)>& body) override;
  Status write(const std::function<Status(StoreWriter&)>& body) override;

  Result<StoreStats> stats();
  // Flushes committed transactions to disk (a no-op cost when sync_each_commit).
  Status flush();
  // How many write() calls this process made: a caller that flushes on a
  // timer (the node) need not wake up to flush when none came since.
  std::uint64_t writes() const { return writes_.load(); }
  const std::filesystem::path& dir() const { return dir_; }
  const StoreOptions& options() const { return options_; }
  // How many times this process grew the map (for tests and the inspector).
  std::uint64_t map_growths() const { return growths_; }
  // Reader slots of dead processes released at open (worth a log line).
  int stale_readers_cleared() const { return stale_readers_cleared_; }
  // Records found not to decode by this process's reads (skipped by scans).
  UnreadableRecords& unreadable() { return unreadable_; }
  // Writes refused for a full disk, and whether the disk is full now.
  FullDiskState full_disk() const { return full_disk_.state(); }

  // The handles of the named databases (for the format's own tools).
  struct Tables {
    lmdb::Dbi records, changes, meta, peers, conflicts, trusted_keys, settings;
  };

 private:
  Status write_locked(const std::function<Status(StoreWriter&)>& body);  // REQUIRES: write_mutex_ held
  LmdbStore(std::filesystem::path dir, StoreOptions options, lmdb::Env env, Tables tables);
  Status grow();
  Status adopt_new_map_size();

  std::filesystem::path dir_;
  StoreOptions options_;
  lmdb::Env env_;
  Tables tables_;
  std::mutex write_mutex_;          // one write() at a time
  std::shared_mutex map_mutex_;     // shared: a transaction is live; unique: resizing
  std::uint64_t growths_ = 0;
  std::atomic<std::uint64_t> writes_{0};
  int stale_readers_cleared_ = 0;
  UnreadableRecords unreadable_;
  FullDiskWatch full_disk_;
};

}  // namespace shopsync
