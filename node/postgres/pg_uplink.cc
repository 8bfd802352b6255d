#include "node/postgres/pg_uplink.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <set>
#include <sstream>

#include "api/api_types.h"
#include "api/json_values.h"
#include "node/log.h"
#include "node/postgres/pg_import.h"

namespace shopsync::postgres {
namespace {

constexpr std::uint64_t kMinBackoffMs = 500;
constexpr std::uint64_t kMaxBackoffMs = 10'000;
constexpr std::uint64_t kConnectTimeoutMs = 10'000;  // one attempt to open both sessions
constexpr std::uint64_t kTakeSlotMs = 2'000;  // an uplink without the slot tries to take it
constexpr std::uint64_t kStatusMs = 10'000;  // standby status and slot figures
constexpr int kMaxMessagesPerTurn = 20'000;  // then the node's other sockets get a turn
// WAL held back by the slot beyond this is worth a warning in the log.
constexpr std::int64_t kRetainedWarnBytes = 1LL << 30;
// Both sessions print timestamps the same way, in UTC.
constexpr const char* kSessionSettings = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO'";

// Microseconds since 2000-01-01, PostgreSQL's epoch.
std::int64_t pg_now_us() {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return us - 946'684'800'000'000LL;
}

// Whether `write` would leave the record as it is (a patch: the fields it names).
bool same_value(const VisibleRecord& current, const LocalWrite& write) {
  if (write.remove) return current.visible.deleted;
  if (current.visible.deleted) return false;
  if (write.update.replace && current.visible.fields.size() != write.update.fields.size()) return false;
  for (const auto& [name, value] : write.update.fields) {
    auto it = current.visible.fields.find(name);
    const bool present = it != current.visible.fields.end();
    if (value ? !present || it->second.packed != *value : present) return false;
  }
  return true;
}

std::string describe(const RecordKey& key) { return key.collection + "/" + key.id; }


}  // namespace

std::string slot_name(const std::string& cluster) {
  std::uint32_t hash = 2166136261u;
  std::string readable;
  for (char ch : cluster) {
    hash = (hash ^ static_cast<unsigned char>(ch)) * 16777619u;
    const auto c = static_cast<unsigned char>(ch);
    if (readable.size() < 40) readable.push_back(std::isalnum(c) ? static_cast<char>(std::tolower(c)) : '_');
  }
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", hash);
  return "shopsync_" + readable + "_" + hex;
}

// The record half of the local API's backend, for its changes feed alone.
class PgUplink::Feed final : public app::RecordService {
 public:
  using RecordService::RecordService;
};

struct PgUplink::Session {
  Session(Connection q, Connection s) : sql(std::move(q)), stream(std::move(s)) {}
  Connection sql;
  Connection stream;
  std::map<std::uint32_t, Relation> relations;
  bool in_txn = false;               // between Begin and Commit
  bool skip_txn = false;             // the transaction is an uplink's export
  std::vector<LocalWrite> txn;       // rows of the transaction being read
  std::vector<LocalWrite> ready;     // rows of committed transactions, not applied yet
  Lsn ready_lsn = 0;                 // the end of the last committed transaction read
  bool reply_requested = false;
  bool streaming = false;            // this uplink holds the slot: it imports
  std::uint64_t next_take_ms = 0;    // when not streaming: the next try to take the slot
};

struct PgUplink::Connecting {
  std::optional<Connection> sql;
  std::optional<Connection> stream;  // started once `sql` is up
  std::uint64_t deadline_ms = 0;
  // The one being opened now.
  Connection& current() { return stream ? *stream : *sql; }
};

PgUplink::PgUplink(Replica& replica, app::CountingStore& store, Outbox& outbox, Clock& steady, PgUplinkOptions options)
    : replica_(replica),
      store_(store),
      outbox_(outbox),
      steady_(steady),
      options_(std::move(options)),
      feed_(std::make_unique<Feed>(replica, store, outbox)),
      export_(options_.schema, node_id_text(options_.node), options_.mapping ? &*options_.mapping : nullptr),
      origin_("shopsync_" + node_id_text(options_.node)),
      slot_(slot_name(options_.schema)),
      publication_("shopsync_" + options_.schema) {}

PgUplink::~PgUplink() = default;

std::optional<Lsn> PgUplink::stored_lsn() {
  std::optional<Lsn> lsn;
  Status s = store_.read([&](StoreReader& r) -> Status {
    auto v = r.get(Table::settings, kLsnSetting);
    if (!v) return v.status();
    if (v->has_value()) lsn = parse_lsn(**v);
    return Status::ok();
  });
  if (!s) return std::nullopt;
  return lsn;
}

// Opens the two sessions without blocking: each PQconnectPoll step runs when
// the loop's poll found the socket ready for it.
void PgUplink::poll_connecting(std::span<const zmq::PollEntry> entries) {
  const std::uint64_t now = steady_.now_ms();
  if (!connecting_) {
    if (now < next_attempt_ms_) return;
    auto sql = Connection::start(options_.conninfo, false);
    if (!sql) return disconnect(sql.status());
    connecting_ = std::make_unique<Connecting>();
    connecting_->sql = std::move(*sql);
    connecting_->deadline_ms = now + kConnectTimeoutMs;
    return;  // polled once the socket is ready
  }
  const bool ready = !entries.empty() && (entries.front().readable || entries.front().writable);
  if (!ready) {
    if (now < connecting_->deadline_ms) return;
    connecting_.reset();
    return disconnect(Status(Errc::unavailable, "cannot connect to PostgreSQL: timed out after " +
                                                    std::to_string(kConnectTimeoutMs / 1000) + " s"));
  }
  auto done = connecting_->current().poll_connect();
  if (!done) {
    connecting_.reset();
    return disconnect(done.status());
  }
  if (!*done) return;
  if (!connecting_->stream) {
    auto stream = Connection::start(options_.conninfo, true);
    if (!stream) {
      connecting_.reset();
      return disconnect(stream.status());
    }
    connecting_->stream = std::move(*stream);
    return;
  }
  std::unique_ptr<Connecting> opened = std::move(connecting_);
  if (Status s = connect(std::move(*opened->sql), std::move(*opened->stream)); !s) return disconnect(s);
  stats_.connected = true;
  backoff_ms_ = 0;
  outage_logged_ = false;
  next_status_ms_ = 0;
}

Status PgUplink::connect(Connection sql, Connection stream) {
  // Timestamps of typed tables read as UTC (pg_mapping.h, column_to_packed).
  SHOPSYNC_TRY(sql.exec(kSessionSettings));
  SHOPSYNC_TRY(export_.prepare(sql).context("creating schema " + options_.schema));
  // Our exports carry a replication origin: the slot's stream names it, and
  // such transactions are not imported back.
  auto origin = sql.query("SELECT pg_replication_origin_create($1) WHERE NOT EXISTS"
                           " (SELECT 1 FROM pg_replication_origin WHERE roname = $1)",
                           {origin_});
  if (!origin) return origin.status().context("creating replication origin " + origin_);
  auto setup = sql.query("SELECT pg_replication_origin_session_setup($1)", {origin_});
  if (!setup) return setup.status().context("using replication origin " + origin_);
  auto pub = sql.query("SELECT 1 FROM pg_publication WHERE pubname = $1", {publication_});
  if (!pub) return pub.status();
  if (pub->empty()) {
    SHOPSYNC_TRY(sql.exec("CREATE PUBLICATION " + sql.identifier(publication_) + " FOR TABLES IN SCHEMA " +
                           sql.identifier(options_.schema))
                     .context("creating publication " + publication_));
  }
  SHOPSYNC_TRY(prepare_mapped_tables(sql));
  auto position = export_.position(sql);
  if (!position) return position.status();
  auto cursor = parse_version_vector(*position);
  if (!cursor) return Status::corrupt("the position stored in PostgreSQL does not parse: " + *position);
  cursor_ = *cursor;
  exported_knowledge_ = VersionVector();
  SHOPSYNC_TRY(stream.exec(kSessionSettings));
  session_ = std::make_unique<Session>(std::move(sql), std::move(stream));
  SHOPSYNC_TRY(ensure_slot());
  SHOPSYNC_LOG(info, "PostgreSQL: connected; cluster changes from position '" << *position << "'");
  return take_slot(true);
}

// Streams the cluster's slot unless another uplink does: PostgreSQL lets
// one session at a time stream a slot, so exactly one uplink imports each
// PostgreSQL edit. The others export only and try again every 2 s, so one
// of them takes over when the importer stops.
Status PgUplink::take_slot(bool first) {
  Session& s = *session_;
  applied_lsn_ = stored_lsn().value_or(0);
  s.ready_lsn = applied_lsn_;
  // publication_names is a list of identifiers: quoted, the cluster's name is kept as it is.
  std::string quoted = "\"" + publication_ + "\"";
  Status started = s.stream.start_stream("START_REPLICATION SLOT " + slot_ + " LOGICAL " + format_lsn(applied_lsn_) +
                                         " (proto_version '1', publication_names " + s.stream.literal(quoted) + ")");
  if (!started && started.message().starts_with("55006")) {  // object_in_use: streamed by another uplink
    if (first) {
      SHOPSYNC_LOG(info, "PostgreSQL: slot " << slot_ << " is streamed by another uplink (or by this one's session"
                                               " before a restart, until PostgreSQL sees it gone), which imports"
                                               " PostgreSQL's edits; this one exports only and takes over when it stops");
    }
    s.next_take_ms = steady_.now_ms() + kTakeSlotMs;
    return Status::ok();
  }
  SHOPSYNC_TRY(started);
  s.streaming = true;
  stats_.importing = true;
  SHOPSYNC_LOG(info, "PostgreSQL: importing from slot " << slot_ << " from " << format_lsn(applied_lsn_));
  return Status::ok();
}

// Mapped tables that do not fit are logged and left alone; those outside
// the cluster's schema join the publication.
Status PgUplink::prepare_mapped_tables(Connection& c) {
  stats_.unusable_tables = 0;
  for (const auto& [collection, table] : export_.typed()) {
    const TableMapping& m = *table.mapping;
    if (!table.problem) {
      ++stats_.unusable_tables;
      SHOPSYNC_LOG(warn, "PostgreSQL: collection " << collection << " is not mapped onto " << m.qualified() << ": "
                                                   << table.problem.message()
                                                   << " (its records are not exported nor its rows imported)");
      continue;
    }
    if (m.schema == options_.schema) continue;  // published with the schema
    auto member = c.query("SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND schemaname = $2 AND tablename = $3",
                          {publication_, m.schema, m.table});
    if (!member) return member.status();
    if (member->empty()) {
      SHOPSYNC_TRY(c.exec("ALTER PUBLICATION " + c.identifier(publication_) + " ADD TABLE " + c.identifier(m.schema) +
                          "." + c.identifier(m.table))
                       .context("publishing " + m.qualified()));
    }
  }
  return Status::ok();
}

Result<std::optional<LocalWrite>> PgUplink::to_write(const Relation& relation, const RowChange& change) const {
  if (options_.mapping) {
    if (const TableMapping* m = options_.mapping->by_table(relation.schema, relation.name)) {
      auto table = export_.typed().find(m->collection);
      if (table != export_.typed().end() && !table->second.problem) {
        return Status::invalid("table " + m->qualified() + ": " + table->second.problem.message());
      }
      return typed_row_to_write(*m, relation, change);
    }
    // The default-layout table of a collection mapped elsewhere.
    if (relation.schema == options_.schema && options_.mapping->by_collection(relation.name)) {
      return std::optional<LocalWrite>();
    }
  }
  return row_to_write(options_.schema, relation, change);
}

// A refused row is counted and logged; full batches are applied (without
// the LSN: a crash before the end of a resync repeats it).
Status PgUplink::collect(Result<std::optional<LocalWrite>> write, std::vector<LocalWrite>& writes) {
  if (!write) {
    ++stats_.refused_imports;
    SHOPSYNC_LOG(warn, "PostgreSQL: not imported: " << write.status().message());
    return Status::ok();
  }
  if (*write) writes.push_back(std::move(**write));
  if (writes.size() < options_.batch_rows) return Status::ok();
  SHOPSYNC_TRY(apply_writes(std::move(writes), 0));
  writes.clear();
  return Status::ok();
}

Status PgUplink::ensure_slot() {
  Session& s = *session_;
  auto slot = s.sql.query("SELECT wal_status, confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1",
                          {slot_});
  if (!slot) return slot.status();
  // The slot of one uplink alone (shopsync_<node id>), made by earlier versions, holds WAL for nothing.
  auto old = s.sql.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                         " WHERE slot_name = $1 AND NOT active",
                         {origin_});
  if (!old) return old.status().context("dropping the former slot " + origin_);
  if (!old->empty()) SHOPSYNC_LOG(info, "PostgreSQL: dropped the former slot " << origin_ << "; using " << slot_);
  if (!slot->empty()) {
    // A slot another uplink confirmed further than this one's stored LSN
    // is fine: what it imported reaches this uplink through the cluster.
    if (!(slot->front()[0] && *slot->front()[0] == "lost")) return Status::ok();
    SHOPSYNC_LOG(warn, "PostgreSQL: slot " << slot_ << " was invalidated (WAL beyond max_slot_wal_keep_size was "
                                             "removed): it is made again and every row read afresh");
    auto dropped = s.sql.query("SELECT pg_drop_replication_slot($1)", {slot_});
    if (!dropped) return dropped.status().context("dropping slot " + slot_);
  }
  auto created = s.stream.query("CREATE_REPLICATION_SLOT " + slot_ + " LOGICAL pgoutput NOEXPORT_SNAPSHOT");
  // 42710 duplicate_object: another uplink made it meanwhile (and reads the rows).
  if (!created && created.status().message().starts_with("42710")) return Status::ok();
  if (!created) return created.status().context("creating slot " + slot_);
  std::optional<Lsn> from;
  if (!created->empty() && created->front().size() > 1 && created->front()[1]) from = parse_lsn(*created->front()[1]);
  if (!from) return Status::corrupt("CREATE_REPLICATION_SLOT answered without a consistent point");
  return full_resync(*from);
}

