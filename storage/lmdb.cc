// The one file that includes <lmdb.h>.
#include "storage/lmdb.h"

#include <lmdb.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace shopsync::lmdb {

namespace {

MDB_val to_val(std::string_view s) {
  // LMDB never writes through mv_data of a key or of a value it is given.
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

std::string_view to_view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

Status translate(int rc, std::string_view step) {
  std::string m(step);
  m += ": ";
  m += ::mdb_strerror(rc);
  switch (rc) {
    case ENOSPC: return {Errc::disk_full, std::move(m)};
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE: return {Errc::not_shopsync, std::move(m)};
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND: return Status::corrupt(std::move(m));
    case MDB_NOTFOUND: return Status::not_found(std::move(m));
    case MDB_BAD_VALSIZE: return Status::invalid(std::move(m));
    default: return Status::io_error(std::move(m));
  }
}

}  // namespace

std::string_view library_version() {
  return ::mdb_version(nullptr, nullptr, nullptr);
}

// ---- Env ------------------------------------------------------------------

Result<Env> Env::open(const std::filesystem::path& dir, const EnvOptions& options) {
  std::error_code ec;
  if (options.read_only) {
    if (!std::filesystem::exists(dir / "data.mdb", ec)) {
      return Status::not_found("no store at " + dir.string() + " (data.mdb is missing)");
    }
  } else {
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::io_error("creating " + dir.string() + ": " + ec.message());
  }
  MDB_env* raw = nullptr;
  if (int rc = ::mdb_env_create(&raw); rc != 0) return translate(rc, "creating the LMDB environment");
  Env env(raw);  // closes it on every early return below
  if (int rc = ::mdb_env_set_maxdbs(raw, options.max_dbs); rc != 0) return translate(rc, "setting max dbs");
  if (int rc = ::mdb_env_set_maxreaders(raw, options.max_readers); rc != 0) {
    return translate(rc, "setting max readers");
  }
  if (int rc = ::mdb_env_set_mapsize(raw, options.map_size); rc != 0) return translate(rc, "setting the map size");
  // MDB_NOTLS: read transactions belong to the caller, not to a thread, so a
  // reader may start in one thread and end in another, and many may coexist.
  unsigned flags = MDB_NOTLS;
  if (options.read_only) flags |= MDB_RDONLY;
  if (!options.sync_each_commit) flags |= MDB_NOSYNC;
  if (int rc = ::mdb_env_open(raw, dir.c_str(), flags, 0640); rc != 0) {
    return translate(rc, "opening the LMDB environment at " + dir.string());
  }
  return env;
}

Status Env::sync() {
  if (int rc = ::mdb_env_sync(env_, 1); rc != 0) return translate(rc, "flushing the LMDB environment");
  return Status::ok();
}

Env& Env::operator=(Env&& other) noexcept {
  if (this != &other) {
    if (env_ != nullptr) ::mdb_env_close(env_);
    env_ = std::exchange(other.env_, nullptr);
  }
  return *this;
}

Env::~Env() {
  if (env_ != nullptr) ::mdb_env_close(env_);
}

Status Env::set_map_size(std::size_t bytes) {
  if (int rc = ::mdb_env_set_mapsize(env_, bytes); rc != 0) return translate(rc, "resizing the map");
  return Status::ok();
}

Result<int> Env::clear_stale_readers() {
  int dead = 0;
  if (int rc = ::mdb_reader_check(env_, &dead); rc != 0) return translate(rc, "clearing stale readers");
  return dead;
}

Result<EnvInfo> Env::info() const {
  MDB_envinfo ei{};
  MDB_stat st{};
  if (int rc = ::mdb_env_info(env_, &ei); rc != 0) return translate(rc, "reading environment info");
  if (int rc = ::mdb_env_stat(env_, &st); rc != 0) return translate(rc, "reading environment stat");
  EnvInfo out;
  out.map_size = ei.me_mapsize;
  out.page_size = st.ms_psize;
  out.used_bytes = (ei.me_last_pgno + 1) * st.ms_psize;
  out.max_readers = ei.me_maxreaders;
  out.readers_in_use = ei.me_numreaders;
  return out;
}

std::size_t Env::max_key_size() const {
  return static_cast<std::size_t>(::mdb_env_get_maxkeysize(env_));
}

// ---- Txn ------------------------------------------------------------------

Result<Txn> Txn::begin(Env& env, TxnMode mode, bool* map_resized) {
  if (map_resized != nullptr) *map_resized = false;
  MDB_txn* raw = nullptr;
  const unsigned flags = mode == TxnMode::read ? MDB_RDONLY : 0;
  if (int rc = ::mdb_txn_begin(env.handle(), nullptr, flags, &raw); rc != 0) {
    if (rc == MDB_MAP_RESIZED && map_resized != nullptr) *map_resized = true;
    return translate(rc, mode == TxnMode::read ? "beginning a read transaction" : "beginning a write transaction");
  }
  Txn txn;
  txn.txn_ = raw;
  return txn;
}

Txn::Txn(Txn&& other) noexcept
    : txn_(std::exchange(other.txn_, nullptr)), map_full_(std::exchange(other.map_full_, false)) {}

Txn& Txn::operator=(Txn&& other) noexcept {
  if (this != &other) {
    abort();
    txn_ = std::exchange(other.txn_, nullptr);
    map_full_ = std::exchange(other.map_full_, false);
  }
  return *this;
}

Txn::~Txn() {
  abort();
}

Status Txn::check(int rc, std::string_view step) {
  if (rc == 0) return Status::ok();
  if (rc == MDB_MAP_FULL) map_full_ = true;
  return translate(rc, step);
}

Status Txn::commit() {
  if (txn_ == nullptr) return Status::io_error("committing: no active transaction");
  // mdb_txn_commit frees the transaction whatever it returns.
  const int rc = ::mdb_txn_commit(std::exchange(txn_, nullptr));
  return check(rc, "committing");
}

void Txn::abort() {
  if (txn_ != nullptr) ::mdb_txn_abort(std::exchange(txn_, nullptr));
}

Result<Dbi> Txn::open_db(const char* name, bool create) {
  MDB_dbi dbi = 0;
  const int rc = ::mdb_dbi_open(txn_, name, create ? MDB_CREATE : 0, &dbi);
  if (rc == MDB_NOTFOUND) return Status::not_found(std::string("database '") + name + "' does not exist");
  if (rc != 0) return check(rc, std::string("opening database '") + name + "'");
  return Dbi{dbi};
}

Result<std::optional<std::string_view>> Txn::get(Dbi db, std::string_view key) {
  MDB_val k = to_val(key);
  MDB_val v{};
  const int rc = ::mdb_get(txn_, db.handle, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<std::string_view>();
  if (rc != 0) return check(rc, "reading");
  return std::optional<std::string_view>(to_view(v));
}

Status Txn::put(Dbi db, std::string_view key, std::string_view value) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  return check(::mdb_put(txn_, db.handle, &k, &v, 0), "writing");
}

Result<char*> Txn::reserve(Dbi db, std::string_view key, std::size_t size) {
  MDB_val k = to_val(key);
  MDB_val v{size, nullptr};
  if (int rc = ::mdb_put(txn_, db.handle, &k, &v, MDB_RESERVE); rc != 0) return check(rc, "writing");
  return static_cast<char*>(v.mv_data);
}

Result<bool> Txn::erase(Dbi db, std::string_view key) {
  MDB_val k = to_val(key);
  const int rc = ::mdb_del(txn_, db.handle, &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  if (rc != 0) return check(rc, "deleting");
  return true;
}

Result<DbStat> Txn::stat(Dbi db) {
  MDB_stat st{};
  if (int rc = ::mdb_stat(txn_, db.handle, &st); rc != 0) return check(rc, "reading database stat");
  DbStat out;
  out.entries = st.ms_entries;
  out.depth = st.ms_depth;
  out.pages = st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
  return out;
}

Status Txn::clear(Dbi db) {
  return check(::mdb_drop(txn_, db.handle, 0), "clearing a database");
}

// ---- Cursor ---------------------------------------------------------------

Result<Cursor> Cursor::open(Txn& txn, Dbi db) {
  MDB_cursor* raw = nullptr;
  if (int rc = ::mdb_cursor_open(txn.txn_, db.handle, &raw); rc != 0) return txn.check(rc, "opening a cursor");
  Cursor c;
  c.cursor_ = raw;
  c.txn_ = &txn;
  return c;
}

Cursor& Cursor::operator=(Cursor&& other) noexcept {
  if (this != &other) {
    if (cursor_ != nullptr) ::mdb_cursor_close(cursor_);
    cursor_ = std::exchange(other.cursor_, nullptr);
    txn_ = std::exchange(other.txn_, nullptr);
  }
  return *this;
}

Cursor::~Cursor() {
  // A cursor of a write Txn is freed by LMDB when the Txn ends; closing it
  // first is also allowed, and required for read Txns. Callers keep the order
  // (cursor before Txn), as documented.
  if (cursor_ != nullptr) ::mdb_cursor_close(cursor_);
}

Result<std::optional<Entry>> Cursor::move(int op, std::string_view key, std::string_view step) {
  MDB_val k = to_val(key);
  MDB_val v{};
  const int rc = ::mdb_cursor_get(cursor_, &k, &v, static_cast<MDB_cursor_op>(op));
  if (rc == MDB_NOTFOUND) return std::optional<Entry>();
  if (rc != 0) return txn_->check(rc, step);
  return std::optional<Entry>(Entry{to_view(k), to_view(v)});
}

Result<std::optional<Entry>> Cursor::find(std::string_view key) { return move(MDB_SET_KEY, key, "looking up"); }
Result<std::optional<Entry>> Cursor::seek(std::string_view key) { return move(MDB_SET_RANGE, key, "seeking"); }
Result<std::optional<Entry>> Cursor::first() { return move(MDB_FIRST, {}, "reading the first entry"); }
Result<std::optional<Entry>> Cursor::last() { return move(MDB_LAST, {}, "reading the last entry"); }
Result<std::optional<Entry>> Cursor::next() { return move(MDB_NEXT, {}, "reading the next entry"); }
Result<std::optional<Entry>> Cursor::prev() { return move(MDB_PREV, {}, "reading the previous entry"); }

Status Cursor::put(std::string_view key, std::string_view value) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  return txn_->check(::mdb_cursor_put(cursor_, &k, &v, 0), "writing");
}

Result<std::optional<std::string_view>> Cursor::put_new(std::string_view key, std::string_view value) {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  const int rc = ::mdb_cursor_put(cursor_, &k, &v, MDB_NOOVERWRITE);
  if (rc == MDB_KEYEXIST) return std::optional<std::string_view>(to_view(v));  // LMDB returns the existing value
  if (rc != 0) return txn_->check(rc, "writing");
  return std::optional<std::string_view>();
}

Result<char*> Cursor::reserve(std::string_view key, std::size_t size) {
  MDB_val k = to_val(key);
  MDB_val v{size, nullptr};
  if (int rc = ::mdb_cursor_put(cursor_, &k, &v, MDB_RESERVE); rc != 0) return txn_->check(rc, "writing");
  return static_cast<char*>(v.mv_data);
}

Status Cursor::erase_current() {
  return txn_->check(::mdb_cursor_del(cursor_, 0), "deleting");
}

}  // namespace shopsync::lmdb
