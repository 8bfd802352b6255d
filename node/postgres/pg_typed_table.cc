#include "node/postgres/pg_typed_table.h"

#include <map>

#include "api/json_values.h"

namespace shopsync::postgres {
namespace {

std::string qualified(Connection& c, const TableMapping& m) { return c.identifier(m.schema) + "." + c.identifier(m.table); }

struct ColumnInfo {
  std::string format;   // "numeric(12,2)"
  std::string base;     // "numeric"
  std::string number;   // attnum
};

}  // namespace

Result<TypedTable> check_typed_table(Connection& c, const TableMapping& m) {
  TypedTable t;
  t.mapping = &m;
  const std::string name = m.qualified();
  auto oid = c.query("SELECT to_regclass($1)::oid::text", {qualified(c, m)});
  if (!oid) return oid.status();
  if (oid->empty() || !oid->front()[0]) {
    t.problem = Status::invalid("table " + name + " does not exist");
    return t;
  }
  const std::string rel = *oid->front()[0];
  auto pk = c.query("SELECT count(*) FROM pg_index WHERE indrelid = $1::oid AND indisprimary", {rel});
  if (!pk) return pk.status();
  if (pk->front()[0] == "0") {
    t.problem = Status::invalid("table " + name + " has no primary key");
    return t;
  }
  auto cols = c.query("SELECT attname, format_type(atttypid, atttypmod), atttypid::regtype::text, attnum::text"
                      " FROM pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped",
                      {rel});
  if (!cols) return cols.status();
  std::map<std::string, ColumnInfo> columns;
  for (const auto& row : *cols) columns[row[0].value_or("")] = ColumnInfo{row[1].value_or(""), row[2].value_or(""), row[3].value_or("")};
  auto key = columns.find(m.key);
  if (key == columns.end()) {
    t.problem = Status::invalid("table " + name + " has no key column \"" + m.key + "\"");
    return t;
  }
  auto unique = c.query("SELECT count(*) FROM pg_index WHERE indrelid = $1::oid AND indisunique AND indnkeyatts = 1"
                        " AND indpred IS NULL AND indexprs IS NULL AND indkey[0] = $2::int2",
                        {rel, key->second.number});
  if (!unique) return unique.status();
  if (unique->front()[0] == "0") {
    t.problem = Status::invalid("key column " + name + "." + m.key + " is neither the primary key nor UNIQUE");
    return t;
  }
  t.key_type = key->second.format;
  for (const auto& f : m.fields) {
    auto col = columns.find(f.column);
    if (col == columns.end()) {
      t.problem = Status::invalid("table " + name + " has no column \"" + f.column + "\" (field " + f.field + ")");
      return t;
    }
    if (!column_fits(f.type, col->second.base)) {
      t.problem = Status::invalid("column " + name + "." + f.column + " is " + col->second.format +
                                  ", which cannot carry the mapping's " + std::string(to_string(f.type)) + " (field " +
                                  f.field + ")");
      return t;
    }
    t.column_types.push_back(col->second.format);
  }
  return t;
}

nlohmann::json typed_row(const TableMapping& m, const std::string& id, const nlohmann::json& fields) {
  nlohmann::json row = nlohmann::json::object();
  row[m.key] = id;
  for (const auto& f : m.fields) {
    auto it = fields.find(f.field);
    if (it != fields.end()) row[f.column] = *it;
  }
  return row;
}

Status upsert_typed(Connection& c, const TypedTable& t, const nlohmann::json& rows) {
  const TableMapping& m = *t.mapping;
  std::string names = c.identifier(m.key);
  std::string picked = "r." + c.identifier(m.key);
  std::string types = c.identifier(m.key) + " " + t.key_type;
  std::string updates;
  for (std::size_t i = 0; i < m.fields.size(); ++i) {
    const std::string col = c.identifier(m.fields[i].column);
    names += ", " + col;
    picked += ", r." + col;
    types += ", " + col + " " + t.column_types[i];
    updates += std::string(updates.empty() ? "" : ", ") + col + " = EXCLUDED." + col;
  }
  const std::string sql = "INSERT INTO " + qualified(c, m) + " (" + names + ") SELECT " + picked +
                          " FROM jsonb_to_recordset($1::jsonb) AS r(" + types + ") ON CONFLICT (" + c.identifier(m.key) +
                          ") DO " + (updates.empty() ? "NOTHING" : "UPDATE SET " + updates);
  return c.query(sql, {json_values::dump_json(rows)}).status();
}

Status delete_typed(Connection& c, const TypedTable& t, const nlohmann::json& ids) {
  const TableMapping& m = *t.mapping;
  const std::string sql = "DELETE FROM " + qualified(c, m) + " WHERE " + c.identifier(m.key) +
                          " IN (SELECT k::" + t.key_type + " FROM jsonb_array_elements_text($1::jsonb) AS k)";
  return c.query(sql, {json_values::dump_json(ids)}).status();
}

}  // namespace shopsync::postgres
