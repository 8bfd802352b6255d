// PostgreSQL -> cluster: a row change of the logical replication stream as
// a write of the uplink (docs/uplink.md, "PostgreSQL").
//
// Default layout only (pg_export.h): a table <schema>.<collection> with an
// `id` text key, `fields` jsonb (a JSON object: field name -> value) and a
// `deleted` boolean. INSERT and UPDATE become a put of the whole record
// (or a delete when `deleted` is true); DELETE becomes a delete. JSON values
// are packed as the CLI packs them (node/api/json_values.h, tagged_object:
// {"$binary": "<base64>"} is binary).
//
// Pure functions; thread-safe.
#pragma once

#include <optional>

#include "node/postgres/pgoutput.h"
#include "replication/replica.h"
#include "core/status.h"

namespace shopsync::postgres {

// What the change asks of the cluster; nullopt when nothing (a table of
// another schema, the position table, an UPDATE that left `fields` and
// `deleted` as they were). invalid_argument naming the table and row when
// the row cannot be carried: a table without a primary key, without the
// layout's columns, `fields` not a JSON object.
Result<std::optional<LocalWrite>> row_to_write(const std::string& schema, const Relation& relation,
                                               const RowChange& change);

}  // namespace shopsync::postgres
