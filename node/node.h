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
// and fires timers: heartbeats, dead-peer detection, redials with backoff and
// jitter, Replica::tick, and persisting the peers table.
//
// Peers: a link is one ZeroMQ connection (an outbound DEALER, or an inbound
// routing id on the ROUTER); a session is an identified peer (HELLO exchanged)
// and uses one link. Either side dials a peer it is not connected to; when
// both did, the connection kept is the DEALER of the node with the smaller id
// (docs/wire-format.md, "Transport").
//
// Thread-safety: none; everything runs on the thread that calls run().
// request_stop() is the exception: it may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "app/record_service.h"
#include "node/api/api_server.h"
#include "node/api/api_types.h"
#include "node/config.h"
#include "storage/data_dir_lock.h"
#include "node/identity.h"
#include "node/peer_table.h"
#include "node/signals.h"
#include "node/systemd_notify.h"
#include "node/trusted_keys.h"
#include "node/sync_progress.h"
#include "node/wire_codec.h"
#include "node/zmq_socket.h"
#include "replication/clock.h"
#include "replication/replica.h"
#include "replication/strategy_table.h"
#include "storage/lmdb_store.h"

namespace shopsync {

namespace discovery {
struct PeerEvent;
}
namespace postgres {
class PgUplink;
struct PgUplinkStats;
}

// A socket or descriptor that another component (the local API server, the
// discovery responder) wants polled by the node's loop.
struct LoopSource {
  // Called at the start of every turn: add entries to poll and return the
  // longest wait (ms, -1 = no deadline) before on_ready must run anyway.
  std::function<int(std::vector<zmq::PollEntry>& entries)> prepare;
  // Called after poll with the entries this source added (revents filled).
  std::function<void(std::span<const zmq::PollEntry> entries)> on_ready;
};

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

  // Serves until a stop signal or request_stop(); then persists the peers
  // table and returns. Errors only for failures that make serving impossible.
  Status run();
  void request_stop() { stop_requested_.store(true); }
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
  const StrategyTable& strategies() const { return strategies_; }
  std::uint64_t started_ms() const { return started_ms_; }  // wall clock
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
  // The live view of every peer this node knows (connected or not).
  std::vector<PeerRecord> peer_view() const;
  // "till-1 (node 0a1b...), this node": who wrote what an unreadable record holds.
  std::string describe_writers(const std::vector<NodeId>& origins) const;
  // State of each peer for display: "connected", "connecting", "backoff",
  // "refused", "untrusted" (its key is not trusted here), "offline".
  std::string peer_state(NodeId peer) const;
  // How far the sync from `peer` running now has come; nullopt when none runs.
  std::optional<api::SyncProgress> sync_progress(NodeId peer);
  Status trust_add(const std::string& key, const std::string& name);
  Result<bool> trust_remove(const std::string& key);
  // Retires a peer gone for good: its knowledge stops holding back tombstone
  // removal and its row leaves the peers table. refused while it is
  // connected, not_found when it was never known.
  Status forget_peer(NodeId peer);

  Outbox& outbox();
  // Static / uplink / discovered addresses not identified yet, for `peers`.
  std::vector<api::PeerInfo> unidentified_targets() const;
  // What discovery sees and what became of each peer it found (`shopsync doctor`).
  api::DiscoveryReport discovery_report();
  // The PostgreSQL link's figures (node/postgres/pg_uplink.h); null without --postgres.
  const postgres::PgUplinkStats* postgres_stats() const;
  // The bound local API endpoint ("" when none).
  std::string api_endpoint() const { return api_ ? api_->endpoint() : std::string(); }

  void add_source(LoopSource source) { sources_.push_back(std::move(source)); }
  void set_observer(NodeObserver observer) { observer_ = std::move(observer); }

  // The bound sync endpoint (with the real port when --listen used port 0).
  const std::string& sync_endpoint() const { return sync_endpoint_; }

 private:
  struct Link;
  struct Target;
  struct Session;
  struct Learned;
  struct Mdns;
  class NodeOutbox;

