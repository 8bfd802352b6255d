#include "storage/lmdb_store.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "storage/body_scope.h"
#include "storage/key_codec.h"
#include "storage/packed_record.h"
#include "storage/record_codec.h"
#include "storage/sealed_record.h"

namespace shopsync {

namespace {

constexpr std::string_view kMagicKey = "magic";
constexpr std::string_view kMagic = "shopsync";
constexpr std::string_view kSchemaKey = "schema_version";
constexpr std::string_view kNodeMetaKey = "node";

struct TableName {
  const char* name;
  lmdb::Dbi LmdbStore::Tables::*member;
};

constexpr TableName kTables[] = {
    {"records", &LmdbStore::Tables::records},     {"changes", &LmdbStore::Tables::changes},
    {"meta", &LmdbStore::Tables::meta},           {"peers", &LmdbStore::Tables::peers},
    {"conflicts", &LmdbStore::Tables::conflicts}, {"trusted_keys", &LmdbStore::Tables::trusted_keys},
    {"settings", &LmdbStore::Tables::settings},
};

Status corrupt_record(std::string_view key_bytes, const Status& why) {
  RecordKey key;
  std::string name = keys::split_record(key_bytes, key) ? keys::describe(key) : std::string(key_bytes);
  return Status::corrupt("record " + name + ": " + why.message());
}

// One transaction seen as a StoreWriter (or, for read(), as a StoreReader:
// the writing methods are then unreachable).
class TxnView final : public StoreWriter {
 public:
  TxnView(lmdb::Txn& txn, const LmdbStore::Tables& t, const lmdb::Env& env, std::size_t max_record_bytes,
          UnreadableRecords& unreadable)
      : txn_(txn), t_(t), max_key_(env.max_key_size()), max_record_bytes_(max_record_bytes), unreadable_(unreadable) {}

  // Cursors must close before the transaction ends.
  void close_cursors() {
    records_cursor_ = lmdb::Cursor();
    changes_cursor_ = lmdb::Cursor();
    cursors_open_ = false;
    wrote();
  }

  Result<std::optional<RecordState>> record(const RecordKey& key) override {
    SHOPSYNC_TRY(validate_key(key));
    keys::record(key_buf_, key.collection, key.id);
    auto got = look_up();
    if (!got) return got.status().context("reading record " + keys::describe(key));
    if (!got->has_value()) return std::optional<RecordState>();
    auto stored = open_stored_record(**got);
    if (!stored) return unreadable(key, **got, stored.status());
    auto state = decode_record_state(stored->encoding, limits());
    if (!state) return unreadable(key, **got, state.status());
    return std::optional<RecordState>(std::move(state).value());
  }

  Result<std::vector<Dot>> stored_dots(const RecordKey& key) override {
    SHOPSYNC_TRY(validate_key(key));
    keys::record(key_buf_, key.collection, key.id);
    auto got = look_up();
    if (!got) return got.status().context("reading record " + keys::describe(key));
    std::vector<Dot> dots;
    if (got->has_value() && !decode_sibling_dots(stored_encoding(**got), dots)) dots.clear();
    return dots;
  }

  Status for_each_record(std::string_view collection, std::string_view after_id,
                         const std::function<Scan(const RecordKey&, const RecordState&)>& visit) override {
    return scan_records(collection, after_id, visit, [&](const StoredRecord& stored, RecordState& state) {
      auto decoded = decode_record_state(stored.encoding, limits());
      if (!decoded) return decoded.status();
      state = std::move(decoded).value();
      return Status::ok();
    });
  }

  // A sealed record's heads are read as decode_sibling_dots reads the dots
  // (no allocation per field): its fields were checked before it was sealed.
  // A record stored before seals is checked in full, as record() would.
  Status for_each_record_heads(std::string_view collection, std::string_view after_id,
                               const std::function<Scan(const RecordKey&, const RecordState&)>& visit) override {
    return scan_records(collection, after_id, visit, [&](const StoredRecord& stored, RecordState& heads) {
      if (stored.sealed) return decode_record_heads(stored.encoding, heads);
      bool plain = false;
      return scan_record_state(stored.encoding, heads, plain, limits());
    });
  }