// Every row of the schema's tables, read once the slot exists: what changes
// later comes through the slot (a row in both is applied once: the second
// is equal and skipped).
Status PgUplink::full_resync(Lsn from) {
  Session& s = *session_;
  auto tables = s.sql.query("SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> $2 ORDER BY 1",
                            {options_.schema, std::string(kPositionTable)});
  if (!tables) return tables.status();
  std::vector<LocalWrite> writes;
  for (const auto& t : *tables) {
    const std::string name = *t[0];
    // Tables of the mapping file, and default tables of collections mapped elsewhere.
    if (options_.mapping &&
        (options_.mapping->by_table(options_.schema, name) || options_.mapping->by_collection(name))) {
      continue;
    }
    auto rows = s.sql.query("SELECT id, fields::text, deleted, version FROM " + s.sql.identifier(options_.schema) + "." +
                            s.sql.identifier(name));
    if (!rows) {
      if (rows.status().code() == Errc::unavailable) return rows.status();
      ++stats_.refused_imports;
      SHOPSYNC_LOG(warn, "PostgreSQL: table " << options_.schema << "." << name
                                              << " is not in shopsync's layout; not imported: " << rows.status().message());
      continue;
    }
    for (const auto& row : *rows) {
      if (!row[0]) continue;
      RecordKey key{name, *row[0]};
      // A row whose version is not the record's visible one was exported
      // before the cluster moved on: the cluster's value stands.
      if (row[3]) {
        auto current = replica_.get(key);
        if (current && current->has_value() && dot_text((*current)->visible.winner) != *row[3]) continue;
      }
      Relation relation{0, options_.schema, name, {{"id", 25, true}, {"fields", 3802, false}, {"deleted", 16, false}}};
      RowChange change{RowChange::Op::insert, 0,
                       {TupleValue{TupleValue::Kind::text, *row[0]},
                        row[1] ? TupleValue{TupleValue::Kind::text, *row[1]} : TupleValue{},
                        TupleValue{TupleValue::Kind::text, row[2].value_or("f")}}};
      SHOPSYNC_TRY(collect(to_write(relation, change), writes));
    }
  }
  for (const auto& [collection, table] : export_.typed()) {
    if (table.problem) SHOPSYNC_TRY(resync_typed(table, writes));
  }
  SHOPSYNC_TRY(apply_writes(std::move(writes), from));
  SHOPSYNC_LOG(info, "PostgreSQL: read every row of schema " << options_.schema << " (slot " << slot_ << " from "
                                                             << format_lsn(from) << ")");
  return Status::ok();
}

