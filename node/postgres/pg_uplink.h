// The uplink's PostgreSQL link (docs/uplink.md, "PostgreSQL"), driven by the
// node's event loop as a loop source.
//
//   cluster -> PostgreSQL: the node's changes feed (RecordService::changes)
//     from the position stored in PostgreSQL, each page written by PgExport
//     in one PostgreSQL transaction with the new position. The session runs
//     with a replication origin set (pg_replication_origin_session_setup),
//     so that its transactions are known when they come back.
//   PostgreSQL -> cluster: logical replication (publication
//     shopsync_<cluster> FOR TABLES IN SCHEMA <cluster>, one slot for the
//     cluster, pgoutput), read without blocking from the slot by the one
//     uplink of the cluster that streams it (take_slot);
//     each committed PostgreSQL transaction's rows become local writes of
//     this node (uplink writes: server_wins means PostgreSQL wins), applied
//     in ONE LMDB commit with the LSN after it (settings "postgres/lsn").
//     A restart asks the slot for what follows that LSN and skips
//     transactions at or below it: each is applied exactly once.
//     Transactions with a replication origin named shopsync_* are the
//     uplinks' own exports and are not imported back.
//
// Failures: PostgreSQL unreachable or restarted -> one log line, the
// connections dropped, retried with backoff (0.5 s doubling to 10 s); a row
// either side refuses -> a log line and a counter, and the rest flows.
//
// Connecting does not block the loop (libpq's PQconnectStartParams and
// PQconnectPoll on the loop's poll, at most 10 s per attempt); the
// statements that follow and those of one batch run synchronously
// (loopback or LAN latency).
//
// Thread-safety: none; the node's loop thread only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "app/record_service.h"
#include "net/zmq_socket.h"
#include "node/postgres/pg_connection.h"
#include "node/postgres/pg_export.h"
#include "node/postgres/pg_mapping.h"
#include "node/postgres/pgoutput.h"
#include "replication/clock.h"
#include "replication/replica.h"

namespace shopsync::postgres {

// The settings key of the last PostgreSQL LSN applied to this store.
inline constexpr std::string_view kLsnSetting = "postgres/lsn";

// The cluster's replication slot: shopsync_<cluster, lower case, [-.] as _>_<8
// hex digits of a hash of the exact name>, [a-z0-9_] and at most 58 characters.
std::string slot_name(const std::string& cluster);

struct PgUplinkOptions {
  std::string conninfo;
  std::string schema;  // the cluster's name
  NodeId node = 0;     // names the slot and the replication origin
  std::uint32_t batch_rows = 1000;
  std::optional<Mapping> mapping;  // --postgres-mapping: collections in typed tables
};

// For /metrics and `shopsync doctor`.
struct PgUplinkStats {
  bool connected = false;
  bool importing = false;             // this uplink streams the slot
  std::uint64_t exported_rows = 0;   // rows written to PostgreSQL
  std::uint64_t imported_rows = 0;   // rows applied to the cluster
  std::uint64_t refused_exports = 0;  // records PostgreSQL refused
  std::uint64_t refused_imports = 0;  // rows the cluster refused (limits, layout)
  std::uint64_t failures = 0;         // connections lost or refused
  std::uint64_t unusable_tables = 0;   // mapped tables that do not fit the mapping (logged)
  std::int64_t slot_retained_bytes = -1;  // WAL the slot holds back (-1: unknown)
  std::string slot_wal_status;            // pg_replication_slots.wal_status ("lost": invalidated)
  std::string last_error;
};

class PgUplink {
 public:
  // All references must outlive the link. `steady`: the loop's monotonic clock.
  PgUplink(Replica& replica, app::CountingStore& store, Outbox& outbox, Clock& steady, PgUplinkOptions options);
  ~PgUplink();

  // LoopSource::prepare / on_ready.
  int prepare(std::vector<zmq::PollEntry>& entries);
  void on_ready(std::span<const zmq::PollEntry> entries);
  const PgUplinkStats& stats() const { return stats_; }
  // Prometheus exposition lines of the stats.
  std::string metrics_text() const;

 private:
  struct Session;     // the two connections and the stream's state
  struct Connecting;  // the two connections while they are being opened
  class Feed;      // the changes feed
  void poll_connecting(std::span<const zmq::PollEntry> entries);
  Status connect(Connection sql, Connection stream);
  Status ensure_slot();
  Status take_slot(bool first);
  Status prepare_mapped_tables(Connection& c);
  Status full_resync(Lsn from);
  Status resync_typed(const TypedTable& table, std::vector<LocalWrite>& writes);
  Status collect(Result<std::optional<LocalWrite>> write, std::vector<LocalWrite>& writes);
  Result<std::optional<LocalWrite>> to_write(const Relation& relation, const RowChange& change) const;
  void disconnect(const Status& why);
  Status read_stream();
  Status handle_message(const PgOutputMessage& message);
  Status apply_imports();
  Status export_batch();
  Status send_status(bool reply_requested);
  void refresh_slot_stats();
  Status apply_writes(std::vector<LocalWrite> writes, Lsn lsn);
  std::optional<Lsn> stored_lsn();

  Replica& replica_;
  Store& store_;
  Outbox& outbox_;
  Clock& steady_;
  PgUplinkOptions options_;
  std::unique_ptr<Feed> feed_;
  PgExport export_;
  std::string origin_;        // this uplink's replication origin: shopsync_<node id>
  std::string slot_;          // the cluster's slot
  std::string publication_;
  std::unique_ptr<Connecting> connecting_;
  std::unique_ptr<Session> session_;
  VersionVector cursor_;            // exported up to (as stored in PostgreSQL)
  VersionVector exported_knowledge_;  // the node's knowledge when the feed was last read to its end
  Lsn applied_lsn_ = 0;
  std::uint64_t next_attempt_ms_ = 0;
  std::uint64_t backoff_ms_ = 0;
  std::uint64_t next_status_ms_ = 0;
  bool outage_logged_ = false;
  PgUplinkStats stats_;
};

}  // namespace shopsync::postgres
