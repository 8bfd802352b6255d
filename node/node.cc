// Node: start-up, the event loop and its timers. The sync sockets are
// SyncTransport's, the session rules Peering's, discovery LanPeers'.
#include "node/node.h"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "api/api_credential.h"
#include "net/public_key_text.h"
#include "node/daemon_backend.h"
#include "node/forget_peer.h"
#include "node/gateway_source.h"
#include "node/lan_peers.h"
#include "node/log.h"
#include "node/node_parts.h"
#include "node/postgres_source.h"
#include "node/sync_transport.h"
#include "node/trusted_keys.h"
#include "node/writers.h"

namespace shopsync {

namespace {

NodeId random_node_id() {
  std::random_device rd;
  NodeId id = 0;
  while (id == 0) id = (static_cast<NodeId>(rd()) << 32) ^ rd();
  return id;
}

}  // namespace

Node::Node(NodeConfig config, NodeIdentity identity)
    : config_(std::move(config)),
      identity_(std::move(identity)),
      outbox_(std::make_unique<NodeOutbox>(*this)),
      rng_(std::random_device{}()) {
  while (incarnation_ == 0) incarnation_ = rng_();
}

Node::~Node() {
  sources_.clear();
  lan_.reset();
  // Sockets before the context (zmq_ctx_term waits for them otherwise).
  api_.reset();
  peering_.reset();
  transport_.reset();
}

Outbox& Node::outbox() { return *outbox_; }

void Node::NodeOutbox::conflict(const ConflictEntry& entry) {
  SHOPSYNC_LOG(info, "conflict on " << entry.key.collection << "/" << entry.key.id << ": " << entry.siblings.size()
                                    << " concurrent versions, strategy " << entry.strategy << ", winner "
                                    << node_id_text(entry.winner.origin) << ":" << entry.winner.counter
                                    << (entry.near_simultaneous ? " (near-simultaneous writes)" : ""));
  if (node_.observer_.conflict) node_.observer_.conflict(entry);
}

void Node::NodeOutbox::refused(NodeId from, const RecordKey& key, const std::string& why) {
  const auto it = node_.peering_->known().find(from);
  node_.grants_->refused(from, it == node_.peering_->known().end() ? std::string() : it->second.name, key, why);
}

Result<std::unique_ptr<Node>> Node::open(NodeConfig config) {
  log::set_threshold(config.log_level);
  SHOPSYNC_TRY(ensure_data_dir(config.data_dir));
  auto lock = DataDirLock::acquire(config.data_dir);
  if (!lock) return lock.status();
  auto identity = load_or_create_identity(config.data_dir);
  if (!identity) return identity.status().context("loading the node identity");
  if (identity->created) SHOPSYNC_LOG(info, "created the CURVE key pair of this node in " << config.data_dir.string());

  std::unique_ptr<Node> node(new Node(std::move(config), std::move(*identity)));
  node->data_dir_lock_.emplace(std::move(*lock));

  auto table = strategy_table_of(node->config_);
  if (!table) return table.status();
  SHOPSYNC_TRY(node->open_replica(*table));
  auto signals = StopSignals::open();
  if (!signals) return signals.status();
  node->signals_.emplace(std::move(*signals));
  node->systemd_ = SystemdNotifier::from_environment();
  SHOPSYNC_TRY(node->open_peering(std::move(*table)));
  SHOPSYNC_TRY(node->open_api());
  SHOPSYNC_TRY(node->open_sources());

  node->data_dir_lock_->announce_api(node->api_endpoint());
  node->log_started();
  return node;
}

const postgres::PgUplinkStats* Node::postgres_stats() const { return postgres_ ? &postgres_->stats() : nullptr; }

// The store, its meta (which cluster, which node), the grants and the replica.
Status Node::open_replica(const StrategyTable& table) {
  StoreOptions store_options;
  store_options.sync_each_commit = config_.sync_each_commit;
  auto store = LmdbStore::open(config_.data_dir, store_options);
  if (!store) return store.status().context("opening the store in " + config_.data_dir.string());
  store_ = std::move(*store);
  if (!config_.sync_each_commit) {
    flusher_ = std::make_unique<DiskFlusher>([store = store_.get()] { return store->flush(); });
  }

  std::optional<NodeMeta> meta;
  SHOPSYNC_TRY(store_->read([&](StoreReader& r) -> Status {
    auto m = r.node_meta();
    if (!m) return m.status();
    meta = std::move(*m);
    return Status::ok();
  }).context("reading the node meta"));

  ReplicaOptions options;
  if (meta && !meta->cluster.empty()) {
    if (config_.cluster && *config_.cluster != meta->cluster) {
      return Status::refused("data directory " + config_.data_dir.string() + " belongs to cluster '" + meta->cluster +
                             "'; refusing to start it in cluster '" + *config_.cluster +
                             "' (use another --data directory for another cluster)");
    }
    options.cluster = meta->cluster;
  } else {
    options.cluster = config_.cluster.value_or("default");
  }
  config_.cluster = options.cluster;
  options.node_id = meta ? 0 : random_node_id();
  options.uplink = config_.role == Role::uplink;
  options.pull_interval_ms = config_.pull_interval_ms;
  options.timers = &steady_;
  options.max_clock_offset_ms = config_.max_clock_skew_ms;
  options.strategies = table.collections;
  options.default_strategy = table.default_kind;
  options.tolerance_ms = table.tolerance_ms;
  // Kept in the store for the inspector, which compares the tables of two
  // data directories (docs/inspector.md, "diff").
  Status stored = store_->write([&](StoreWriter& w) {
    SHOPSYNC_TRY(w.put(Table::settings, kNodeNameSetting, config_.name));
    return w.put(Table::settings, kStrategiesSetting, to_text(table));
  });
  SHOPSYNC_TRY(stored.context("storing the node's name and strategy table"));
  // Format 1 rows of the peers table held the peers' knowledge and counters:
  // they move to the replica's settings before it loads them.
  auto migrated = migrate_peers_table(*store_);
  if (!migrated) return migrated.status();
  if (*migrated > 0) SHOPSYNC_LOG(info, "moved the knowledge and counters of " << *migrated << " peers to the replica's state (peers table format 2)");
  // A node's grant is stored under its key in the spoken form.
  const NodeId own_id = meta ? meta->node_id : options.node_id;
  grants_ = std::make_unique<GrantKeeper>(*store_, own_id, [this, own_id](NodeId node) -> std::string {
    if (node == own_id) return format_public_key(config_.insecure ? std::string() : identity_.public_key);
    if (!peering_) return "";
    const auto it = peering_->known().find(node);
    return it == peering_->known().end() ? std::string() : format_public_key(it->second.public_key);
  });
  SHOPSYNC_TRY(grants_->load(table).context("reading the grants"));
  options.access = &grants_->policy();
  counted_ = std::make_unique<app::CountingStore>(*store_);
  auto replica = Replica::open(*counted_, clock_, options);
  if (!replica) return replica.status().context("opening the replica");
  replica_ = std::move(*replica);
  return app::start_counting(*counted_, *replica_);
}

Status Node::open_peering(StrategyTable strategies) {
  // Keys the operator named on the command line are trusted, unless revoked:
  // a `shopsync trust rm` outlives the flags that named the key, until
  // `shopsync trust add` lifts it.
  const std::uint64_t wall = clock_.now_ms();
  trust_ = std::make_unique<TrustList>(*store_, clock_);
  if (auto trusted = trust_->add_configured(configured_keys(config_, wall)); !trusted) {
    return trusted.status().context("storing the trusted keys given on the command line");
  }
  std::vector<std::string> skipped;
  std::vector<PeerRecord> known;
  SHOPSYNC_TRY(store_->read([&](StoreReader& r) -> Status {
    auto peers = load_peers(r, &skipped);
    if (!peers) return peers.status();
    known = std::move(*peers);
    return Status::ok();
  }).context("loading the peers table"));
  for (const auto& s : skipped) SHOPSYNC_LOG(warn, "ignoring a peers table entry that does not decode: " << s);

  auto ctx = zmq::Context::create();
  if (!ctx) return ctx.status();
  ctx_.emplace(std::move(*ctx));
  SyncTransport::Options sockets;
  sockets.listen = config_.listen;
  sockets.insecure = config_.insecure;
  sockets.handshake_ms = config_.peer_timeout_ms;
  SyncTransport::Hooks hooks;
  hooks.is_trusted = [this](std::string_view key) { return is_trusted(key); };
  hooks.trusted_keys = [this] { return trust_->keys(); };
  hooks.heard_from = [this](NodeId peer) {
    if (lan_) lan_->heard_from(peer);
  };
  hooks.vanished = [this](NodeId peer) {
    if (lan_) lan_->vanished(peer);
  };
  auto transport = SyncTransport::open(*ctx_, identity_, std::move(sockets), std::move(hooks));
  if (!transport) return transport.status();
  transport_ = std::move(*transport);
  sync_source_ = transport_->source();

  peering::Options rules;
  rules.cluster = *config_.cluster;
  rules.name = config_.name;
  rules.role = config_.role;
  rules.insecure = config_.insecure;
  rules.own_key = identity_.public_key;
  rules.listen_port = transport_->port();
  rules.incarnation = incarnation_;
  rules.heartbeat_ms = config_.heartbeat_ms;
  rules.peer_timeout_ms = config_.peer_timeout_ms;
  rules.max_clock_skew_ms = config_.max_clock_skew_ms;
  rules.progress_log_ms = config_.progress_log_ms;
  rules.strategies = std::move(strategies);
  rules.seed = rng_();
  peering_ = std::make_unique<Peering>(std::move(rules), *replica_, *outbox_, *transport_);
  transport_->attach(*peering_, [this] { return now(); });
  peering_->load(std::move(known));
  for (const auto& p : config_.peers) peering_->add_target(p, PeerSource::static_peer, now());
  if (config_.uplink) peering_->add_target(*config_.uplink, PeerSource::uplink, now());
  started_ms_ = wall;
  started_steady_ms_ = now_ms();
  return Status::ok();
}

Status Node::open_api() {
  // The application service (app/record_service.h): the local API and the
  // gateway reach the replica through it.
  if (!config_.api.empty() || !config_.http.empty()) backend_ = std::make_unique<DaemonBackend>(*this);
  if (config_.api.empty()) return Status::ok();
  api::ApiServerOptions options;
  options.on_error = [this](std::optional<api::Op> op, const Status& error) {
    if (error.code() == Errc::disk_full) disk_full_.report(op ? api::to_string(*op) : "a request", error, now_ms());
  };
  if (config_.api_auth) {
    auto credential = api::ensure_api_credential(config_.data_dir);
    if (!credential) return credential.status().context("the local API's credential (--api-auth)");
    options.credential = std::move(*credential);
  }
  auto api = api::ApiServer::bind(ctx_->handle(), config_.api, *backend_, std::move(options));
  if (!api) return api.status().context("starting the local API (--api)");
  if ((*api)->endpoint().starts_with("ipc://")) {
    // The socket file's permissions say who may connect: the node's user and group.
    ::chmod((*api)->endpoint().substr(6).c_str(), 0660);
  }
  api_ = std::move(*api);
  return Status::ok();
}

Status Node::open_sources() {
  LanPeers::Self self{replica_->id(), identity_.public_key, transport_->port()};
  lan_ = LanPeers::start(config_, self, *peering_, [this] { return now(); },
                         [this](std::string_view key) { return is_trusted(key); });
  add_source(lan_->source());
  auto flush = [this] { flush_outbox(); };
  auto pg = open_postgres_link(config_, *replica_, *counted_, outbox(), steady_);
  if (!pg) return pg.status();
  if (*pg) {
    postgres_ = *pg;
    add_source(postgres_source(*pg, flush));
  }
  if (!config_.http.empty()) {
    std::function<std::string()> more_metrics;
    if (*pg) more_metrics = [link = *pg] { return link->metrics_text(); };
    auto gateway = open_gateway_source(ctx_->handle(), config_, *backend_,
                                       node_gateway_hooks(*this, std::move(more_metrics)), flush);
    if (!gateway) return gateway.status();
    add_source(std::move(*gateway));
  }
  return Status::ok();
}

void Node::log_started() const {
  SHOPSYNC_LOG(info, "shopsyncd " << PROJECT_VERSION_TEXT << " node " << node_id_text(replica_->id()) << " '"
                                   << config_.name << "' cluster '" << *config_.cluster << "' role " << to_string(config_.role)
                                   << ", sync on " << sync_endpoint() << ", API on " << api_endpoint()
                                   << ", data in " << config_.data_dir.string());
  if (!config_.sync_each_commit) {
    SHOPSYNC_LOG(info, "--durability interval: commits are flushed to disk every " << kFlushMs << " ms");
  }
  if (config_.insecure) {
    SHOPSYNC_LOG(warn, "**************************************************************");
    SHOPSYNC_LOG(warn, "--insecure: the sync port has NO encryption and NO authentication.");
    SHOPSYNC_LOG(warn, "Anyone who can reach " << sync_endpoint() << " can read and change every record.");
    SHOPSYNC_LOG(warn, "Use it for development only.");
    SHOPSYNC_LOG(warn, "**************************************************************");
  } else {
    SHOPSYNC_LOG(info, "CURVE public key " << format_public_key(identity_.public_key));
  }
}

const std::string& Node::sync_endpoint() const { return transport_->endpoint(); }

api::DiscoveryReport Node::discovery_report() {
  return lan_->report(static_cast<std::uint32_t>(config_.peers.size() + (config_.uplink ? 1 : 0)));
}

Status Node::run() {
  // open() left the store open and every socket bound: a client that
  // connected already is answered by the first turn of the loop.
  systemd_status_ = service_status();
  systemd_.notify("READY=1\nSTATUS=" + systemd_status_);
  std::vector<zmq::PollEntry> entries;
  std::vector<std::size_t> source_begin;
  while (!stop_requested_) {
    entries.clear();
    entries.push_back({nullptr, signals_->fd()});
    sync_source_.prepare(entries);
    const std::size_t sync_end = entries.size();
    const std::size_t api_index = entries.size();
    if (api_) entries.push_back({api_->socket()});
    int timeout = next_timer_ms();
    source_begin.clear();
    for (auto& source : sources_) {
      source_begin.push_back(entries.size());
      const int t = source.prepare ? source.prepare(entries) : -1;
      if (t >= 0) timeout = std::min(timeout, t);
    }
    source_begin.push_back(entries.size());

    auto ready = zmq::poll(entries, std::chrono::milliseconds(timeout));
    if (!ready) return ready.status().context("event loop");

    if (entries[0].readable) {
      while (auto sig = signals_->take()) {
        if (*sig == SIGHUP) {
          reload();
          continue;
        }
        SHOPSYNC_LOG(info, "signal " << *sig << " received: stopping");
        stop_requested_ = true;
      }
    }
    sync_source_.on_ready(std::span<const zmq::PollEntry>(entries).subspan(1, sync_end - 1));
    if (Status s = replica_->commit_queued(outbox()); !s) SHOPSYNC_LOG(error, "received batches not committed: " << s.to_string());
    flush_outbox();
    if (api_ && entries[api_index].readable) {
      if (Status s = api_->on_readable(); !s) SHOPSYNC_LOG(error, "local API: " << s.to_string());
      flush_outbox();
    }
    for (std::size_t i = 0; i < sources_.size(); ++i) {
      if (sources_[i].on_ready) {
        sources_[i].on_ready(std::span<const zmq::PollEntry>(entries).subspan(
            source_begin[i], source_begin[i + 1] - source_begin[i]));
      }
    }
    run_timers();
    if (api_) {
      if (records_changed_) {
        records_changed_ = false;
        api_->notify_changes();
      }
      if (auto deadline = api_->next_deadline(); deadline && *deadline <= api::ApiServer::Clock::now()) api_->on_timer();
    }
  }
  // Clean stop: say goodbye to the peers (they end the session at once),
  // answer what the local API holds, persist what we know of the peers, close.
  systemd_.notify("STOPPING=1\nSTATUS=stopping");
  say_goodbye("stopped");
  if (api_) api_->refuse_all(Status(Errc::unavailable, "the node is stopping"));
  lan_->stop();
  persist_peers(true);
  flusher_.reset();  // its flush under way ends first
  if (Status s = store_->flush(); !s) SHOPSYNC_LOG(error, "flushing the store to disk: " << s.to_string());
  SHOPSYNC_LOG(info, "stopped");
  return Status::ok();
}

int Node::next_timer_ms() {
  const std::uint64_t now = now_ms();
  std::uint64_t due = peering_->next_deadline(now);
  if (peering_->has_rows()) due = std::min(due, next_persist_ms_);
  if (flusher_ && store_->writes() != flushed_writes_) due = std::min(due, next_flush_ms_);
  if (systemd_.enabled() && systemd_.watchdog_interval_ms()) due = std::min(due, next_watchdog_ms_);
  std::int64_t wait = due <= now ? 0 : static_cast<std::int64_t>(due - now);
  if (api_) {
    if (auto deadline = api_->next_deadline()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - api::ApiServer::Clock::now());
      wait = std::min<std::int64_t>(wait, std::max<std::int64_t>(left.count(), 0));
    }
  }
  return static_cast<int>(std::min<std::int64_t>(wait, 3'600'000));
}