Status PgUplink::resync_typed(const TypedTable& table, std::vector<LocalWrite>& writes) {
  Session& s = *session_;
  const TableMapping& m = *table.mapping;
  Relation relation{0, m.schema, m.table, {{m.key, 25, true}}};
  std::string columns = s.sql.identifier(m.key) + "::text";
  for (const auto& f : m.fields) {
    columns += ", " + s.sql.identifier(f.column) + "::text";
    relation.columns.push_back({f.column, 25, false});
  }
  auto rows = s.sql.query("SELECT " + columns + " FROM " + s.sql.identifier(m.schema) + "." + s.sql.identifier(m.table));
  if (!rows) return rows.status();
  for (const auto& row : *rows) {
    RowChange change{RowChange::Op::insert, 0, {}};
    for (const auto& value : row) change.tuple.push_back(value ? TupleValue{TupleValue::Kind::text, *value} : TupleValue{});
    SHOPSYNC_TRY(collect(to_write(relation, change), writes));
  }
  return Status::ok();
}

Status PgUplink::apply_writes(std::vector<LocalWrite> writes, Lsn lsn) {
  // A key changed twice counts once, as its last change; a change that
  // leaves the record as the cluster has it (an echo, a repeat) is dropped.
  std::set<RecordKey> seen;
  std::vector<LocalWrite> kept;
  for (auto it = writes.rbegin(); it != writes.rend(); ++it) {
    if (!seen.insert(it->key).second) continue;
    auto current = replica_.get(it->key);
    if (!current) return current.status();
    if (current->has_value() ? same_value(**current, *it) : it->remove) continue;
    kept.push_back(std::move(*it));
  }
  std::reverse(kept.begin(), kept.end());
  std::map<std::string, std::string> settings;
  if (lsn != 0) settings.emplace(std::string(kLsnSetting), format_lsn(lsn));
  if (kept.empty() && settings.empty()) return Status::ok();
  auto results = replica_.apply_local_writes(kept, outbox_, settings);
  if (!results) return results.status().context("applying rows from PostgreSQL");
  for (std::size_t i = 0; i < kept.size(); ++i) {
    const auto& r = (*results)[i];
    if (r) {
      ++stats_.imported_rows;
    } else {
      ++stats_.refused_imports;
      SHOPSYNC_LOG(warn, "PostgreSQL: row " << describe(kept[i].key) << " not imported: " << r.status().to_string());
    }
  }
  if (lsn != 0) applied_lsn_ = std::max(applied_lsn_, lsn);
  return Status::ok();
}