  Result<std::vector<std::string>> collections() override {
    auto cursor = lmdb::Cursor::open(txn_, t_.records);
    if (!cursor) return cursor.status();
    std::vector<std::string> out;
    auto at = cursor->first();
    while (at && at->has_value()) {
      const std::string_view k = (*at)->key;
      const auto zero = k.find('\0');
      if (zero == std::string_view::npos) return corrupt_record(k, Status::corrupt("key without a 0 byte"));
      out.emplace_back(k.substr(0, zero));
      // Jump past every key of this collection: "name\1" sorts after "name\0...".
      std::string next = out.back();
      next.push_back('\x01');
      at = cursor->seek(next);
    }
    if (!at) return at.status().context("listing collections");
    return out;
  }

  Status for_each_change(NodeId origin, std::uint64_t after,
                         const std::function<Scan(std::uint64_t, const RecordKey&)>& visit) override {
    if (after == std::numeric_limits<std::uint64_t>::max()) return Status::ok();
    auto cursor = lmdb::Cursor::open(txn_, t_.changes);
    if (!cursor) return cursor.status();
    const auto start = keys::change(origin, after + 1);
    RecordKey key;
    auto at = cursor->seek(keys::view(start));
    for (; at && at->has_value(); at = cursor->next()) {
      const lmdb::Entry e = **at;
      if (e.key.size() != 16) return Status::corrupt("change index: key of " + std::to_string(e.key.size()) + " bytes");
      if (keys::get_be64(e.key.data()) != origin) break;
      const std::uint64_t counter = keys::get_be64(e.key.data() + 8);
      if (!keys::split_record(e.value, key)) {
        return Status::corrupt("change index: entry (" + std::to_string(origin) + ", " + std::to_string(counter) +
                               ") does not name a record");
      }
      if (visit(counter, key) == Scan::stop) return Status::ok();
    }
    return at.status().context("scanning the change index");
  }

  // The keys alone: no record named by an entry is read.
  Result<std::uint64_t> changes_run_from(NodeId origin, std::uint64_t after) override {
    std::uint64_t last = after;
    if (after == std::numeric_limits<std::uint64_t>::max()) return last;
    auto cursor = lmdb::Cursor::open(txn_, t_.changes);
    if (!cursor) return cursor.status();
    auto at = cursor->seek(keys::view(keys::change(origin, after + 1)));
    for (; at && at->has_value(); at = cursor->next()) {
      const std::string_view key = (*at)->key;
      if (key.size() != 16) return Status::corrupt("change index: key of " + std::to_string(key.size()) + " bytes");
      if (keys::get_be64(key.data()) != origin || keys::get_be64(key.data() + 8) != last + 1) return last;
      ++last;
    }
    if (!at) return at.status().context("scanning the change index");
    return last;
  }

  Result<std::optional<NodeMeta>> node_meta() override {
    auto got = txn_.get(t_.meta, kNodeMetaKey);
    if (!got) return got.status().context("reading node meta");
    if (!got->has_value()) return std::optional<NodeMeta>();
    auto meta = decode_node_meta(**got);
    if (!meta) return Status::corrupt("meta/node: " + meta.status().message());
    return std::optional<NodeMeta>(std::move(meta).value());
  }

