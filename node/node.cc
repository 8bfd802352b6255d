// Node: start-up, the event loop and its timers. Peer links and sessions are
// in sessions.cc.
#include "node/node.h"

#include <signal.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "discovery/discovery.h"
#include "node/daemon_backend.h"
#include "node/gateway/gateway.h"
#include "node/postgres/pg_uplink.h"
#include "node/log.h"
#include "node/node_parts.h"
#include "node/public_key_text.h"
#include "node/trusted_keys.h"
#include "node/zap_handler.h"

namespace shopsync {

namespace {

// The key of --jwt-key-file: an HS256 secret (one trailing newline left
// out, as editors add one) or a PEM public key.
Result<std::string> read_jwt_key(const std::filesystem::path& file, const std::string& algorithm) {
  if (file.empty()) return Status::invalid("--jwt-algorithm " + algorithm + " needs --jwt-key-file");
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::io_error("cannot read " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  std::string key = text.str();
  if (algorithm == "HS256" && key.ends_with('\n')) key.pop_back();
  if (algorithm == "HS256" && key.ends_with('\r')) key.pop_back();
  if (key.empty()) return Status::invalid(file.string() + " is empty");
  return key;
}

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
      rng_(std::random_device{}()) {
  while (incarnation_ == 0) incarnation_ = rng_();
}

Node::~Node() {
  sources_.clear();
  mdns_.reset();
  // Sockets before the context (zmq_ctx_term waits for them otherwise).
  api_.reset();
  links_.clear();
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
  node->strategies_ = std::move(*table);
  // Kept in the store for the inspector, which compares the tables of two
  // data directories (docs/inspector.md, "diff").
  Status stored = node->store_->write([&](StoreWriter& w) {
    SHOPSYNC_TRY(w.put(Table::settings, kNodeNameSetting, cfg.name));
    return w.put(Table::settings, kStrategiesSetting, to_text(node->strategies_));
  });
  SHOPSYNC_TRY(stored.context("storing the node's name and strategy table"));
  node->counted_ = std::make_unique<gateway::CountingStore>(*node->store_);
  auto replica = Replica::open(*node->counted_, node->clock_, options);
  if (!replica) return replica.status().context("opening the replica");
  node->replica_ = std::move(*replica);
  Replica* counted_replica = node->replica_.get();
  node->counted_->set_is_live([counted_replica](const RecordKey& key, const RecordState& state) {
    return !counted_replica->make_visible(key, state).visible.deleted;
  });
  SHOPSYNC_TRY(node->counted_->recount().context("counting the records"));

  // Keys the operator named on the command line are trusted, unless revoked:
  // a `shopsync trust rm` outlives the flags that named the key, until
  // `shopsync trust add` lifts it.
  const std::uint64_t now = node->clock_.now_ms();
  if (auto trusted = node->trust_configured(configured_keys(cfg, now)); !trusted) {
    return trusted.status().context("storing the trusted keys given on the command line");
  }
  std::vector<std::string> skipped;
  SHOPSYNC_TRY(node->store_->read([&](StoreReader& r) -> Status {
    auto peers = load_peers(r, &skipped);
    if (!peers) return peers.status();
    for (auto& p : *peers) {
      node->base_counts_[p.node_id] = {p.records_in, p.records_out};
      node->known_[p.node_id] = std::move(p);
    }
    return Status::ok();
  }).context("loading the peers table"));
  for (const auto& s : skipped) SHOPSYNC_LOG(warn, "ignoring a peers table entry that does not decode: " << s);

  auto signals = StopSignals::open();
  if (!signals) return signals.status();
  node->signals_.emplace(std::move(*signals));
  node->systemd_ = SystemdNotifier::from_environment();
  SHOPSYNC_TRY(node->open_sockets());
  node->add_static_targets();
  node->started_ms_ = now;
  node->started_steady_ms_ = node->now_ms();
  // The local API and the gateway's web console read the node through it.
  if (!node->config_.api.empty() || !node->config_.http.empty()) node->backend_ = std::make_unique<DaemonBackend>(*node);
  if (!node->config_.api.empty()) {
    api::ApiServerOptions api_options;
    Node* self = node.get();
    api_options.on_error = [self](std::optional<api::Op> op, const Status& error) {
      if (error.code() == Errc::disk_full) self->report_disk_full(op ? api::to_string(*op) : "a request", error);
    };
    auto api = api::ApiServer::bind(node->ctx_->handle(), node->config_.api, *node->backend_, std::move(api_options));
    if (!api) return api.status().context("starting the local API (--api)");
    node->api_ = std::move(*api);
  }
  node->start_mdns();
  std::shared_ptr<postgres::PgUplink> pg;
  if (!node->config_.postgres.empty()) {
    if (cfg.role != Role::uplink) return Status::invalid("--postgres is for a node started with --role uplink");
    // The PostgreSQL link (node/postgres/pg_uplink.h), polled as a loop
    // source; it lives in the source's closures like the gateway.
    postgres::PgUplinkOptions pg_options;
    pg_options.conninfo = node->config_.postgres;
    pg_options.schema = *cfg.cluster;
    pg_options.node = node->replica_->id();
    pg = std::make_shared<postgres::PgUplink>(*node->replica_, *node->store_, node->outbox(), node->steady_,
                                              std::move(pg_options));
    node->postgres_ = pg;
    Node* self = node.get();
    node->add_source(LoopSource{[pg](std::vector<zmq::PollEntry>& entries) { return pg->prepare(entries); },
                                [self, pg](std::span<const zmq::PollEntry> entries) {
                                  pg->on_ready(entries);
                                  self->flush_outbox();  // NOTIFY peers of rows imported from PostgreSQL
                                }});
  }
  if (!node->config_.http.empty()) {
    // The HTTP gateway (node/gateway/gateway.h), polled as a loop source; it
    // lives in the source's closures, destroyed before the replica and store.
    gateway::GatewayOptions gw_options;
    gw_options.node_name = cfg.name;
    gw_options.role = std::string(to_string(cfg.role));
    gw_options.http.head_timeout = std::chrono::milliseconds(cfg.http_head_timeout_ms);
    gw_options.http.body_timeout = std::chrono::milliseconds(cfg.http_body_timeout_ms);
    gw_options.http.max_connections_per_address = cfg.http_max_per_address;
    gw_options.http.max_pipelined = cfg.http_max_pipelined;
    gw_options.http.log = [](std::string_view line) { SHOPSYNC_LOG(warn, line); };
    gw_options.cors_origins = cfg.cors_origins;
    gw_options.login = cfg.http_login;
    if (!cfg.jwt_algorithm.empty()) {
      auto key = read_jwt_key(cfg.jwt_key_file, cfg.jwt_algorithm);
      if (!key) return key.status().context("--jwt-key-file");
      gw_options.jwt = gateway::JwtOptions{cfg.jwt_algorithm, *key, cfg.jwt_user_claim, cfg.jwt_device_claim,
                                           cfg.jwt_issuer, cfg.jwt_audience};
    }
    std::error_code no_dir;
    if (std::filesystem::is_directory(cfg.web_root, no_dir)) {
      gw_options.web_root = cfg.web_root;
    } else if (cfg.web_root_given) {
      return Status::invalid("--web-root " + cfg.web_root.string() + ": no such directory");
    }
    gateway::GatewayHooks hooks;
    Node* self = node.get();
    hooks.peers = [self] {
      std::vector<gateway::PeerSummary> out;
      for (const auto& p : self->peer_view()) {
        gateway::PeerSummary summary{p.node_id, p.name, std::string(to_string(p.role)), self->peer_state(p.node_id),
                                     p.last_sync_ms, p.clock_offset_ms};
        if (auto progress = self->sync_progress(p.node_id)) {
          summary.syncing = true;
          summary.sync_records_received = progress->records_received;
          summary.sync_records_total = progress->records_total;
          summary.sync_bytes_received = progress->bytes_received;
          summary.sync_bytes_total = progress->bytes_total;
          summary.sync_rate = progress->rate;
          summary.sync_eta_ms = progress->eta_ms;
        }
        out.push_back(std::move(summary));
      }
      return out;
    };
    hooks.unreadable_records = [self] { return static_cast<std::uint64_t>(self->store_->unreadable().count()); };
    hooks.full_disk = [self] { return self->store_->full_disk(); };
    hooks.record_counts = [self] { return self->counted_->counts(); };
    if (pg) hooks.more_metrics = [pg] { return pg->metrics_text(); };
    hooks.backend = static_cast<DaemonBackend*>(node->backend_.get());  // made as one above
    auto gw = gateway::Gateway::bind(node->ctx_->handle(), node->config_.http, *node->replica_, *node->store_,
                                     node->outbox(), std::move(gw_options), std::move(hooks));
    if (!gw) return gw.status().context("starting the HTTP gateway (--http)");
    std::shared_ptr<gateway::Gateway> g = std::move(*gw);
    SHOPSYNC_LOG(info, "HTTP gateway on " << g->endpoint());
    node->add_source(LoopSource{
        [g](std::vector<zmq::PollEntry>& entries) {
          entries.push_back({g->socket()});
          auto deadline = g->next_deadline();
          if (!deadline) return -1;
          const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - gateway::HttpServer::Clock::now());
          return static_cast<int>(std::clamp<std::int64_t>(wait.count(), 0, 60'000));
        },
        [self, g](std::span<const zmq::PollEntry> entries) {
          if (!entries.empty() && entries[0].readable) {
            if (Status s = g->on_readable(); !s) SHOPSYNC_LOG(error, "HTTP gateway: " << s.to_string());
            self->flush_outbox();  // NOTIFY peers of writes made through HTTP at once
          }
          if (auto d = g->next_deadline(); d && *d <= gateway::HttpServer::Clock::now()) g->on_timer();
        }});
  }

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
  auto add = [&](const PeerAddress& address, PeerSource source) {
    auto t = std::make_unique<Target>();
    t->id = next_id_++;
    t->address = address;
    t->source = source;
    t->key = address.public_key;
    t->created_ms = now_ms();
    if (!config_.insecure && !t->key.empty() && !is_trusted(t->key)) {
      disable_target(*t);
      // Shown as the peer it was, not as a second, unnamed row.
      for (const auto& [id, rec] : known_) {
        if (rec.public_key == t->key) t->peer = id;
      }
    }
    targets_.emplace(t->id, std::move(t));
  };
  for (const auto& p : config_.peers) add(p, PeerSource::static_peer);
  if (config_.uplink) add(*config_.uplink, PeerSource::uplink);
}

Status Node::run() {
  // open() left the store open and every socket bound: a client that
  // connected already is answered by the first turn of the loop.
  systemd_status_ = service_status();
  systemd_.notify("READY=1\nSTATUS=" + systemd_status_);
  std::vector<zmq::PollEntry> entries;
  std::vector<std::size_t> source_begin;
  while (!stop_requested_.load()) {
    entries.clear();
    entries.push_back({nullptr, signals_->fd()});
    entries.push_back({router_.handle()});
    const std::size_t zap_index = entries.size();
    if (zap_.is_open()) entries.push_back({zap_.handle()});
    const std::size_t dealers_begin = entries.size();
    std::vector<std::uint64_t> dealer_ids;
    for (const auto& [id, link] : links_) {
      if (link->outbound) {
        entries.push_back({link->dealer.handle()});
        dealer_ids.push_back(id);
      }
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
        stop_requested_.store(true);
      }
    }
    if (zap_.is_open() && entries[zap_index].readable) handle_zap();
    if (entries[1].readable) handle_router();
    for (std::size_t i = 0; i < dealer_ids.size(); ++i) {
      if (!entries[dealers_begin + i].readable) continue;
      if (Link* link = link_by_id(dealer_ids[i])) handle_dealer(*link);
    }
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

int Node::next_timer_ms() const {
  // Timers are checked every turn; a short cap keeps heartbeats, redials and
  // ticks on time without computing each deadline.
  return kMaxPollMs;
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
  return "serving: " + std::to_string(sessions_.size()) + " of " + std::to_string(known_.size()) +
         (known_.size() == 1 ? " peer" : " peers") + " connected";
}

void Node::run_timers() {
  const std::uint64_t now = now_ms();
  tell_systemd(now);
  // Links: handshake deadlines, silence, heartbeats.
  std::vector<std::pair<std::uint64_t, std::string>> dead;
  std::vector<std::uint64_t> spare;
  for (auto& [id, link] : links_) {
    if (!link->established) {
      if (now - link->created_ms > config_.peer_timeout_ms) {
        std::string why = link->outbound ? link->dial_watch.failure() : std::string();
        if (why.empty() && link->outbound && !link->dial_watch.reached()) {
          why = "no answer from " + link->address + ": no TCP connection within " +
                std::to_string(config_.peer_timeout_ms) + " ms (switched off, or a firewall drops the connection)";
        }
        if (why.empty()) {
          why = (link->outbound ? "no answer to HELLO within " : "no HELLO within ") +
                std::to_string(config_.peer_timeout_ms) + " ms";
        }
        dead.emplace_back(id, std::move(why));
      }
      continue;
    }
    if (now - link->last_recv_ms > config_.peer_timeout_ms) {
      dead.emplace_back(id, "silent for " + std::to_string(now - link->last_recv_ms) + " ms");
      continue;
    }
    const bool in_use = sessions_.count(link->peer) && sessions_.at(link->peer)->link == id;
    if (in_use && now - link->last_send_ms >= config_.heartbeat_ms) {
      send_frame(*link, wire::Heartbeat{clock_.now_ms()});
    }
    if (!in_use && link->outbound && link->confirmed && now - link->last_recv_ms > kSpareLingerMs) {
      spare.push_back(id);  // the pair keeps its other connection (sessions.cc, Node::confirm)
    }
  }
  for (const auto& [id, why] : dead) close_link(id, why, true);
  for (auto id : spare) close_link(id, "the pair keeps its other connection", false);

  // Peers that dialed us but should be dialed by us: make them targets.
  for (auto it = learned_.begin(); it != learned_.end();) {
    if (now < it->second.due_ms) {
      ++it;
      continue;
    }
    bool have_target = false;
    for (const auto& [id, t] : targets_) have_target |= (t->peer == it->first);
    if (!have_target) {
      auto t = std::make_unique<Target>();
      t->id = next_id_++;
      t->address = it->second.address;
      t->source = PeerSource::inbound;
      t->peer = it->first;
      t->key = it->second.address.public_key;
      t->created_ms = now;
      targets_.emplace(t->id, std::move(t));
    }
    it = learned_.erase(it);
  }

  // Targets: dial what is not connected, whichever side dialed the session
  // there is (a peer that cannot see this node on mDNS never dials it).
  forget_departed(now);
  for (auto& [id, target] : targets_) {
    if (target->untrusted || !target->links.empty() || now < target->next_dial_ms) continue;
    if (target->peer != 0 && sessions_.count(target->peer)) continue;
    dial(*target);
  }

  if (now >= next_tick_ms_) {
    next_tick_ms_ = now + kTickMs;
    if (Status s = replica_->tick(outbox()); !s) SHOPSYNC_LOG(error, "replication tick failed: " << s.to_string());
    flush_outbox();
    report_unreadable_records();
  }
  if (now >= next_persist_ms_) {
    next_persist_ms_ = now + kPersistMs;
    persist_peers(false);
  }
  if (!config_.sync_each_commit && now >= next_flush_ms_) {
    next_flush_ms_ = now + kFlushMs;
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

bool Node::is_trusted(std::string_view key) const {
  bool trusted = false;
  Status s = store_->read([&](StoreReader& r) -> Status {
    auto t = is_trusted_key(r, key);
    if (!t) return t.status();
    trusted = *t;
    return Status::ok();
  });
  if (!s) SHOPSYNC_LOG(error, "reading the trusted keys: " << s.to_string());
  return trusted;
}

std::vector<std::string> Node::candidate_keys(const Target& target) {
  if (!target.key.empty()) return {target.key};
  std::vector<std::string> keys;
  Status s = store_->read([&](StoreReader& r) -> Status {
    auto rows = list_trusted_keys(r);
    if (!rows) return rows.status();
    for (const auto& row : *rows) {
      if (row.key != identity_.public_key) keys.push_back(row.key);
    }
    return Status::ok();
  });
  if (!s) SHOPSYNC_LOG(error, "reading the trusted keys: " << s.to_string());
  return keys;
}

void Node::persist_peers(bool all) {
  if (all) {
    for (const auto& [id, rec] : known_) dirty_.insert(id);
  }
  if (dirty_.empty()) return;
  const auto stats = replica_->peers();
  const VersionVector& mine = replica_->knowledge();
  std::vector<std::pair<std::string, std::string>> rows;
  for (NodeId id : dirty_) {
    auto it = known_.find(id);
    if (it == known_.end()) continue;
    PeerRecord& rec = it->second;
    for (const auto& st : stats) {
      if (st.id != id) continue;
      auto& base = base_counts_[id];
      rec.records_in = base.first + st.records_in;
      rec.records_out = base.second + st.records_out;
      if (!st.knowledge.empty()) rec.knowledge = st.knowledge;
      if (st.last_sync_ms > rec.last_sync_ms) rec.last_sync_ms = st.last_sync_ms;
    }
    rec.lag_changes = changes_behind(mine, rec.knowledge);
    rows.emplace_back(peer_table_key(id), encode_peer_record(rec));
  }
  dirty_.clear();
  Status s = store_->write([&](StoreWriter& w) -> Status {
    for (const auto& [k, v] : rows) SHOPSYNC_TRY(w.put(Table::peers, k, v));
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
    auto it = known_.find(origin);
    if (it != known_.end() && !it->second.name.empty()) out += it->second.name + " ";
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

std::vector<PeerRecord> Node::peer_view() const {
  std::vector<PeerRecord> out;
  const auto stats = replica_->peers();
  for (const auto& [id, rec] : known_) {
    PeerRecord r = rec;
    for (const auto& st : stats) {
      if (st.id != id) continue;
      auto base = base_counts_.count(id) ? base_counts_.at(id) : std::pair<std::uint64_t, std::uint64_t>{};
      r.records_in = base.first + st.records_in;
      r.records_out = base.second + st.records_out;
      if (!st.knowledge.empty()) r.knowledge = st.knowledge;
      r.last_sync_ms = std::max(r.last_sync_ms, st.last_sync_ms);
    }
    r.lag_changes = changes_behind(replica_->knowledge(), r.knowledge);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<api::PeerInfo> Node::unidentified_targets() const {
  std::vector<api::PeerInfo> out;
  for (const auto& [id, t] : targets_) {
    if (t->peer != 0) continue;
    api::PeerInfo info;
    info.address = t->address.to_string();
    info.public_key = t->key;
    info.found_by = std::string(to_string(t->source));
    info.state = t->untrusted ? "untrusted" : t->refused ? "refused" : !t->links.empty() ? "connecting" : "backoff";
    info.last_error = t->last_error;
    out.push_back(std::move(info));
  }
  return out;
}

std::string Node::peer_state(NodeId peer) const {
  if (sessions_.count(peer)) return "connected";
  if (refused_peers_.count(peer)) return "refused";
  if (auto k = known_.find(peer); !config_.insecure && k != known_.end() && !k->second.public_key.empty() &&
                                  !is_trusted(k->second.public_key)) {
    return "untrusted";
  }
  for (const auto& [id, t] : targets_) {
    if (t->peer != peer) continue;
    if (t->untrusted) return "untrusted";
    if (t->refused) return "refused";
    if (!t->links.empty()) return "connecting";
    return "backoff";
  }
  return "offline";
}

Status Node::trust_add(const std::string& key, const std::string& name) {
  const std::uint64_t now = clock_.now_ms();
  SHOPSYNC_TRY(store_->write([&](StoreWriter& w) { return trust_key_again(w, {key, name, now}); }));
  key_trusted(key);
  return Status::ok();
}

void Node::key_trusted(const std::string& key) {
  for (auto& [id, t] : targets_) {
    if (!t->untrusted || t->key != key) continue;
    t->untrusted = false;
    t->failures = 0;
    t->next_dial_ms = 0;
    t->last_error.clear();
    SHOPSYNC_LOG(info, to_string(t->source) << " " << t->address.to_string() << " is enabled again: its key is trusted");
  }
  reconcile_all_discovered();  // a peer found on the LAN with this key is dialed now
}

Status Node::forget_peer(NodeId peer) {
  auto known = known_.find(peer);
  const std::string who = (known == known_.end() ? std::string("peer") : "peer '" + known->second.name + "'") + " (" +
                          hex_id(peer) + ")";
  if (sessions_.count(peer)) {
    return Status(Errc::refused, who + " is connected: stop that node first, or revoke its key (shopsync trust rm)");
  }
  const auto peers = replica_->peers();
  const bool in_replica = std::any_of(peers.begin(), peers.end(), [&](const PeerStats& p) { return p.id == peer; });
  if (known == known_.end() && !in_replica) return Status::not_found("no peer " + hex_id(peer) + " is known here");
  if (in_replica) SHOPSYNC_TRY(replica_->forget_peer(peer));
  SHOPSYNC_TRY(store_->write([&](StoreWriter& w) { return w.erase(Table::peers, peer_table_key(peer)); }));
  if (known != known_.end()) known_.erase(known);
  dirty_.erase(peer);
  refused_peers_.erase(peer);
  for (auto& [id, t] : targets_) {
    if (t->peer == peer) t->peer = 0;  // a configured --peer stays; it is identified again if it answers
  }
  SHOPSYNC_LOG(info, "forgot " << who << ": it no longer holds back tombstone removal");
  return Status::ok();
}

Result<bool> Node::trust_remove(const std::string& key) {
  bool removed = false;
  const std::uint64_t now = clock_.now_ms();
  Status s = store_->write([&](StoreWriter& w) -> Status {
    auto r = revoke_trusted_key(w, key, now);
    if (!r) return r.status();
    removed = *r;
    return Status::ok();
  });
  if (!s) return s;
  forsake_key(key);
  return removed;
}

void Node::forsake_key(const std::string& key) {
  // It is dialed no more...
  for (auto it = learned_.begin(); it != learned_.end();) {
    it = it->second.address.public_key == key ? learned_.erase(it) : std::next(it);
  }
  for (auto it = targets_.begin(); it != targets_.end();) {
    Target& t = *it->second;
    if (t.key != key) {
      ++it;
    } else if (t.address.public_key.empty()) {
      t.key.clear();  // a --peer HOST:PORT whose key was learned: tried with the keys still trusted
      ++it;
    } else if (t.source == PeerSource::static_peer || t.source == PeerSource::uplink) {
      disable_target(t);
      ++it;
    } else {
      SHOPSYNC_LOG(info, "no longer dialing " << to_string(t.source) << " peer " << t.address.to_string()
                                              << ": its key is no longer trusted");
      it = targets_.erase(it);
    }
  }
  // ...and its connections end now, inbound ones at the TCP level: ZAP then
  // refuses the peer's reconnection, and the frames it had already sent are
  // dropped (handle_router).
  std::vector<std::uint64_t> ids;
  for (const auto& [id, link] : links_) {
    if (link->key == key) ids.push_back(id);
  }
  for (auto id : ids) {
    if (Link* link = link_by_id(id); link && !link->outbound && zmq::shutdown_connection(link->fd, link->ip)) {
      SHOPSYNC_LOG(debug, "ended the TCP connection of " << link->describe() << " from " << link->ip);
    }
    close_link(id, "its key is no longer trusted", true);
  }
}

void Node::disable_target(Target& target) {
  target.untrusted = true;
  target.last_error = "its key is not trusted (revoked with shopsync trust rm)";
  SHOPSYNC_LOG(warn, (target.source == PeerSource::uplink ? "uplink " : "static peer ")
                         << target.address.to_string() << " is disabled: its key " << target.key
                         << " is revoked; to use it again: shopsync trust add '" << target.key << "'");
}

}  // namespace shopsync