void PgUplink::disconnect(const Status& why) {
  session_.reset();
  stats_.connected = false;
  stats_.importing = false;
  ++stats_.failures;
  stats_.last_error = why.to_string();
  backoff_ms_ = std::clamp<std::uint64_t>(backoff_ms_ * 2, kMinBackoffMs, kMaxBackoffMs);
  next_attempt_ms_ = steady_.now_ms() + backoff_ms_;
  if (!outage_logged_) {
    SHOPSYNC_LOG(warn, "PostgreSQL: " << why.to_string() << "; retrying (backoff up to " << kMaxBackoffMs / 1000 << " s)");
    outage_logged_ = true;
  } else {
    SHOPSYNC_LOG(debug, "PostgreSQL: " << why.to_string());
  }
}

Status PgUplink::handle_message(const PgOutputMessage& message) {
  Session& s = *session_;
  if (std::holds_alternative<Begin>(message)) {
    s.in_txn = true;
    s.skip_txn = false;
    s.txn.clear();
  } else if (auto* o = std::get_if<Origin>(&message)) {
    s.skip_txn = o->name.rfind("shopsync_", 0) == 0;
  } else if (auto* r = std::get_if<Relation>(&message)) {
    s.relations[r->oid] = *r;
  } else if (auto* row = std::get_if<RowChange>(&message)) {
    if (s.skip_txn) return Status::ok();
    auto rel = s.relations.find(row->relation);
    if (rel == s.relations.end()) return Status::protocol("pgoutput: a row of a relation never described");
    auto write = to_write(rel->second, *row);
    if (!write) {
      ++stats_.refused_imports;
      SHOPSYNC_LOG(warn, "PostgreSQL: not imported: " << write.status().message());
    } else if (*write) {
      s.txn.push_back(std::move(**write));
    }
  } else if (auto* c = std::get_if<Commit>(&message)) {
    // At or below the applied LSN: applied before a restart.
    if (!s.skip_txn && c->end_lsn > applied_lsn_) {
      for (auto& w : s.txn) s.ready.push_back(std::move(w));
    }
    s.txn.clear();
    s.in_txn = false;
    s.ready_lsn = std::max(s.ready_lsn, c->end_lsn);
  }
  return Status::ok();
}

