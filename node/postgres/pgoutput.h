// The logical replication stream of PostgreSQL, decoded: the CopyData
// framing of START_REPLICATION (XLogData 'w', keepalive 'k') and, inside
// XLogData, the messages of the `pgoutput` plugin, protocol version 1
// (PostgreSQL documentation, "Logical Replication Message Formats").
//
// Bytes come from the server and are decoded with bounds checks: a short or
// malformed message is corrupt, never read past its end. Messages the
// uplink does not use (Type, Truncate, logical Message) decode to Ignored.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace shopsync::postgres {

using Lsn = std::uint64_t;
std::string format_lsn(Lsn lsn);  // "16/B374D848"
std::optional<Lsn> parse_lsn(std::string_view text);

// ---- CopyData framing
struct XLogData {
  Lsn start = 0;
  Lsn end = 0;
  std::string payload;  // one pgoutput message
};
struct Keepalive {
  Lsn wal_end = 0;
  bool reply_requested = false;
};
Result<std::variant<XLogData, Keepalive>> decode_copy_data(std::string_view bytes);
// The standby status update ('r') telling the server what is written,
// flushed and applied (all `applied`); `now_us`: microseconds since 2000-01-01.
std::string standby_status(Lsn applied, std::int64_t now_us, bool reply_requested);

// ---- pgoutput messages
struct Begin {
  Lsn final_lsn = 0;  // the commit record's position
  std::uint32_t xid = 0;
};
struct Commit {
  Lsn commit_lsn = 0;
  Lsn end_lsn = 0;  // where to restart after this transaction
};
// The transaction was made by a session with a replication origin set.
struct Origin {
  std::string name;
};
struct Column {
  std::string name;
  std::uint32_t type_oid = 0;
  bool key = false;  // part of the replica identity
};
struct Relation {
  std::uint32_t oid = 0;
  std::string schema;
  std::string name;
  std::vector<Column> columns;
};
struct TupleValue {
  enum class Kind { null, unchanged, text };
  Kind kind = Kind::null;
  std::string text;
};
using Tuple = std::vector<TupleValue>;
struct RowChange {
  enum class Op { insert, update, remove };
  Op op = Op::insert;
  std::uint32_t relation = 0;
  Tuple tuple;  // insert/update: the new row; remove: the key (or old row)
};
struct Ignored {
  char type = 0;
};
using PgOutputMessage = std::variant<Begin, Commit, Origin, Relation, RowChange, Ignored>;

Result<PgOutputMessage> decode_pgoutput(std::string_view bytes);

}  // namespace shopsync::postgres
