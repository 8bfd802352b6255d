// The PostgreSQL mapping file (--postgres-mapping, docs/uplink.md, "Typed
// tables"): collections stored in the business's existing typed tables
// instead of the default layout (pg_export.h). TOML, one table per
// collection:
//
//   [customers]
//   table = "public.customers"     # schema.table; a bare name is in the cluster's schema
//   key = "customer_id"            # the column that holds the record id (unique)
//   [customers.fields]
//   name = "text"                  # field = "TYPE": the column of the same name
//   balance = "numeric"
//   notes = { column = "remarks", type = "text" }
//
// TYPE is one the mapping can carry both ways: text, integer, numeric,
// boolean, timestamptz, jsonb. Loading checks the file alone (syntax,
// names, types); whether the table fits (it exists, has a primary key, the
// key is unique, each column's type fits its TYPE) is checked against
// PostgreSQL when the uplink connects (PgExport::prepare).
//
// The conversions of a column value as PostgreSQL prints it (session
// TimeZone UTC) into a field value are here too (column_to_packed).
//
// Pure; thread-safe once loaded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace shopsync::postgres {

enum class ColumnType { text, integer, numeric, boolean, timestamptz, jsonb };

std::optional<ColumnType> parse_column_type(std::string_view name);
std::string_view to_string(ColumnType type);
// Whether a PostgreSQL column of type `pg_type` (as regtype prints it:
// "character varying", "timestamp with time zone") can hold `type`'s values.
bool column_fits(ColumnType type, std::string_view pg_type);

struct MappedField {
  std::string field;
  std::string column;
  ColumnType type = ColumnType::text;
};

struct TableMapping {
  std::string collection;
  std::string schema;  // the cluster's schema when the file gave a bare name
  std::string table;
  std::string key;     // the key column
  std::vector<MappedField> fields;
  std::string qualified() const { return schema + "." + table; }  // for messages
};

class Mapping {
 public:
  // invalid_argument naming the file, line and entry for a file that does
  // not load: bad TOML, an unknown setting, a bad collection name, a type
  // the mapping cannot carry, a column or table named twice.
  static Result<Mapping> load(const std::string& path, const std::string& cluster_schema);
  const TableMapping* by_collection(std::string_view collection) const;
  const TableMapping* by_table(std::string_view schema, std::string_view table) const;
  const std::vector<TableMapping>& tables() const { return tables_; }

 private:
  std::vector<TableMapping> tables_;
};

// A column's text (PostgreSQL's output form) as a packed field value:
// text -> string, integer -> integer, numeric -> integer when integral
// ("12.00" too), else a double; boolean -> bool, timestamptz -> ISO 8601
// string ("2025-10-18T12:00:00Z"), jsonb -> the JSON value ({"$binary": ...}
// is binary). invalid_argument when the text is not of the type.
Result<std::string> column_to_packed(ColumnType type, std::string_view text);

}  // namespace shopsync::postgres