Status PgUplink::read_stream() {
  Session& s = *session_;
  for (int n = 0; n < kMaxMessagesPerTurn; ++n) {
    auto bytes = s.stream.read_stream();
    if (!bytes) return bytes.status();
    if (!*bytes) break;
    auto frame = decode_copy_data(**bytes);
    if (!frame) return frame.status();
    if (auto* k = std::get_if<Keepalive>(&*frame)) {
      // Every transaction committed before wal_end has been sent: with none
      // open, the stream is read up to there. (A server shutting down waits
      // for the client to confirm that much.)
      if (!s.in_txn) s.ready_lsn = std::max(s.ready_lsn, k->wal_end);
      s.reply_requested = s.reply_requested || k->reply_requested;
      continue;
    }
    auto message = decode_pgoutput(std::get<XLogData>(*frame).payload);
    if (!message) return message.status();
    SHOPSYNC_TRY(handle_message(*message));
    if (s.ready.size() >= options_.batch_rows) SHOPSYNC_TRY(apply_imports());
  }
  return Status::ok();
}

Status PgUplink::apply_imports() {
  Session& s = *session_;
  if (s.ready.empty()) return Status::ok();
  SHOPSYNC_TRY(apply_writes(std::move(s.ready), s.ready_lsn));
  s.ready.clear();
  return send_status(false);
}

