// Node: start-up, the event loop and its timers. The sync sockets are in
// sessions.cc, the session rules in node/peering/.
#include "node/node.h"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "discovery/discovery.h"
#include "net/public_key_text.h"
#include "net/zap_handler.h"
#include "node/api/api_credential.h"
#include "node/daemon_backend.h"
#include "node/forget_peer.h"
#include "node/gateway_source.h"
#include "node/postgres_source.h"
#include "node/log.h"
#include "node/node_parts.h"
#include "node/trusted_keys.h"

namespace shopsync {

namespace {

std::string hex_id(NodeId id) { return peer_table_key(id); }

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
      transport_(std::make_unique<Transport>(*this)),
      rng_(std::random_device{}()) {
  while (incarnation_ == 0) incarnation_ = rng_();
}

Node::~Node() {
  sources_.clear();
  mdns_.reset();
  // Sockets before the context (zmq_ctx_term waits for them otherwise).
  api_.reset();
  peering_.reset();
  transport_->dealers.clear();
  router_ = zmq::Socket();
  zap_ = zmq::Socket();
}

Outbox& Node::outbox() { return *outbox_; }

Result<std::unique_ptr<Node>> Node::open(NodeConfig config) {
  log::set_threshold(config.log_level);
  SHOPSYNC_TRY(ensure_data_dir(config.data_dir));
  auto lock = DataDirLock::acquire(config.data_dir);
  if (!lock) return lock.status();
  auto identity = load_or_create_identity(config.data_dir);
  if (!identity) return identity.status().context("loading the node identity");
  if (identity->created) SHOPSYNC_LOG(info, "created the CURVE key pair of this node in " << config.data_dir.string());

  std::unique_ptr<Node> node(new Node(std::move(config), std::move(*identity)));
  NodeConfig& cfg = node->config_;
  node->data_dir_lock_.emplace(std::move(*lock));

  StoreOptions store_options;
  store_options.sync_each_commit = cfg.sync_each_commit;
  auto store = LmdbStore::open(cfg.data_dir, store_options);
  if (!store) return store.status().context("opening the store in " + cfg.data_dir.string());
  node->store_ = std::move(*store);

  std::optional<NodeMeta> meta;
  SHOPSYNC_TRY(node->store_->read([&](StoreReader& r) -> Status {
    auto m = r.node_meta();
    if (!m) return m.status();
    meta = std::move(*m);
    return Status::ok();
  }).context("reading the node meta"));

  ReplicaOptions options;
  if (meta && !meta->cluster.empty()) {
    if (cfg.cluster && *cfg.cluster != meta->cluster) {
      return Status::refused("data directory " + cfg.data_dir.string() + " belongs to cluster '" + meta->cluster +
                             "'; refusing to start it in cluster '" + *cfg.cluster +
                             "' (use another --data directory for another cluster)");
    }
    options.cluster = meta->cluster;
  } else {
    options.cluster = cfg.cluster.value_or("default");
  }
  cfg.cluster = options.cluster;
  options.node_id = meta ? 0 : random_node_id();
  options.uplink = cfg.role == Role::uplink;
  options.pull_interval_ms = cfg.pull_interval_ms;
  options.timers = &node->steady_;
  options.max_clock_offset_ms = cfg.max_clock_skew_ms;
  auto table = strategy_table_of(cfg);
  if (!table) return table.status();
  options.strategies = table->collections;
  options.default_strategy = table->default_kind;
  options.tolerance_ms = table->tolerance_ms;
  // Kept in the store for the inspector, which compares the tables of two
  // data directories (docs/inspector.md, "diff").
  Status stored = node->store_->write([&](StoreWriter& w) {
    SHOPSYNC_TRY(w.put(Table::settings, kNodeNameSetting, cfg.name));
    return w.put(Table::settings, kStrategiesSetting, to_text(*table));
  });
  SHOPSYNC_TRY(stored.context("storing the node's name and strategy table"));
  // Format 1 rows of the peers table held the peers' knowledge and counters:
  // they move to the replica's settings before it loads them.
  auto migrated = migrate_peers_table(*node->store_);
  if (!migrated) return migrated.status();
  if (*migrated > 0) SHOPSYNC_LOG(info, "moved the knowledge and counters of " << *migrated << " peers to the replica's state (peers table format 2)");
  node->own_id_ = meta ? meta->node_id : options.node_id;
  SHOPSYNC_TRY(node->load_grants().context("reading the grants"));
  node->own_scope_at_start_ = node->own_scope_now_;
  options.access = node->grants_.get();
  node->counted_ = std::make_unique<app::CountingStore>(*node->store_);
  auto replica = Replica::open(*node->counted_, node->clock_, options);
  if (!replica) return replica.status().context("opening the replica");
  node->replica_ = std::move(*replica);
  SHOPSYNC_TRY(app::start_counting(*node->counted_, *node->replica_));

  // Keys the operator named on the command line are trusted, unless revoked:
  // a `shopsync trust rm` outlives the flags that named the key, until
  // `shopsync trust add` lifts it.
  const std::uint64_t now = node->clock_.now_ms();
  node->trust_ = std::make_unique<TrustList>(*node->store_, node->clock_);
  if (auto trusted = node->trust_->add_configured(configured_keys(cfg, now)); !trusted) {
    return trusted.status().context("storing the trusted keys given on the command line");
  }
  std::vector<std::string> skipped;
  std::vector<PeerRecord> known;
  SHOPSYNC_TRY(node->store_->read([&](StoreReader& r) -> Status {
    auto peers = load_peers(r, &skipped);
    if (!peers) return peers.status();
    known = std::move(*peers);
    return Status::ok();
  }).context("loading the peers table"));
  for (const auto& s : skipped) SHOPSYNC_LOG(warn, "ignoring a peers table entry that does not decode: " << s);

  auto signals = StopSignals::open();
  if (!signals) return signals.status();
  node->signals_.emplace(std::move(*signals));
  node->systemd_ = SystemdNotifier::from_environment();
  SHOPSYNC_TRY(node->open_sockets());
  peering::Options rules;
  rules.cluster = *cfg.cluster;
  rules.name = cfg.name;
  rules.role = cfg.role;
  rules.insecure = cfg.insecure;
  rules.own_key = node->identity_.public_key;
  rules.listen_port = node->listen_port_;
  rules.incarnation = node->incarnation_;
  rules.heartbeat_ms = cfg.heartbeat_ms;
  rules.peer_timeout_ms = cfg.peer_timeout_ms;
  rules.max_clock_skew_ms = cfg.max_clock_skew_ms;
  rules.progress_log_ms = cfg.progress_log_ms;
  rules.strategies = std::move(*table);
  rules.seed = node->rng_();
  node->peering_ = std::make_unique<Peering>(std::move(rules), *node->replica_, *node->outbox_, *node->transport_);
  node->peering_->load(std::move(known));
  node->add_static_targets();
  node->started_ms_ = now;
  node->started_steady_ms_ = node->now_ms();
  // The application service (app/record_service.h): the local API and the
  // gateway reach the replica through it.
  Node* self = node.get();
  if (!node->config_.api.empty() || !node->config_.http.empty()) node->backend_ = std::make_unique<DaemonBackend>(*node);
  if (!node->config_.api.empty()) {
    api::ApiServerOptions api_options;
    api_options.on_error = [self](std::optional<api::Op> op, const Status& error) {
      if (error.code() == Errc::disk_full) self->report_disk_full(op ? api::to_string(*op) : "a request", error);
    };
    if (node->config_.api_auth) {
      auto credential = api::ensure_api_credential(node->config_.data_dir);
      if (!credential) return credential.status().context("the local API's credential (--api-auth)");
      api_options.credential = std::move(*credential);
    }
    auto api = api::ApiServer::bind(node->ctx_->handle(), node->config_.api, *node->backend_, std::move(api_options));
    if (!api) return api.status().context("starting the local API (--api)");
    if ((*api)->endpoint().starts_with("ipc://")) {
      // The socket file's permissions say who may connect: the node's user and group.
      ::chmod((*api)->endpoint().substr(6).c_str(), 0660);
    }
    node->api_ = std::move(*api);
  }
  node->start_mdns();
  auto flush = [self] { self->flush_outbox(); };
  auto pg = open_postgres_link(cfg, *node->replica_, *node->counted_, node->outbox(), node->steady_);
  if (!pg) return pg.status();
  if (*pg) {
    node->postgres_ = *pg;
    node->add_source(postgres_source(*pg, flush));
  }
  if (!cfg.http.empty()) {
    std::function<std::string()> more_metrics;
    if (*pg) more_metrics = [link = *pg] { return link->metrics_text(); };
    auto gateway = open_gateway_source(node->ctx_->handle(), cfg, *node->backend_,
                                       node_gateway_hooks(*node, std::move(more_metrics)), flush);
    if (!gateway) return gateway.status();
    node->add_source(std::move(*gateway));
  }

  node->data_dir_lock_->announce_api(node->api_endpoint());
  SHOPSYNC_LOG(info, "shopsyncd " << PROJECT_VERSION_TEXT << " node " << hex_id(node->replica_->id()) << " '"
                                   << cfg.name << "' cluster '" << *cfg.cluster << "' role " << to_string(cfg.role)
                                   << ", sync on " << node->sync_endpoint_ << ", API on " << node->api_endpoint()
                                   << ", data in " << cfg.data_dir.string());
  if (!cfg.sync_each_commit) {
    SHOPSYNC_LOG(info, "--durability interval: commits are flushed to disk every " << kFlushMs << " ms");
  }
  if (cfg.insecure) {
    SHOPSYNC_LOG(warn, "**************************************************************");
    SHOPSYNC_LOG(warn, "--insecure: the sync port has NO encryption and NO authentication.");
    SHOPSYNC_LOG(warn, "Anyone who can reach " << node->sync_endpoint_ << " can read and change every record.");
    SHOPSYNC_LOG(warn, "Use it for development only.");
    SHOPSYNC_LOG(warn, "**************************************************************");
  } else {
    SHOPSYNC_LOG(info, "CURVE public key " << format_public_key(node->identity_.public_key));
  }
  return node;
}

const postgres::PgUplinkStats* Node::postgres_stats() const { return postgres_ ? &postgres_->stats() : nullptr; }

Status Node::open_sockets() {
  auto ctx = zmq::Context::create();
  if (!ctx) return ctx.status();
  ctx_.emplace(std::move(*ctx));
  if (!config_.insecure) {
    // The ZAP handler must be bound before the first CURVE client arrives.
    auto zap = zmq::Socket::open(*ctx_, zmq::SocketType::rep);
    if (!zap) return zap.status();
    zap_ = std::move(*zap);
    SHOPSYNC_TRY(zap_.bind(std::string(kZapEndpoint)).context("binding the ZAP handler"));
  }
  auto router = zmq::Socket::open(*ctx_, zmq::SocketType::router);
  if (!router) return router.status();
  router_ = std::move(*router);
  SHOPSYNC_TRY(router_.set_max_message_size(wire::max_message_size()));
  SHOPSYNC_TRY(router_.set_router_mandatory(true));
  SHOPSYNC_TRY(router_.set_high_water_marks(kSendHighWater, kReceiveHighWater));
  SHOPSYNC_TRY(router_.set_handshake_interval(static_cast<int>(config_.peer_timeout_ms)));
  // "*" then listens on IPv6 too (peers found over IPv6 link-local dial it);
  // libzmq falls back to IPv4 alone where the host has no IPv6.
  SHOPSYNC_TRY(router_.set_ipv6(true));
  if (!config_.insecure) {
    SHOPSYNC_TRY(router_.set_zap_domain(kZapDomain));
    SHOPSYNC_TRY(router_.set_curve_server(identity_.secret_key));
  }
  SHOPSYNC_TRY(router_.bind(config_.listen).context("binding the sync port (--listen)"));
  auto endpoint = router_.last_endpoint();
  if (!endpoint) return endpoint.status();
  sync_endpoint_ = *endpoint;
  if (auto colon = sync_endpoint_.rfind(':'); colon != std::string::npos) {
    listen_port_ = static_cast<std::uint16_t>(std::stoul(sync_endpoint_.substr(colon + 1)));
  }
  return Status::ok();
}

void Node::add_static_targets() {
  for (const auto& p : config_.peers) peering_->add_target(p, PeerSource::static_peer, now());
  if (config_.uplink) peering_->add_target(*config_.uplink, PeerSource::uplink, now());
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
    entries.push_back({router_.handle()});
    const std::size_t zap_index = entries.size();
    if (zap_.is_open()) entries.push_back({zap_.handle()});
    const std::size_t dealers_begin = entries.size();
    std::vector<std::uint64_t> dealer_ids;
    for (const auto& [id, dealer] : transport_->dealers) {
      entries.push_back({dealer.socket.handle()});
      dealer_ids.push_back(id);
    }
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
    if (zap_.is_open() && entries[zap_index].readable) handle_zap();
    if (entries[1].readable) handle_router();
    for (std::size_t i = 0; i < dealer_ids.size(); ++i) {
      if (!entries[dealers_begin + i].readable) continue;
      handle_dealer(dealer_ids[i]);
    }
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
  stop_mdns();
  persist_peers(true);
  if (Status s = store_->flush(); !s) SHOPSYNC_LOG(error, "flushing the store to disk: " << s.to_string());
  SHOPSYNC_LOG(info, "stopped");
  return Status::ok();
}

int Node::next_timer_ms() {
  const std::uint64_t now = now_ms();
  std::uint64_t due = peering_->next_deadline(now);
  if (peering_->has_rows()) due = std::min(due, next_persist_ms_);
  if (!config_.sync_each_commit && store_->writes() != flushed_writes_) due = std::min(due, next_flush_ms_);
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
  if (!config_.sync_each_commit && store_->writes() != flushed_writes_ && now >= next_flush_ms_) {
    next_flush_ms_ = now + kFlushMs;
    flushed_writes_ = store_->writes();
    if (Status s = store_->flush(); !s) SHOPSYNC_LOG(error, "flushing the store to disk: " << s.to_string());
  }
}

void Node::handle_zap() {
  for (int i = 0; i < 64; ++i) {
    auto msg = zap_.receive();
    if (!msg) {
      SHOPSYNC_LOG(error, "ZAP handler: " << msg.status().to_string());
      return;
    }
    if (!msg->has_value()) return;
    const ZapDecision d = answer_zap_request((*msg)->parts, [&](std::string_view key) { return is_trusted(key); });
    if (!d.admitted) {
      const std::uint64_t now = now_ms();
      auto& last = zap_log_ms_[d.client_key + "|" + d.address];
      if (last == 0 || now - last > kZapLogIntervalMs) {
        last = now;
        SHOPSYNC_LOG(warn, "refused a sync connection from " << (d.address.empty() ? "?" : d.address) << ": "
                                                            << d.reason
                                                            << (d.client_key.empty() ? "" : " (trust it with: shopsync trust add " + format_public_key(d.client_key) + ")"));
      }
    }
    std::vector<std::string_view> parts(d.reply.begin(), d.reply.end());
    if (auto sent = zap_.send(parts); !sent) SHOPSYNC_LOG(error, "ZAP reply: " << sent.status().to_string());
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

std::string Node::describe_writers(const std::vector<NodeId>& origins) const {
  if (origins.empty()) return "unknown (its versions do not read either)";
  std::string out;
  bool own = false;
  for (NodeId origin : origins) {
    if (replica_->is_own_origin(origin)) {
      if (!own) out += out.empty() ? "this node" : ", this node";
      own = true;
      continue;
    }
    if (!out.empty()) out += ", ";
    auto it = peering_->known().find(origin);
    if (it != peering_->known().end() && !it->second.name.empty()) out += it->second.name + " ";
    out += "(node " + node_id_text(origin) + ")";
  }
  return out;
}

void Node::report_disk_full(std::string_view operation, const Status& error) {
  // One line per kDiskFullLogMs at most: a client retrying in a loop must not
  // fill what little room the log has left.
  const std::uint64_t now = now_ms();
  if (disk_full_logged_ms_ != 0 && now - disk_full_logged_ms_ < kDiskFullLogMs) {
    ++disk_full_unlogged_;
    return;
  }
  SHOPSYNC_LOG(error, operation << " refused: " << error.to_string()
                                << (disk_full_unlogged_ == 0
                                        ? std::string()
                                        : " (and " + std::to_string(disk_full_unlogged_) + " more refusals not logged)")
                                << ". Nothing stored is lost; writes work again once there is room");
  disk_full_logged_ms_ = now;
  disk_full_unlogged_ = 0;
}

void Node::report_unreadable_records() {
  for (const auto& e : store_->unreadable().take_new()) {
    SHOPSYNC_LOG(error, "record " << e.key.collection << "/" << e.key.id << " does not decode (" << e.reason
                                  << "); written by " << describe_writers(e.origins)
                                  << ". Reads and replication skip it; overwrite or delete it to repair "
                                     "(shopsync rm " << e.key.collection << " " << e.key.id << ")");
  }
}

std::vector<PeerRecord> Node::peer_view() const { return peering_->peer_view(); }

std::vector<api::PeerInfo> Node::unidentified_targets() const { return peering_->unidentified_targets(); }

std::string Node::peer_state(NodeId peer) const { return peering_->peer_state(peer); }

std::optional<api::SyncProgress> Node::sync_progress(NodeId peer) { return peering_->sync_progress(peer, now_ms()); }

Status Node::trust_add(const std::string& key, const std::string& name) {
  SHOPSYNC_TRY(trust_->add(key, name));
  key_trusted(key);
  return Status::ok();
}

void Node::key_trusted(const std::string& key) {
  peering_->key_trusted(key, now());
  reconcile_all_discovered();  // a peer found on the LAN with this key is dialed now
}

Status Node::forget_peer(NodeId peer) { return shopsync::forget_peer(*store_, *replica_, *peering_, peer); }

Result<bool> Node::trust_remove(const std::string& key) {
  auto removed = trust_->revoke(key);
  if (removed) forsake_key(key);
  return removed;
}

void Node::forsake_key(const std::string& key) { peering_->key_untrusted(key, now()); }

}  // namespace shopsync