  Status for_each_conflict(std::uint64_t after, const std::function<Scan(const ConflictEntry&)>& visit) override {
    if (after == std::numeric_limits<std::uint64_t>::max()) return Status::ok();
    auto cursor = lmdb::Cursor::open(txn_, t_.conflicts);
    if (!cursor) return cursor.status();
    const auto start = keys::u64(after + 1);
    auto at = cursor->seek(keys::view(start));
    for (; at && at->has_value(); at = cursor->next()) {
      const lmdb::Entry e = **at;
      const std::uint64_t seq = e.key.size() == 8 ? keys::get_be64(e.key.data()) : 0;
      auto entry = decode_conflict_entry(e.value, limits());
      if (!entry) return Status::corrupt("conflict " + std::to_string(seq) + ": " + entry.status().message());
      if (visit(*entry) == Scan::stop) return Status::ok();
    }
    return at.status().context("scanning the conflict log");
  }

  Result<std::optional<std::string>> get(Table table, std::string_view key) override {
    SHOPSYNC_TRY(check_table_key(key));
    auto got = txn_.get(dbi(table), key);
    if (!got) return got.status();
    if (!got->has_value()) return std::optional<std::string>();
    return std::optional<std::string>(std::string(**got));
  }

  Status for_each(Table table, const std::function<Scan(std::string_view, std::string_view)>& visit) override {
    auto cursor = lmdb::Cursor::open(txn_, dbi(table));
    if (!cursor) return cursor.status();
    auto at = cursor->first();
    for (; at && at->has_value(); at = cursor->next()) {
      if (visit((*at)->key, (*at)->value) == Scan::stop) return Status::ok();
    }
    return at.status();
  }

  // ---- writing --------------------------------------------------------------

  Status put_record(const RecordKey& key, const RecordState& state) override {
    SHOPSYNC_TRY(validate_key(key));
    value_buf_.clear();
    if (Status st = encode_valid_record_state(state, value_buf_, limits()); !st) {
      return st.context("record " + keys::describe(key));
    }
    return put_encoded(key, state, std::string_view(value_buf_.data(), value_buf_.size()));
  }

  Result<std::optional<PackedRecord>> packed_record(const RecordKey& key) override {
    SHOPSYNC_TRY(validate_key(key));
    keys::record(key_buf_, key.collection, key.id);
    auto got = look_up();
    if (!got) return got.status().context("reading record " + keys::describe(key));
    if (!got->has_value()) return std::optional<PackedRecord>();
    auto stored = open_stored_record(**got);
    if (!stored) return unreadable(key, **got, stored.status());
    if (stored->sealed) return std::optional<PackedRecord>(PackedRecord::sealed(std::string(stored->encoding)));
    auto packed = PackedRecord::parse(std::string(stored->encoding), limits());
    if (!packed) return unreadable(key, **got, packed.status());
    return std::optional<PackedRecord>(std::move(packed).value());
  }

  // The bytes as they came when this version reads them back as they are;
  // the heads carry the checks of put_record that are not the decoder's.
  Status put_packed_record(const RecordKey& key, const PackedRecord& record) override {
    if (!record.plain() || record.heads().siblings.empty()) return put_record(key, record.decode());
    SHOPSYNC_TRY(validate_key(key));
    if (Status s = validate_record_state(record.heads(), limits()); !s) return s.context("record " + keys::describe(key));
    return put_encoded(key, record.heads(), record.bytes());
  }

