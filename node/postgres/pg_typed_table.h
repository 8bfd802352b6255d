// Cluster -> PostgreSQL for a collection the mapping file (pg_mapping.h)
// puts in an existing typed table: the table checked against what the
// mapping says, and the statements that upsert and delete its rows.
//
// Values go to PostgreSQL as JSON and are converted by PostgreSQL itself
// (jsonb_to_recordset with the table's own column types), so a value that
// does not convert ("abc" for a numeric column) fails its statement with
// PostgreSQL's message; PgExport then writes the batch row by row and
// leaves that record out (pg_export.h).
//
// Not thread-safe; one Connection at a time.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "node/postgres/pg_connection.h"
#include "node/postgres/pg_mapping.h"

namespace shopsync::postgres {

struct TypedTable {
  const TableMapping* mapping = nullptr;
  std::string key_type;                   // the key column's type as PostgreSQL writes it
  std::vector<std::string> column_types;  // each mapped field's column type, in mapping order
  // Why the table cannot be used (it does not exist, has no primary key, the
  // key is not unique, a column is missing or of a type that does not fit);
  // ok when it can.
  Status problem;
};

// The table as PostgreSQL has it. unavailable when the connection is lost;
// anything else wrong is in `problem`.
Result<TypedTable> check_typed_table(Connection& c, const TableMapping& mapping);

// The JSON object of one record for upsert_typed: key column -> id, each
// mapped column -> its field's value (absent: NULL).
nlohmann::json typed_row(const TableMapping& mapping, const std::string& id, const nlohmann::json& fields);

// One statement each: INSERT ... ON CONFLICT (key) DO UPDATE the `rows`
// (typed_row objects); DELETE the rows whose key is in `ids` (strings).
Status upsert_typed(Connection& c, const TypedTable& table, const nlohmann::json& rows);
Status delete_typed(Connection& c, const TypedTable& table, const nlohmann::json& ids);

}  // namespace shopsync::postgres