Status PgUplink::send_status(bool reply_requested) {
  // Only what is committed to LMDB is confirmed: the slot keeps the rest.
  return session_->stream.write_stream(standby_status(applied_lsn_, pg_now_us(), reply_requested));
}

Status PgUplink::export_batch() {
  const VersionVector knowledge = replica_.knowledge();
  if (knowledge == exported_knowledge_) return Status::ok();
  api::ChangesRequest request;
  request.since = cursor_;
  request.limit = options_.batch_rows;
  auto page = feed_->changes(request);
  if (!page) return page.status();
  std::vector<ExportRow> rows;
  std::set<RecordKey> seen;
  for (const auto& change : page->changes) {
    if (!seen.insert(change.key).second) continue;
    auto record = replica_.get(change.key);
    if (!record) return record.status();
    if (!record->has_value()) continue;
    const VisibleRecord& v = **record;
    ExportRow row;
    row.key = change.key;
    row.fields = json_values::fields_to_json(v.visible.fields,
                                             {json_values::BinaryForm::tagged_object, json_values::Undecodable::hex_object});
    row.version = dot_text(v.visible.winner);
    row.hlc = static_cast<std::int64_t>(v.visible.updated_at);
    row.deleted = v.visible.deleted;
    rows.push_back(std::move(row));
  }
  if (!rows.empty() || !(page->cursor == cursor_)) {
    auto refused = export_.write(session_->sql, rows, version_vector_text(page->cursor));
    if (!refused) return refused.status();
    for (const auto& r : *refused) {
      SHOPSYNC_LOG(warn, "PostgreSQL: record " << describe(r.key) << " not exported: " << r.why.message());
    }
    stats_.refused_exports += refused->size();
    stats_.exported_rows += rows.size() - refused->size();
    cursor_ = page->cursor;
  }
  if (!page->more) exported_knowledge_ = knowledge;
  return Status::ok();
}

void PgUplink::refresh_slot_stats() {
  auto rows = session_->sql.query(
      "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint, wal_status FROM pg_replication_slots"
      " WHERE slot_name = $1",
      {slot_});
  if (!rows || rows->empty()) return;
  const auto& row = rows->front();
  const std::int64_t retained = row[0] ? std::stoll(*row[0]) : -1;
  const std::string status = row[1].value_or("");
  if ((retained > kRetainedWarnBytes && stats_.slot_retained_bytes <= kRetainedWarnBytes) ||
      (status == "unreserved" && stats_.slot_wal_status != "unreserved")) {
    SHOPSYNC_LOG(warn, "PostgreSQL: slot " << slot_ << " holds back " << retained / (1 << 20) << " MiB of WAL (wal_status "
                                           << status << "); see max_slot_wal_keep_size in docs/uplink.md");
  }
  stats_.slot_retained_bytes = retained;
  stats_.slot_wal_status = status;
}