 private:
  // Writes `bytes`, the valid encoding of a state whose siblings are
  // `heads.siblings`, and keeps the change index exact.
  Status put_encoded(const RecordKey& key, const RecordState& heads, std::string_view bytes) {
    if (!heads.siblings.empty()) {
      if (bytes.size() > max_record_bytes_) {
        return Status::too_large("record " + keys::describe(key) + " encodes to " + std::to_string(bytes.size()) +
                                 " bytes, over the limit of " + std::to_string(max_record_bytes_));
      }
    }
    keys::record(key_buf_, key.collection, key.id);

    // One cursor finds the previous state and then overwrites, inserts or
    // deletes in place: a lookup leaves it on the page where the key belongs,
    // and LMDB's put checks the cursor's page before descending the tree
    // again. The lookup is the caller's when it just read this record (a
    // received record is read, then stored): nothing moved the cursor since.
    auto at = key_buf_ == looked_up_ ? Result<std::optional<std::string_view>>(found_) : look_up();
    wrote();
    if (!at) return at.status().context("reading record " + keys::describe(key));
    const bool existed = at->has_value();
    old_dots_.clear();
    // Old dots that do not read cannot be unindexed: their entries stay and
    // name this record (or none, once it is erased), and the delta cursor
    // skips what they no longer name.
    if (existed && !decode_sibling_dots(stored_encoding(**at), old_dots_)) old_dots_.clear();
    if (existed) unreadable_.forget(key);

    // The change index holds exactly the dots of live siblings: drop the ones
    // that are gone, add the new ones. Done before the record itself so that
    // `at` (a view into the map) is no longer needed.
    auto has_dot = [](const std::vector<Dot>& dots, const Dot& d) {
      return std::find(dots.begin(), dots.end(), d) != dots.end();
    };
    new_dots_.clear();
    for (const auto& v : heads.siblings) new_dots_.push_back(v.dot);
    // A cursor kept on the change index makes runs of writes from one origin
    // (consecutive counters) land next to the previous one, without a descent.
    // New entries first: a clash is found before anything is removed, so an
    // error leaves the store as it was.
    for (std::size_t i = 0; i < new_dots_.size(); ++i) {
      const Dot& d = new_dots_[i];
      if (has_dot(old_dots_, d)) continue;
      auto clash = changes_cursor_.put_new(keys::view(keys::change(d.origin, d.counter)), key_buf_);
      if (!clash) return clash.status().context("updating the change index");
      if (clash->has_value() && **clash != key_buf_) {
        // A dot names one write, so one record: a second record claiming it
        // would corrupt the index.
        RecordKey owner;
        keys::split_record(**clash, owner);
        Status refused = Status::invalid("record " + keys::describe(key) + ": dot (" + std::to_string(d.origin) +
                                         ", " + std::to_string(d.counter) + ") already belongs to record " +
                                         keys::describe(owner));
        for (std::size_t j = 0; j < i; ++j) {  // take back what this call added
          if (has_dot(old_dots_, new_dots_[j])) continue;
          auto added = changes_cursor_.find(keys::view(keys::change(new_dots_[j].origin, new_dots_[j].counter)));
          if (!added) return added.status();
          if (added->has_value()) SHOPSYNC_TRY(changes_cursor_.erase_current());
        }
        return refused;
      }
    }
    for (const Dot& d : old_dots_) {
      if (has_dot(new_dots_, d)) continue;
      auto found = changes_cursor_.find(keys::view(keys::change(d.origin, d.counter)));
      if (!found) return found.status().context("updating the change index");
      // Only this record's own entry goes.
      if (found->has_value() && (*found)->value == key_buf_) {
        SHOPSYNC_TRY(changes_cursor_.erase_current().context("updating the change index"));
      }
    }

    if (heads.siblings.empty()) {
      if (!existed) return Status::ok();
      // The change-index writes went to another database: this cursor still
      // sits on the record.
      Status st = records_cursor_.erase_current();
      return st ? st : st.context("erasing record " + keys::describe(key));
    }
    seal_record(bytes, sealed_buf_);
    Status st = records_cursor_.put(key_buf_, sealed_buf_);
    return st ? st : st.context("writing record " + keys::describe(key));
  }

 public:

  Status put_node_meta(const NodeMeta& meta) override {
    wrote();
    return txn_.put(t_.meta, kNodeMetaKey, encode_node_meta(meta)).context("writing node meta");
  }