  Node(NodeConfig config, NodeIdentity identity);
  Status open_sockets();
  void add_static_targets();
  void start_mdns();
  void stop_mdns();
  // Makes a discovered peer a target, updates its address, or forgets it;
  // `paths` are discovery's live paths to it (none once it is lost).
  void reconcile_discovered(NodeId peer, const std::vector<discovery::PeerEvent>& paths);
  void reconcile_all_discovered();
  // "HOST:PORT" of the connection a session with `peer` runs over ("" when none).
  std::string live_address(NodeId peer) const;
  // Drops discovered targets gone from the LAN for kForgetDiscoveredMs.
  void forget_departed(std::uint64_t now);
  Target* target_of(NodeId peer, std::string_view key);

  // loop turns
  void handle_zap();
  void handle_router();
  void handle_dealer(Link& link);
  void handle_frame(Link& link, const std::string& bytes, const std::string& user_id, const std::string& peer_ip);
  void handle_hello(Link& link, const wire::Hello& hello, const std::string& peer_ip);
  void handle_error(Link& link, const wire::Error& error);
  // After a batch of `records` records in a frame of `bytes` bytes from
  // `peer` was committed: updates its sync progress and logs it when due.
  void note_progress(NodeId peer, std::size_t records, std::size_t bytes, bool more);
  void handle_goodbye(Link& link, const wire::Goodbye& goodbye);
  // A clean stop: GOODBYE on every established link that speaks it, and the
  // sync sockets made to linger (bounded) so that it leaves before they close.
  void say_goodbye(const std::string& reason);
  // Why the peer's strategy table makes a session impossible, or nullopt.
  std::optional<std::string> strategies_differ(const wire::Hello& hello) const;
  std::optional<std::string> strategies_differ(const std::string& name, const std::string& digest,
                                               const std::string& table) const;
  // Ends every link to `peer` (the session's last). `refused`: for a reason
  // of the peer's or ours that stands (strategies), shown in `peers` and
  // redialed after the long backoff.
  void end_peer_links(NodeId peer, const std::string& why, bool refused);
  void remember_refused_peer(Link& link, const wire::Hello& hello);
  // Targets we dial with the key of inbound `link` are `peer`, though our own
  // connection to it is not up yet (its came first): one row in `peers`, not
  // two. Returns one of them, if any.
  Target* identify_targets(const Link& link, NodeId peer);
  void run_timers();
  // SIGHUP (reload.cc): the configuration read again from config_source_;
  // trust, strategies and the log level change at once, a bad configuration
  // is logged and the running one kept.
  void reload();
  Status apply_reload(const NodeConfig& fresh);
  // Stores the keys a configuration names, but not those revoked (logged).
  // Returns the keys that were not trusted before.
  Result<std::vector<std::string>> trust_configured(const std::vector<TrustedKeyRow>& rows);
  // `key` became trusted: targets disabled for it are dialed again, peers
  // found on the LAN with it dialed now.
  void key_trusted(const std::string& key);
  Status change_strategies(StrategyTable table);
  // WATCHDOG=1 when due, and STATUS= when the number of connected peers changed.
  void tell_systemd(std::uint64_t now);
  std::string service_status() const;  // "serving: 2 of 3 peers connected"
  int next_timer_ms() const;

  // links and sessions
  Link& new_inbound_link(const std::string& routing_id, const std::string& key);
  void dial(Target& target);
  void close_link(std::uint64_t link_id, const std::string& why, bool failed);
  void establish(Link& link, const wire::Hello& hello, std::int64_t clock_offset_ms);
  // `link` is known accepted on both sides: the session starts on it or moves
  // to it, as the one-connection rule says.
  void confirm(Link& link);
  // The peer's conversation starts over on `link` (a new session, or the
  // peer's process is not the one the session talked to).
  void restart_conversation(NodeId peer, const Link& link);
  // The peer's wall clock minus ours when it wrote `hello` (for our own dial,
  // half the round trip, measured on the monotonic clock, before now).
  std::int64_t clock_offset_of(const Link& link, const wire::Hello& hello);
  void end_session(NodeId peer, const std::string& why);
  enum class Sent { ok, dropped, failed };
  Sent send_frame(Link& link, const wire::WireMessage& message);
  void send_error(Link& link, wire::ErrorCode code, const std::string& text);
  void flush_outbox();
  // Logs each record the store found unreadable since the last call, once.
  void report_unreadable_records();
  // Logs a write refused for a full disk (rate-limited), naming `operation`.
  void report_disk_full(std::string_view operation, const Status& error);
  void persist_peers(bool all);
  Link* link_by_id(std::uint64_t id);
  Target* target_by_id(std::uint64_t id);
  bool prefers_outbound(NodeId peer) const { return replica_->id() < peer; }
  wire::Hello make_hello() const;
  void say_hello(Link& link);  // sends our HELLO and remembers what it told
  // The monotonic clock: every timer, deadline and duration of the node.
  // clock_ (wall) only for what is stored or shown: HLC, last seen, HELLO clock.
  std::uint64_t now_ms() { return steady_.now_ms(); }
  std::vector<std::string> candidate_keys(const Target& target);
  bool is_trusted(std::string_view key) const;
  // `key` is no longer trusted: ends its connections and takes it out of
  // every dial target (a static peer or the uplink given with it is disabled).
  void forsake_key(const std::string& key);
  void disable_target(Target& target);

