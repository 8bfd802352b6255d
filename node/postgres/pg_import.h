// PostgreSQL -> cluster: a row change of the logical replication stream as
// a write of the uplink (docs/uplink.md, "PostgreSQL").
//
// row_to_write: the default layout (pg_export.h), a table <schema>.<collection> with an
// `id` text key, `fields` jsonb (a JSON object: field name -> value) and a
// `deleted` boolean. INSERT and UPDATE become a put of the whole record
// (or a delete when `deleted` is true); DELETE becomes a delete. JSON values
// are packed as the CLI packs them (api/json_values.h, tagged_object:
// {"$binary": "<base64>"} is binary). typed_row_to_write: a table of the
// mapping file (pg_mapping.h).
//
// Pure functions; thread-safe.
#pragma once

#include <optional>

#include "core/status.h"
#include "node/postgres/pg_mapping.h"
#include "node/postgres/pgoutput.h"
#include "replication/replica.h"

namespace shopsync::postgres {

// What the change asks of the cluster; nullopt when nothing (a table of
// another schema, the position table, an UPDATE that left `fields` and
// `deleted` as they were). invalid_argument naming the table and row when
// the row cannot be carried: a table without a primary key, without the
// layout's columns, `fields` not a JSON object.
Result<std::optional<LocalWrite>> row_to_write(const std::string& schema, const Relation& relation,
                                               const RowChange& change);

// The same for a table the mapping file maps (pg_mapping.h): INSERT and
// UPDATE become a patch of the mapped fields (the record's other fields are
// kept; a NULL column removes its field), DELETE a delete. invalid_argument
// naming the table, row and column when a value does not convert, or a
// DELETE does not carry the key column (the table's replica identity is
// another column).
Result<std::optional<LocalWrite>> typed_row_to_write(const TableMapping& mapping, const Relation& relation,
                                                     const RowChange& change);

}  // namespace shopsync::postgres