  Result<std::uint64_t> append_conflict(const ConflictEntry& entry) override {
    wrote();
    auto cursor = lmdb::Cursor::open(txn_, t_.conflicts);
    if (!cursor) return cursor.status();
    auto last = cursor->last();
    if (!last) return last.status().context("appending to the conflict log");
    std::uint64_t seq = 1;
    if (last->has_value()) {
      if ((*last)->key.size() != 8) return Status::corrupt("conflict log: key of the wrong size");
      seq = keys::get_be64((*last)->key.data()) + 1;
    }
    ConflictEntry stored = entry;
    stored.seq = seq;
    SHOPSYNC_TRY(txn_.put(t_.conflicts, keys::view(keys::u64(seq)), encode_conflict_entry(stored))
                     .context("appending to the conflict log"));
    return seq;
  }

  Status put(Table table, std::string_view key, std::string_view value) override {
    wrote();
    SHOPSYNC_TRY(check_table_key(key));
    return txn_.put(dbi(table), key, value);
  }

  Status erase(Table table, std::string_view key) override {
    wrote();
    SHOPSYNC_TRY(check_table_key(key));
    auto erased = txn_.erase(dbi(table), key);
    return erased.status();
  }

 private:
  // The stored bytes of the record `key_buf_` names, or nullopt, found with
  // the records cursor. Lookups in key order then stay on one leaf page
  // (LMDB searches the cursor's page first), and the cursor stays where this
  // left it until the next write.
  Result<std::optional<std::string_view>> look_up() {
    SHOPSYNC_TRY(open_cursors());
    auto at = records_cursor_.seek(key_buf_);
    if (!at) return at.status();
    found_.reset();
    if (at->has_value() && (*at)->key == key_buf_) found_ = (*at)->value;
    looked_up_ = key_buf_;
    return found_;
  }
  // Any write may move the records cursor or the pages under `found_`.
  void wrote() { looked_up_.clear(); }

  Status open_cursors() {
    if (cursors_open_) return Status::ok();
    auto records = lmdb::Cursor::open(txn_, t_.records);
    if (!records) return records.status();
    auto changes = lmdb::Cursor::open(txn_, t_.changes);
    if (!changes) return changes.status();
    records_cursor_ = std::move(records).value();
    changes_cursor_ = std::move(changes).value();
    cursors_open_ = true;
    return Status::ok();
  }

  // What this store reads back, and so what it accepts (put_record checks the
  // same limits before it writes). The slack above the record size covers what
  // a conflict entry adds to the siblings it copies (key, strategy, numbers).
  // Notes a record whose bytes do not decode, with whose writes it holds, and
  // returns the corrupt status naming it.
  // The records of `collection` after `after_id`, each read by
  // decode(stored, state) once its seal is checked; one whose seal does not
  // match or that does not read is noted and skipped.
  template <class Decode>
  Status scan_records(std::string_view collection, std::string_view after_id,
                      const std::function<Scan(const RecordKey&, const RecordState&)>& visit, Decode&& decode) {
    SHOPSYNC_TRY(validate_collection_name(collection));
    auto cursor = lmdb::Cursor::open(txn_, t_.records);
    if (!cursor) return cursor.status();
    std::string prefix;
    keys::record(prefix, collection, "");
    keys::record(key_buf_, collection, after_id);
    auto at = cursor->seek(key_buf_);
    if (at && at->has_value() && !after_id.empty() && (*at)->key == key_buf_) at = cursor->next();
    RecordKey key;
    key.collection.assign(collection);
    RecordState state;
    for (; at && at->has_value(); at = cursor->next()) {
      const lmdb::Entry e = **at;
      if (e.key.substr(0, prefix.size()) != prefix) break;
      key.id.assign(e.key.substr(prefix.size()));
      auto stored = open_stored_record(e.value);
      Status st = stored ? decode(*stored, state) : stored.status();
      if (!st) {
        (void)unreadable(key, e.value, st);
        continue;
      }
      if (visit(key, state) == Scan::stop) return Status::ok();
    }
    return at.status().context("scanning records");
  }