int PgUplink::prepare(std::vector<zmq::PollEntry>& entries) {
  const std::uint64_t now = steady_.now_ms();
  if (connecting_) {
    zmq::PollEntry entry;
    entry.fd = connecting_->current().socket();
    entry.want_read = !connecting_->current().wants_write();
    entry.want_write = connecting_->current().wants_write();
    entries.push_back(entry);
    const std::uint64_t left = connecting_->deadline_ms > now ? connecting_->deadline_ms - now : 0;
    return static_cast<int>(std::min<std::uint64_t>(left, 1000));
  }
  if (!session_) return static_cast<int>(std::min<std::uint64_t>(next_attempt_ms_ > now ? next_attempt_ms_ - now : 0, 1000));
  if (session_->streaming) {
    zmq::PollEntry entry;
    entry.fd = session_->stream.socket();
    entries.push_back(entry);
  } else if (session_->next_take_ms <= now) {
    return 0;
  }
  if (!session_->ready.empty() || !(replica_.knowledge() == exported_knowledge_)) return 0;
  return static_cast<int>(std::min<std::uint64_t>(next_status_ms_ > now ? next_status_ms_ - now : 0, 1000));
}

void PgUplink::on_ready(std::span<const zmq::PollEntry> entries) {
  const std::uint64_t now = steady_.now_ms();
  if (!session_) {
    poll_connecting(entries);
    if (!session_) return;
  }
  Status s = Status::ok();
  if (session_->streaming) {
    s = read_stream();
    if (s) s = apply_imports();
  } else if (now >= session_->next_take_ms) {
    s = take_slot(false);
  }
  if (s) s = export_batch();
  if (s && (now >= next_status_ms_ || session_->reply_requested)) {
    // Transactions read but not imported (our own exports) and keepalives
    // move the LSN too: stored when the server asks or once in a while, so
    // that the slot can release their WAL. Only a stored LSN is confirmed.
    if (session_->streaming) {
      if (session_->ready.empty() && session_->ready_lsn > applied_lsn_) s = apply_writes({}, session_->ready_lsn);
      if (s) s = send_status(false);
    }
    session_->reply_requested = false;
    if (s && now >= next_status_ms_) {
      refresh_slot_stats();
      next_status_ms_ = now + kStatusMs;
    }
  }
  if (!s) disconnect(s);
}

std::string PgUplink::metrics_text() const {
  std::ostringstream out;
  auto gauge = [&out](const char* name, const char* type, const char* help, double value) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n' << name << ' ' << value << '\n';
  };
  gauge("shopsync_postgres_connected", "gauge", "1 while the uplink's PostgreSQL link is up.", stats_.connected ? 1 : 0);
  gauge("shopsync_postgres_importing", "gauge",
        "1 while this uplink streams the cluster's slot (one uplink of a cluster does).", stats_.importing ? 1 : 0);
  gauge("shopsync_postgres_exported_rows_total", "counter", "Records written to PostgreSQL.",
        static_cast<double>(stats_.exported_rows));
  gauge("shopsync_postgres_imported_rows_total", "counter", "Rows from PostgreSQL applied to the cluster.",
        static_cast<double>(stats_.imported_rows));
  gauge("shopsync_postgres_refused_exports_total", "counter", "Records PostgreSQL refused (logged).",
        static_cast<double>(stats_.refused_exports));
  gauge("shopsync_postgres_refused_imports_total", "counter",
        "Rows from PostgreSQL the cluster refused: record limits, tables without a primary key or not in the layout (logged).",
        static_cast<double>(stats_.refused_imports));
  gauge("shopsync_postgres_failures_total", "counter", "PostgreSQL connections lost or refused (the uplink reconnects).",
        static_cast<double>(stats_.failures));
  gauge("shopsync_postgres_unusable_mapped_tables", "gauge",
        "Tables of the mapping file that do not fit it (logged; their collections are not carried).",
        static_cast<double>(stats_.unusable_tables));
  gauge("shopsync_postgres_slot_retained_wal_bytes", "gauge",
        "WAL held back by the uplink's replication slot (-1: not known yet).", static_cast<double>(stats_.slot_retained_bytes));
  return out.str();
}

}  // namespace shopsync::postgres
