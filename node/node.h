// The node: one event loop that owns every socket of shopsyncd and is the only
// writer of its store (DESIGN.md, "Node daemon").
//
// Node::open() prepares everything that can fail at start (data directory,
// identity, store, replica, sockets bound), so that run() only serves. run()
// polls, on ONE thread:
//   - the sync ROUTER (--listen, CURVE server) and one DEALER per outbound link,
//   - the ZAP REP socket that admits CURVE clients by the trusted-key list,
//   - the stop signals (signalfd),
//   - the local API socket and the discovery descriptors, when present,
// and fires timers: persisting the peers table, flushing the store, the
// systemd watchdog, and Peering's (heartbeats, dead-peer detection, redials,
// Replica::tick). Between events it sleeps until the earliest deadline of
// them all and of its sources (Node::next_timer_ms).
//
// The node composes its parts and turns the loop; each part is its own:
//   - the session rules (HELLO, the one-connection rule, refusals, targets,
//     trust decisions): Peering (node/peering/peering.h), which has no I/O;
//   - the sync sockets and ZAP under it: SyncTransport (node/sync_transport.h);
//   - DNS-SD discovery reconciled with it: LanPeers (node/lan_peers.h);
//   - the local API (api/api_server.h), the HTTP gateway and the
//     PostgreSQL link (LoopSources), all through app::RecordService.
//
// Thread-safety: none; everything runs on the thread that calls run().
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "api/api_server.h"
#include "api/api_types.h"
#include "app/record_service.h"
#include "net/zmq_socket.h"
#include "node/config.h"
#include "node/disk_flusher.h"
#include "node/disk_full_log.h"
#include "node/grant_keeper.h"
#include "node/identity.h"
#include "node/loop_source.h"
#include "node/peer_table.h"
#include "node/peering/peering.h"
#include "node/signals.h"
#include "node/sync_progress.h"
#include "node/systemd_notify.h"
#include "node/trust_list.h"
#include "node/trusted_keys.h"
#include "node/wire_codec.h"
#include "replication/clock.h"
#include "replication/replica.h"
#include "replication/strategy_table.h"
#include "storage/data_dir_lock.h"
#include "storage/lmdb_store.h"

namespace shopsync {

class LanPeers;
class SyncTransport;
namespace postgres {
class PgUplink;
struct PgUplinkStats;
}

// Notices for local consumers (the API's changes feed and long polls).
struct NodeObserver {
  std::function<void(const RecordKey&, const VisibleRecord*)> changed;
  std::function<void(const ConflictEntry&)> conflict;
};

class Node {
 public:
  // Everything that can fail at start. Errors name the step: invalid_argument
  // (bad config), refused (data dir of another cluster), the store's errors,
  // unavailable (a port in use).
  static Result<std::unique_ptr<Node>> open(NodeConfig config);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Serves until a stop signal; then persists the peers table and returns.
  // Errors only for failures that make serving impossible.
  Status run();
  // Where SIGHUP reads the configuration again (main(): the same flags and
  // config file as at start). Without one, SIGHUP reloads nothing.
  void set_config_source(std::function<Result<NodeConfig>()> source) { config_source_ = std::move(source); }

  // ---- for the local API (called on the loop thread) ----
  Replica& replica() { return *replica_; }
  LmdbStore& store() { return *store_; }
  // The store the replica writes through, counting records (app/record_counts.h).
  app::CountingStore& counted_store() { return *counted_; }
  const NodeConfig& config() const { return config_; }
  const NodeIdentity& identity() const { return identity_; }
  const StrategyTable& strategies() const { return peering_->strategies(); }
  std::uint64_t started_ms() const { return started_ms_; }  // wall clock
  // The monotonic clock: every timer, deadline and duration of the node.
  // clock_ (wall) only for what is stored or shown: HLC, last seen, HELLO clock.
  std::uint64_t now_ms() { return steady_.now_ms(); }
  // How long the node has been serving (monotonic: a clock step changes nothing).
  std::uint64_t uptime_ms() { return now_ms() - started_steady_ms_; }
  // Runs a replica command whose messages go to peers: the outbox is flushed
  // after `command` returns.
  template <class F>
  auto with_outbox(F&& command) {
    auto result = command(*replica_, outbox());
    flush_outbox();
    return result;
  }
  // The session rules' view of the peers: rows, states, sessions, progress.
  const Peering& peering() const { return *peering_; }
  Status trust_add(const std::string& key, const std::string& name);
  Result<bool> trust_remove(const std::string& key);
  // Retires a peer gone for good: its knowledge stops holding back tombstone
  // removal and its row leaves the peers table. refused while it is
  // connected, not_found when it was never known.
  Status forget_peer(NodeId peer);

  // The cluster's grants as this node applies them (node/grant_policy.h).
  const GrantPolicy& grants() const { return grants_->policy(); }
  // This node's grant changed since it started: its read scope is still the
  // one it started with until a restart (docs/operations.md, "Grants").
  bool own_grant_changed() const { return grants_->own_grant_changed(); }
  // SIGHUPs that applied a configuration since start, and why the last one
  // did not ("" when it did, or none came).
  std::uint64_t reloads() const { return reloads_; }
  const std::string& reload_error() const { return reload_error_; }
  // Records of peers' batches refused as outside their write scope, since start.
  std::uint64_t records_refused() const { return grants_->records_refused(); }