void Node::tell_systemd(std::uint64_t now) {
  if (!systemd_.enabled()) return;
  // From the loop itself: a loop that stops turning stops the pings, and
  // systemd kills the node (WatchdogSec=) and restarts it.
  if (const auto interval = systemd_.watchdog_interval_ms(); interval && now >= next_watchdog_ms_) {
    next_watchdog_ms_ = now + *interval;
    systemd_.notify("WATCHDOG=1");
  }
  if (std::string status = service_status(); status != systemd_status_) {
    systemd_status_ = std::move(status);
    systemd_.notify("STATUS=" + systemd_status_);
  }
}

std::string Node::service_status() const {
  const std::size_t known = peering_->known().size();
  return "serving: " + std::to_string(peering_->connected_count()) + " of " + std::to_string(known) +
         (known == 1 ? " peer" : " peers") + " connected";
}

void Node::run_timers() {
  const std::uint64_t now = now_ms();
  tell_systemd(now);
  // Links, dials and the replica's tick: the session rules' timers.
  peering_->tick(this->now());
  report_unreadable_records();
  if (peering_->has_rows() && now >= next_persist_ms_) {
    next_persist_ms_ = now + kPersistMs;
    persist_peers(false);
  }
  if (flusher_ && store_->writes() != flushed_writes_ && now >= next_flush_ms_) {
    next_flush_ms_ = now + kFlushMs;
    flushed_writes_ = store_->writes();
    flusher_->request();
  }
}

