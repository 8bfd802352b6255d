// Move-only RAII wrappers over the LMDB C API. storage/lmdb.cc is the only file
// of the project that includes <lmdb.h>; every MDB_* return code is turned
// into a shopsync::Status there:
//   MDB_MAP_FULL          -> io_error, and the transaction remembers it
//                            (Txn::map_full()), so the store can grow and replay
//   MDB_MAP_RESIZED       -> io_error, reported through begin()'s out flag
//   ENOSPC                -> disk_full
//   MDB_INVALID, MDB_VERSION_MISMATCH, MDB_INCOMPATIBLE -> not_shopsync
//   MDB_CORRUPTED, MDB_PAGE_NOTFOUND -> corrupt
//   anything else         -> io_error with LMDB's own text
//
// Lifetimes (as in LMDB): a Txn must end before its Env; a Cursor must be
// destroyed before its Txn ends (commit or abort) and a Txn must not be moved
// while it has cursors. Byte views returned by get()/cursor moves point into the memory map and
// stay valid until the transaction ends or (write txn) the next change.
//
// Thread-safety: an Env may be shared between threads. Environments are opened
// with MDB_NOTLS, so a read Txn is not tied to the thread that began it, but
// one Txn or Cursor must be used by one thread at a time. One write Txn per
// Env at a time (LMDB serialises them). set_map_size() REQUIRES that no Txn of
// this process is active (the caller excludes them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <utility>

#include "core/status.h"

// LMDB's handle types, declared here so that callers need not see <lmdb.h>.
struct MDB_env;
struct MDB_txn;
struct MDB_cursor;

namespace shopsync::lmdb {

struct EnvOptions {
  std::size_t map_size = 64u << 20;  // grown later by set_map_size()
  unsigned max_dbs = 16;             // named databases
  unsigned max_readers = 126;        // LMDB's default
  bool read_only = false;            // MDB_RDONLY: no write Txn, dir must exist
  // false: MDB_NOSYNC, commits reach the OS but are not fsynced (call
  // Env::sync() to flush). A crash of the process loses nothing committed; a
  // crash of the OS may undo the last transactions.
  bool sync_each_commit = true;
};

struct EnvInfo {
  std::size_t map_size = 0;
  std::size_t page_size = 0;
  std::size_t used_bytes = 0;  // (last page used + 1) * page size
  unsigned max_readers = 0;
  unsigned readers_in_use = 0;
};

struct DbStat {
  std::size_t entries = 0;
  std::size_t depth = 0;
  std::size_t pages = 0;  // branch + leaf + overflow
};

// A named database handle. Valid for the life of its Env once the Txn that
// opened it committed.
struct Dbi {
  unsigned handle = 0;
};

enum class TxnMode { read, write };

class Env {
 public:
  // Opens (or, unless read_only, creates) the environment in directory `dir`:
  // data.mdb and lock.mdb. Creates `dir` when missing and not read_only.
  static Result<Env> open(const std::filesystem::path& dir, const EnvOptions& options);

  Env() = default;
  Env(Env&& other) noexcept : env_(std::exchange(other.env_, nullptr)) {}
  Env& operator=(Env&& other) noexcept;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  ~Env();

  // REQUIRES: no transaction of this process active. 0 adopts the size another
  // process set (after MDB_MAP_RESIZED).
  Status set_map_size(std::size_t bytes);
  // Releases reader slots of processes that died; returns how many.
  Result<int> clear_stale_readers();
  Result<EnvInfo> info() const;
  // Flushes committed transactions to disk (mdb_env_sync, forced).
  Status sync();
  // LMDB's largest key (511 bytes by default).
  std::size_t max_key_size() const;

  bool is_open() const { return env_ != nullptr; }
  MDB_env* handle() const { return env_; }

 private:
  explicit Env(MDB_env* env) : env_(env) {}
  MDB_env* env_ = nullptr;
};

class Txn {
 public:
  // Begins a transaction. When it fails because another process grew the map,
  // *map_resized is set (if given): call env.set_map_size(0) and begin again.
  static Result<Txn> begin(Env& env, TxnMode mode, bool* map_resized = nullptr);

  Txn() = default;
  Txn(Txn&& other) noexcept;
  Txn& operator=(Txn&& other) noexcept;
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;
  ~Txn();  // aborts when still active

  // Commits (durably, unless the Env was opened otherwise) and ends the Txn,
  // whatever the outcome.
  Status commit();
  void abort();
  bool active() const { return txn_ != nullptr; }
  // True once any call in this Txn (commit included) failed with MDB_MAP_FULL.
  bool map_full() const { return map_full_; }

  // Opens a named database; with `create`, creates it when missing (write Txn
  // only). not_found when missing and !create.
  Result<Dbi> open_db(const char* name, bool create);

  // nullopt when the key is absent.
  Result<std::optional<std::string_view>> get(Dbi db, std::string_view key);
  Status put(Dbi db, std::string_view key, std::string_view value);
  // Room for a value of `size` bytes under `key`, to be filled before the next
  // change in this Txn (MDB_RESERVE: saves a copy).
  Result<char*> reserve(Dbi db, std::string_view key, std::size_t size);
  // False when the key was absent.
  Result<bool> erase(Dbi db, std::string_view key);
  Result<DbStat> stat(Dbi db);
  // Removes every entry of `db` (keeps the database).
  Status clear(Dbi db);

  MDB_txn* handle() const { return txn_; }

 private:
  friend class Cursor;
  Status check(int rc, std::string_view step);  // notes MDB_MAP_FULL
  MDB_txn* txn_ = nullptr;
  bool map_full_ = false;
};

struct Entry {
  std::string_view key;
  std::string_view value;
};

class Cursor {
 public:
  static Result<Cursor> open(Txn& txn, Dbi db);

  Cursor() = default;
  Cursor(Cursor&& other) noexcept
      : cursor_(std::exchange(other.cursor_, nullptr)), txn_(std::exchange(other.txn_, nullptr)) {}
  Cursor& operator=(Cursor&& other) noexcept;
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;
  ~Cursor();

  // Each move returns the entry it lands on, or nullopt past either end.
  Result<std::optional<Entry>> find(std::string_view key);  // exactly `key`
  Result<std::optional<Entry>> seek(std::string_view key);  // first key >= `key`
  Result<std::optional<Entry>> first();
  Result<std::optional<Entry>> last();
  Result<std::optional<Entry>> next();
  Result<std::optional<Entry>> prev();

  // Puts key/value and leaves the cursor on it.
  Status put(std::string_view key, std::string_view value);
  // Puts key/value only if the key is absent (MDB_NOOVERWRITE). Returns
  // nullopt when it was put, or the value already there (nothing changed).
  Result<std::optional<std::string_view>> put_new(std::string_view key, std::string_view value);
  // Like Txn::reserve, through the cursor (no second tree descent when the
  // cursor already sits on `key`).
  Result<char*> reserve(std::string_view key, std::size_t size);
  // Deletes the entry under the cursor.
  Status erase_current();

 private:
  Result<std::optional<Entry>> move(int op, std::string_view key, std::string_view step);
  MDB_cursor* cursor_ = nullptr;
  Txn* txn_ = nullptr;  // to note MDB_MAP_FULL on the owning Txn
};

// LMDB's version string, e.g. "LMDB 0.9.24: (July 24, 2019)".
std::string_view library_version();

}  // namespace shopsync::lmdb