  Status unreadable(const RecordKey& key, std::string_view bytes, const Status& why) {
    std::vector<Dot> dots;
    (void)decode_sibling_dots(stored_encoding(bytes), dots);
    UnreadableRecords::Entry entry{key, why.message(), {}};
    for (const Dot& d : dots) {
      if (std::find(entry.origins.begin(), entry.origins.end(), d.origin) == entry.origins.end()) {
        entry.origins.push_back(d.origin);
      }
    }
    unreadable_.note(std::move(entry));
    keys::record(key_buf_, key.collection, key.id);
    return corrupt_record(key_buf_, why);
  }

  DecodeLimits limits() const {
    DecodeLimits l;
    l.max_bytes = std::max(l.max_bytes, max_record_bytes_ + kConflictEntryOverhead);
    return l;
  }

  Status check_table_key(std::string_view key) const {
    if (key.empty()) return Status::invalid("table key is empty");
    if (key.size() > max_key_) {
      return Status::invalid("table key of " + std::to_string(key.size()) + " bytes is over LMDB's limit of " +
                             std::to_string(max_key_));
    }
    return Status::ok();
  }

  lmdb::Dbi dbi(Table table) const {
    switch (table) {
      case Table::peers: return t_.peers;
      case Table::trusted_keys: return t_.trusted_keys;
      case Table::settings: return t_.settings;
    }
    return t_.settings;
  }