  Outbox& outbox();
  // What discovery sees and what became of each peer it found (`shopsync doctor`).
  api::DiscoveryReport discovery_report();
  // The PostgreSQL link's figures (node/postgres/pg_uplink.h); null without --postgres.
  const postgres::PgUplinkStats* postgres_stats() const;
  // The bound local API endpoint ("" when none).
  std::string api_endpoint() const { return api_ ? api_->endpoint() : std::string(); }

  void add_source(LoopSource source) { sources_.push_back(std::move(source)); }
  void set_observer(NodeObserver observer) { observer_ = std::move(observer); }

  // The bound sync endpoint (with the real port when --listen used port 0).
  const std::string& sync_endpoint() const;

 private:
  class NodeOutbox;

  Node(NodeConfig config, NodeIdentity identity);
  // open()'s steps, in order. The store, its meta, the grants, the replica:
  Status open_replica(const StrategyTable& strategies);
  // The trusted keys, the sync sockets (bound), Peering over them with the
  // peers table and the static targets:
  Status open_peering(StrategyTable strategies);
  Status open_api();
  // Discovery, the PostgreSQL link, the HTTP gateway:
  Status open_sources();
  void log_started() const;
  // A clean stop: GOODBYE on every established link that speaks it, and the
  // sync sockets made to linger (bounded) so that it leaves before they close.
  void say_goodbye(const std::string& reason);
  void run_timers();
  // SIGHUP (reload.cc): the configuration read again from config_source_;
  // trust, strategies and the log level change at once, a bad configuration
  // is logged and the running one kept.
  void reload();
  Status apply_reload(const NodeConfig& fresh);
  // `key` became trusted: targets disabled for it are dialed again, peers
  // found on the LAN with it dialed now.
  void key_trusted(const std::string& key);
  Status change_strategies(StrategyTable table);
  // WATCHDOG=1 when due, and STATUS= when the number of connected peers changed.
  void tell_systemd(std::uint64_t now);
  std::string service_status() const;  // "serving: 2 of 3 peers connected"
  // How long the loop may sleep: until the earliest deadline of the timers
  // above, Peering's and the local API's (ms).
  int next_timer_ms();

  void flush_outbox();
  // Logs each record the store found unreadable since the last call, once.
  void report_unreadable_records();
  void persist_peers(bool all);
  // Both clocks, for an event given to Peering.
  peering::Now now() { return peering::Now{steady_.now_ms(), clock_.now_ms()}; }
  bool is_trusted(std::string_view key) const { return trust_->contains(key); }
  // `key` is no longer trusted: ends its connections and takes it out of
  // every dial target (a static peer or the uplink given with it is disabled).
  void forsake_key(const std::string& key);

  NodeConfig config_;
  std::optional<DataDirLock> data_dir_lock_;  // released last: after the store is closed
  NodeIdentity identity_;
  SystemClock clock_;   // wall
  SteadyClock steady_;  // monotonic (now_ms())
  std::unique_ptr<LmdbStore> store_;
  // The replica writes through it: live and conflicted records per collection
  // stay counted (app/record_counts.h).
  std::unique_ptr<app::CountingStore> counted_;
  std::unique_ptr<GrantKeeper> grants_;  // the replica's AccessPolicy: declared before it, outlives it
  std::unique_ptr<Replica> replica_;
  std::unique_ptr<TrustList> trust_;  // the trusted keys in the store
  std::optional<zmq::Context> ctx_;
  std::optional<StopSignals> signals_;
  std::function<Result<NodeConfig>()> config_source_;
  std::uint64_t reloads_ = 0;
  std::string reload_error_;
  SystemdNotifier systemd_;             // does nothing unless started by systemd (Type=notify)
  std::string systemd_status_;          // the last STATUS= sent
  std::uint64_t next_watchdog_ms_ = 0;
  std::uint64_t incarnation_ = 0;  // this process, in every HELLO (wire::Hello::incarnation)

  std::unique_ptr<NodeOutbox> outbox_;
  std::unique_ptr<SyncTransport> transport_;  // the sockets under peering_
  LoopSource sync_source_;                    // transport_'s
  std::unique_ptr<Peering> peering_;          // the session rules
  std::unique_ptr<app::RecordService> backend_;  // the DaemonBackend
  std::unique_ptr<api::ApiServer> api_;
  bool records_changed_ = false;  // since the API server was last told
  std::unique_ptr<LanPeers> lan_;
  std::vector<LoopSource> sources_;
  std::shared_ptr<postgres::PgUplink> postgres_;  // also held by its loop source
  NodeObserver observer_;
  std::mt19937_64 rng_;
  bool stop_requested_ = false;
  std::uint64_t started_ms_ = 0;         // wall
  std::uint64_t started_steady_ms_ = 0;  // monotonic
  DiskFullLog disk_full_;
  std::unique_ptr<DiskFlusher> flusher_;  // --durability interval only; declared after store_, stops before it
  // Deadlines below are monotonic (now_ms()).
  std::uint64_t next_persist_ms_ = 0;
  std::uint64_t next_flush_ms_ = 0;
  std::uint64_t flushed_writes_ = 0;  // store_->writes() at the last flush asked for
};

}  // namespace shopsync
