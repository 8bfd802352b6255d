#include "node/postgres/pg_export.h"

#include <map>

#include <nlohmann/json.hpp>

#include "api/json_values.h"

namespace shopsync::postgres {

Status PgExport::prepare(Connection& c) {
  tables_.clear();
  typed_.clear();
  const std::string s = c.identifier(schema_);
  SHOPSYNC_TRY(c.exec("CREATE SCHEMA IF NOT EXISTS " + s + "; CREATE TABLE IF NOT EXISTS " + s + "." +
                c.identifier(kPositionTable) + " (uplink text PRIMARY KEY, cursor text NOT NULL, updated_at timestamptz)"));
  if (!mapping_) return Status::ok();
  for (const auto& m : mapping_->tables()) {
    auto table = check_typed_table(c, m);
    if (!table) return table.status();
    typed_.emplace(m.collection, std::move(*table));
  }
  return Status::ok();
}

Result<std::string> PgExport::position(Connection& c) {
  auto rows = c.query("SELECT cursor FROM " + c.identifier(schema_) + "." + c.identifier(kPositionTable) +
                          " WHERE uplink = $1",
                      {uplink_});
  if (!rows) return rows.status();
  if (rows->empty() || !rows->front()[0]) return std::string();
  return *rows->front()[0];
}

Status PgExport::ensure_table(Connection& c, const std::string& collection) {
  if (tables_.count(collection)) return Status::ok();
  SHOPSYNC_TRY(c.exec("CREATE TABLE IF NOT EXISTS " + c.identifier(schema_) + "." + c.identifier(collection) +
                      " (id text PRIMARY KEY, fields jsonb NOT NULL DEFAULT '{}', version text, hlc bigint,"
                      " deleted boolean NOT NULL DEFAULT false)"));
  tables_.insert(collection);
  return Status::ok();
}

Status PgExport::upsert(Connection& c, const std::string& collection, const std::vector<const ExportRow*>& rows) {
  nlohmann::json batch = nlohmann::json::array();
  for (const ExportRow* row : rows) {
    // The fields go in as text and are cast by PostgreSQL: a value jsonb
    // refuses (a \u0000 in a string) fails this statement, not the process.
    batch.push_back({{"id", row->key.id}, {"fields", json_values::dump_json(row->fields)}, {"version", row->version},
                     {"hlc", row->hlc}, {"deleted", row->deleted}});
  }
  const std::string table = c.identifier(schema_) + "." + c.identifier(collection);
  const std::string sql =
      "INSERT INTO " + table +
      " AS t (id, fields, version, hlc, deleted)"
      " SELECT r.id, r.fields::jsonb, r.version, r.hlc, r.deleted FROM jsonb_to_recordset($1::jsonb)"
      " AS r(id text, fields text, version text, hlc bigint, deleted boolean)"
      " ON CONFLICT (id) DO UPDATE SET fields = EXCLUDED.fields, version = EXCLUDED.version, hlc = EXCLUDED.hlc,"
      " deleted = EXCLUDED.deleted WHERE t.version IS DISTINCT FROM EXCLUDED.version";
  auto done = c.query(sql, {batch.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
  return done.status();
}

// A deleted record is no row of a typed table (its last fields are in the cluster).
Status PgExport::upsert_mapped(Connection& c, const TypedTable& table, const std::vector<const ExportRow*>& rows) {
  nlohmann::json live = nlohmann::json::array();
  nlohmann::json gone = nlohmann::json::array();
  for (const ExportRow* row : rows) {
    if (row->deleted) {
      gone.push_back(row->key.id);
    } else {
      live.push_back(typed_row(*table.mapping, row->key.id, row->fields));
    }
  }
  if (!live.empty()) SHOPSYNC_TRY(upsert_typed(c, table, live));
  if (!gone.empty()) SHOPSYNC_TRY(delete_typed(c, table, gone));
  return Status::ok();
}

Status PgExport::write_part(Connection& c, const std::string& collection, const std::vector<const ExportRow*>& rows) {
  auto typed = typed_.find(collection);
  if (typed != typed_.end()) return upsert_mapped(c, typed->second, rows);
  return upsert(c, collection, rows);
}

Status PgExport::store_position(Connection& c, const std::string& position) {
  auto done = c.query("INSERT INTO " + c.identifier(schema_) + "." + c.identifier(kPositionTable) +
                          " (uplink, cursor, updated_at) VALUES ($1, $2, now())"
                          " ON CONFLICT (uplink) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = now()",
                      {uplink_, position});
  return done.status();
}

Result<std::vector<RefusedRow>> PgExport::write(Connection& c, const std::vector<ExportRow>& rows,
                                                const std::string& position) {
  // Records of a mapped table that does not fit are refused at once.
  std::vector<RefusedRow> refused;
  std::vector<const ExportRow*> sent;
  std::map<std::string, std::vector<const ExportRow*>> by_collection;
  for (const auto& row : rows) {
    auto typed = typed_.find(row.key.collection);
    if (typed != typed_.end() && !typed->second.problem) {
      refused.push_back(RefusedRow{row.key, typed->second.problem});
      continue;
    }
    sent.push_back(&row);
    by_collection[row.key.collection].push_back(&row);
  }
  for (const auto& [collection, part] : by_collection) {
    if (!typed_.count(collection)) SHOPSYNC_TRY(ensure_table(c, collection));
  }

  SHOPSYNC_TRY(c.exec("BEGIN"));
  Status s = Status::ok();
  for (const auto& [collection, part] : by_collection) {
    s = write_part(c, collection, part);
    if (!s) break;
  }
  if (s) s = store_position(c, position);
  if (s) s = c.exec("COMMIT");
  if (s) return refused;
  if (s.code() == Errc::unavailable) return s;
  // A statement failed: find the rows PostgreSQL refuses, one at a time
  // under a savepoint, and commit the others with the position.
  (void)c.exec("ROLLBACK");
  SHOPSYNC_TRY(c.exec("BEGIN"));
  for (const ExportRow* row : sent) {
    SHOPSYNC_TRY(c.exec("SAVEPOINT row"));
    Status one = write_part(c, row->key.collection, {row});
    if (one.code() == Errc::unavailable) return one;
    if (!one) {
      refused.push_back(RefusedRow{row->key, one});
      SHOPSYNC_TRY(c.exec("ROLLBACK TO SAVEPOINT row"));
    }
  }
  s = store_position(c, position);
  if (s) s = c.exec("COMMIT");
  if (!s) {
    (void)c.exec("ROLLBACK");
    return s;
  }
  return refused;
}

}  // namespace shopsync::postgres
