// Cluster -> PostgreSQL: the records the uplink commits, written as rows of
// the default layout (docs/uplink.md, "PostgreSQL"):
//
//   schema  <cluster>                      one per cluster
//   table   <cluster>.<collection>         one per collection:
//             id text PRIMARY KEY, fields jsonb, version text ("<origin hex>:<counter>"
//             of the visible version), hlc bigint (its updated_at), deleted boolean
//   table   <cluster>._shopsync_position   uplink text PRIMARY KEY, cursor text:
//             how far each uplink's changes feed has been applied
//
// Collections the mapping file names (pg_mapping.h) go to their typed
// tables instead (pg_typed_table.h); a mapped table that does not fit is
// reported by typed() and its records are refused with the reason.
//
// write() applies one batch in ONE PostgreSQL transaction together with the
// new position: after a crash the batch is either wholly there, position
// included, or not at all, so the uplink resumes from the stored position
// and applies each change exactly once. Upserts skip rows whose version is
// already there, so replaying a batch changes nothing.
//
// Not thread-safe; one Connection at a time.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <map>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "node/postgres/pg_connection.h"
#include "node/postgres/pg_mapping.h"
#include "node/postgres/pg_typed_table.h"
#include "storage/record.h"

namespace shopsync::postgres {

// The name of the table that holds the positions (not a collection name:
// collections start with a letter).
inline constexpr std::string_view kPositionTable = "_shopsync_position";

struct ExportRow {
  RecordKey key;
  nlohmann::json fields;    // a JSON object
  std::string version;      // "<origin hex>:<counter>"
  std::int64_t hlc = 0;
  bool deleted = false;
};

// A row PostgreSQL refused (a value jsonb cannot hold, a constraint).
struct RefusedRow {
  RecordKey key;
  Status why;
};

class PgExport {
 public:
  // `schema`: the cluster's schema; `uplink`: the name this uplink's
  // position is stored under; `mapping`: null or the mapping file's tables
  // (must outlive this).
  PgExport(std::string schema, std::string uplink, const Mapping* mapping)
      : schema_(std::move(schema)), uplink_(std::move(uplink)), mapping_(mapping) {}

  // Creates the schema and the position table when missing; checks the
  // mapped tables (typed()).
  Status prepare(Connection& c);
  // The mapped tables as prepare() found them, by collection.
  const std::map<std::string, TypedTable>& typed() const { return typed_; }
  // The stored position ("" when this uplink never wrote).
  Result<std::string> position(Connection& c);
  // Upserts `rows` and stores `position`, in one transaction. Rows that
  // PostgreSQL refuses are left out (returned) and the rest commits.
  Result<std::vector<RefusedRow>> write(Connection& c, const std::vector<ExportRow>& rows, const std::string& position);
  const std::string& schema() const { return schema_; }

 private:
  Status ensure_table(Connection& c, const std::string& collection);
  // One upsert statement for rows of one collection.
  Status upsert(Connection& c, const std::string& collection, const std::vector<const ExportRow*>& rows);
  Status write_part(Connection& c, const std::string& collection, const std::vector<const ExportRow*>& rows);
  Status upsert_mapped(Connection& c, const TypedTable& table, const std::vector<const ExportRow*>& rows);
  Status store_position(Connection& c, const std::string& position);

  std::string schema_;
  std::string uplink_;
  const Mapping* mapping_;
  std::map<std::string, TypedTable> typed_;
  std::set<std::string> tables_;  // created (or found) in this session
};

}  // namespace shopsync::postgres