  lmdb::Txn& txn_;
  const LmdbStore::Tables& t_;
  std::size_t max_key_;
  std::size_t max_record_bytes_;
  UnreadableRecords& unreadable_;
  lmdb::Cursor records_cursor_;  // kept across put_record calls of one write()
  lmdb::Cursor changes_cursor_;
  bool cursors_open_ = false;
  // What the last look_up() found, while nothing has been written since
  // (looked_up_ is then the key it was given, otherwise empty).
  std::string looked_up_;
  std::optional<std::string_view> found_;
  std::string key_buf_;
  msgpack::sbuffer value_buf_{1024};
  std::string sealed_buf_;
  std::vector<Dot> old_dots_;
  std::vector<Dot> new_dots_;
};

Result<std::uint32_t> read_schema(lmdb::Txn& txn, lmdb::Dbi meta, const std::filesystem::path& dir) {
  auto magic = txn.get(meta, kMagicKey);
  if (!magic) return magic.status();
  if (!magic->has_value() || **magic != kMagic) {
    return Status(Errc::not_shopsync, dir.string() + " holds an LMDB environment that is not a shopsync store");
  }
  auto schema = txn.get(meta, kSchemaKey);
  if (!schema) return schema.status();
  if (!schema->has_value() || (*schema)->size() != 8) {
    return Status::corrupt("meta/schema_version is missing or malformed in " + dir.string());
  }
  return static_cast<std::uint32_t>(keys::get_be64((*schema)->data()));
}

// The start-up transaction: identifies (or initialises) the store and opens
// every named database.
Result<LmdbStore::Tables> open_tables(lmdb::Env& env, const std::filesystem::path& dir, bool read_only) {
  auto txn = lmdb::Txn::begin(env, read_only ? lmdb::TxnMode::read : lmdb::TxnMode::write);
  if (!txn) return txn.status().context("opening " + dir.string());
  auto main_db = txn->open_db(nullptr, false);
  if (!main_db) return main_db.status();
  auto meta = txn->open_db("meta", false);
  if (!meta && meta.status().code() != Errc::not_found) {
    return Status(Errc::not_shopsync, dir.string() + " holds an LMDB environment that is not a shopsync store (" +
                                          meta.status().message() + ")");
  }
  bool fresh = false;
  if (!meta) {
    auto main_stat = txn->stat(*main_db);
    if (!main_stat) return main_stat.status();
    if (main_stat->entries != 0) {
      return Status(Errc::not_shopsync,
                    dir.string() + " holds an LMDB environment that is not a shopsync store (no 'meta' database)");
    }
    if (read_only) return Status::not_found("the store at " + dir.string() + " has not been initialised yet");
    fresh = true;
    meta = txn->open_db("meta", true);
    if (!meta) return meta.status();
    SHOPSYNC_TRY(txn->put(*meta, kMagicKey, kMagic));
    SHOPSYNC_TRY(txn->put(*meta, kSchemaKey, keys::view(keys::u64(kSchemaVersion))));
  }
  if (!fresh) {
    auto schema = read_schema(*txn, *meta, dir);
    if (!schema) return schema.status();
    if (*schema > kSchemaVersion) {
      return Status(Errc::newer_schema, "the store at " + dir.string() + " was written by a newer shopsync (schema " +
                                            std::to_string(*schema) + "); this build reads schema " +
                                            std::to_string(kSchemaVersion) +
                                            " and older. Upgrade shopsync to open it; nothing was changed");
    }
    if (*schema == 0) return Status::corrupt("meta/schema_version is 0 in " + dir.string());
    // Schema 1 differs only in records without seals, which still read: they
    // are sealed as they are written. Marked 2 at once, so that a build that
    // cannot read seals refuses the store instead of finding records corrupt.
    if (*schema < kSchemaVersion && !read_only) {
      SHOPSYNC_TRY(txn->put(*meta, kSchemaKey, keys::view(keys::u64(kSchemaVersion))));
    }
  }
  LmdbStore::Tables tables{};
  for (const auto& t : kTables) {
    auto dbi = txn->open_db(t.name, !read_only);
    if (!dbi) {
      return dbi.status().code() == Errc::not_found
                 ? Status::corrupt("the store at " + dir.string() + " lacks its '" + t.name + "' database")
                 : dbi.status();
    }
    tables.*(t.member) = *dbi;
  }
  // Committing (even a read transaction) makes the handles usable by every
  // later transaction of this environment.
  if (Status st = txn->commit(); !st) return st.context("opening " + dir.string());
  return tables;
}

}  // namespace

LmdbStore::LmdbStore(std::filesystem::path dir, StoreOptions options, lmdb::Env env, Tables tables)
    : dir_(std::move(dir)), options_(options), env_(std::move(env)), tables_(tables) {}

LmdbStore::~LmdbStore() = default;

Status LmdbStore::flush() {
  if (options_.read_only) return Status::ok();
  std::shared_lock lock(map_mutex_);
  return env_.sync();
}

Result<std::unique_ptr<LmdbStore>> LmdbStore::open(const std::filesystem::path& dir, StoreOptions options) {
  lmdb::EnvOptions eo;
  eo.map_size = options.initial_map_size;
  eo.read_only = options.read_only;
  eo.sync_each_commit = options.sync_each_commit;
  auto env = lmdb::Env::open(dir, eo);
  if (!env) return env.status();
  // Reader slots left by processes that died (kill -9) would pin old pages
  // forever and make the file grow.
  auto cleared = env->clear_stale_readers();
  if (!cleared) return cleared.status();
  auto tables = open_tables(*env, dir, options.read_only);
  if (!tables) return tables.status();
  std::unique_ptr<LmdbStore> store(new LmdbStore(dir, options, std::move(env).value(), *tables));
  store->stale_readers_cleared_ = *cleared;
  return store;
}

Status LmdbStore::adopt_new_map_size() {
  std::unique_lock lock(map_mutex_);
  return env_.set_map_size(0);
}

Status LmdbStore::grow() {
  std::unique_lock lock(map_mutex_);
  auto info = env_.info();
  if (!info) return info.status();
  if (info->map_size >= options_.max_map_size) {
    return Status(Errc::disk_full, "the store at " + dir_.string() + " reached its maximum map size of " +
                                       std::to_string(options_.max_map_size) + " bytes");
  }
  const std::size_t next = std::min(options_.max_map_size, info->map_size * 2);
  if (Status st = env_.set_map_size(next); !st) return st.context("growing the map of " + dir_.string());
  ++growths_;
  return Status::ok();
}

Status LmdbStore::read(const std::function<Status(StoreReader&)>& body) {
  const auto active = BodyScope::active(this);
  if (active == BodyScope::Kind::write) {
    return Status::invalid("read() called inside a write() body of the same store: use the StoreWriter");
  }
  const bool nested = active.has_value();  // this thread already holds map_mutex_ shared
  for (;;) {
    std::shared_lock lock(map_mutex_, std::defer_lock);
    if (!nested) lock.lock();
    bool resized = false;
    auto txn = lmdb::Txn::begin(env_, lmdb::TxnMode::read, &resized);
    if (!txn) {
      if (!resized) return txn.status();
      if (nested) {
        return Status::io_error("another process grew the map while a read of this thread was open; retry");
      }
      // Another process (the daemon, for a read-only inspector) grew the map.
      lock.unlock();
      SHOPSYNC_TRY(adopt_new_map_size());
      continue;
    }
    Status st;
    {
      BodyScope scope(this, BodyScope::Kind::read);
      TxnView view(*txn, tables_, env_, options_.max_record_bytes, unreadable_);
      st = body(view);
    }
    txn->abort();
    return st;
  }
}

Status LmdbStore::write(const std::function<Status(StoreWriter&)>& body) {
  if (options_.read_only) return Status::invalid("the store at " + dir_.string() + " is open read-only");
  if (BodyScope::active(this)) {
    return Status::invalid("write() called inside a read() or write() body of the same store");
  }
  std::lock_guard writer(write_mutex_);
  ++writes_;
  Status st = write_locked(body);
  full_disk_.note(st);
  return st;
}

Status LmdbStore::write_locked(const std::function<Status(StoreWriter&)>& body) {
  for (;;) {
    std::shared_lock lock(map_mutex_);
    bool resized = false;
    auto txn = lmdb::Txn::begin(env_, lmdb::TxnMode::write, &resized);
    if (!txn) {
      if (!resized) return txn.status();
      lock.unlock();
      SHOPSYNC_TRY(adopt_new_map_size());
      continue;
    }
    Status st;
    {
      BodyScope scope(this, BodyScope::Kind::write);
      TxnView view(*txn, tables_, env_, options_.max_record_bytes, unreadable_);
      st = body(view);
      view.close_cursors();
    }
    // The body may have swallowed an MDB_MAP_FULL; the transaction knows.
    const bool full_in_body = txn->map_full();
    if (st && !full_in_body) {
      st = txn->commit();
      // A failed commit leaves the store as it was before it (LMDB writes the
      // meta page last); a short page write on a full disk reads as EIO.
      if (st || !txn->map_full()) return name_full_disk(std::move(st), dir_);
    } else {
      txn->abort();
      if (!full_in_body) return st;
    }
    // Out of room: everything this attempt did is gone with the aborted
    // transaction; grow and run the body again from the start.
    lock.unlock();
    SHOPSYNC_TRY(grow());
  }
}

Result<StoreStats> LmdbStore::stats() {
  StoreStats out;
  Status st = read([&](StoreReader&) { return Status::ok(); });  // adopts a resized map if needed
  if (!st) return st;
  std::shared_lock lock(map_mutex_);
  auto info = env_.info();
  if (!info) return info.status();
  out.map_size = info->map_size;
  out.max_map_size = options_.max_map_size;
  out.used_bytes = info->used_bytes;
  out.page_size = info->page_size;
  out.readers_in_use = info->readers_in_use;
  out.max_readers = info->max_readers;
  auto txn = lmdb::Txn::begin(env_, lmdb::TxnMode::read);
  if (!txn) return txn.status();
  auto schema = read_schema(*txn, tables_.meta, dir_);
  if (!schema) return schema.status();
  out.schema_version = *schema;
  for (const auto& t : kTables) {
    auto s = txn->stat(tables_.*(t.member));
    if (!s) return s.status();
    out.tables.push_back({t.name, s->entries, s->pages});
  }
  return out;
}

}  // namespace shopsync