void Node::persist_peers(bool all) {
  if (all) {
    if (Status s = replica_->save_peers(); !s) SHOPSYNC_LOG(error, "saving the peers' knowledge: " << s.to_string());
  }
  const std::vector<PeerRecord> rows = peering_->take_rows(all);
  if (rows.empty()) return;
  Status s = store_->write([&](StoreWriter& w) -> Status {
    for (const auto& rec : rows) SHOPSYNC_TRY(w.put(Table::peers, peer_table_key(rec.node_id), encode_peer_record(rec)));
    return Status::ok();
  });
  if (!s) SHOPSYNC_LOG(error, "saving the peers table: " << s.to_string());
}

void Node::report_unreadable_records() {
  for (const auto& e : store_->unreadable().take_new()) {
    SHOPSYNC_LOG(error, "record " << e.key.collection << "/" << e.key.id << " does not decode (" << e.reason
                                  << "); written by " << describe_writers(e.origins, *replica_, *peering_)
                                  << ". Reads and replication skip it; overwrite or delete it to repair "
                                     "(shopsync rm " << e.key.collection << " " << e.key.id << ")");
  }
}

Status Node::trust_add(const std::string& key, const std::string& name) {
  SHOPSYNC_TRY(trust_->add(key, name));
  key_trusted(key);
  return Status::ok();
}

void Node::key_trusted(const std::string& key) {
  peering_->key_trusted(key, now());
  lan_->reconcile_all();  // a peer found on the LAN with this key is dialed now
}

Status Node::forget_peer(NodeId peer) { return shopsync::forget_peer(*store_, *replica_, *peering_, peer); }

Result<bool> Node::trust_remove(const std::string& key) {
  auto removed = trust_->revoke(key);
  if (removed) forsake_key(key);
  return removed;
}

void Node::forsake_key(const std::string& key) { peering_->key_untrusted(key, now()); }

void Node::say_goodbye(const std::string& reason) {
  const int said = peering_->say_goodbye(reason, now());
  constexpr int kGoodbyeLingerMs = 1000;  // the longest a stop waits for them to leave
  transport_->linger(kGoodbyeLingerMs);
  SHOPSYNC_LOG(debug, "said goodbye on " << said << " link(s)");
}

void Node::flush_outbox() {
  grants_->refresh(peering_->strategies());
  peering_->flush(now());
}

}  // namespace shopsync