  NodeConfig config_;
  std::optional<DataDirLock> data_dir_lock_;  // released last: after the store is closed
  NodeIdentity identity_;
  SystemClock clock_;   // wall
  SteadyClock steady_;  // monotonic (now_ms())
  std::unique_ptr<LmdbStore> store_;
  // The replica writes through it: live and conflicted records per collection
  // stay counted (app/record_counts.h).
  std::unique_ptr<app::CountingStore> counted_;
  std::unique_ptr<Replica> replica_;
  StrategyTable strategies_;  // what this node's replica applies; compared at HELLO
  std::optional<zmq::Context> ctx_;
  zmq::Socket router_;
  zmq::Socket zap_;
  std::optional<StopSignals> signals_;
  std::function<Result<NodeConfig>()> config_source_;
  SystemdNotifier systemd_;             // does nothing unless started by systemd (Type=notify)
  std::string systemd_status_;          // the last STATUS= sent
  std::uint64_t next_watchdog_ms_ = 0;
  std::string sync_endpoint_;
  std::uint16_t listen_port_ = 0;

  std::map<std::uint64_t, std::unique_ptr<Link>> links_;       // by link id
  std::map<std::string, std::uint64_t> inbound_;               // routing id -> link id
  std::map<std::uint64_t, std::unique_ptr<Target>> targets_;   // by target id
  std::map<NodeId, std::unique_ptr<Session>> sessions_;        // identified peers
  std::map<NodeId, Learned> learned_;                          // dial-back addresses not yet targets
  std::map<NodeId, PeerRecord> known_;                         // every peer ever identified
  std::set<NodeId> refused_peers_;  // refused at their last HELLO for a reason of theirs (strategies)
  std::set<NodeId> dirty_;                                     // known_ entries to persist
  std::map<NodeId, std::pair<std::uint64_t, std::uint64_t>> base_counts_;  // records in/out before this run
  std::map<std::string, std::uint64_t> zap_log_ms_;            // throttles "refused" log lines
  std::uint64_t next_id_ = 1;
  std::uint64_t incarnation_ = 0;  // this process, in every HELLO (wire::Hello::incarnation)
  std::map<NodeId, SyncProgress> progress_;  // syncs from peers, by peer (ended ones removed)
  std::map<NodeId, std::uint64_t> disconnected_ms_;  // when each peer's last session ended

  std::unique_ptr<NodeOutbox> outbox_;
  std::unique_ptr<app::RecordService> backend_;  // the DaemonBackend
  std::unique_ptr<api::ApiServer> api_;
  bool records_changed_ = false;  // since the API server was last told
  std::unique_ptr<Mdns> mdns_;
  std::vector<LoopSource> sources_;
  std::shared_ptr<postgres::PgUplink> postgres_;  // also held by its loop source
  NodeObserver observer_;
  std::mt19937_64 rng_;
  std::atomic<bool> stop_requested_{false};
  std::uint64_t started_ms_ = 0;         // wall
  std::uint64_t started_steady_ms_ = 0;  // monotonic
  // Deadlines below, and every *_ms of Link, Target, Learned, Session and
  // Mdns (node_parts.h), are monotonic (now_ms()).
  std::uint64_t next_tick_ms_ = 0;
  static constexpr std::uint64_t kDiskFullLogMs = 10'000;
  std::uint64_t disk_full_logged_ms_ = 0;  // steady ms of the last disk-full line; 0: none yet
  std::uint64_t disk_full_unlogged_ = 0;   // refusals since then, left out of the log
  std::uint64_t next_persist_ms_ = 0;
  std::uint64_t next_flush_ms_ = 0;
};

}  // namespace shopsync
