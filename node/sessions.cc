// Node: peer links (inbound routing ids on the ROUTER, outbound DEALERs),
// the HELLO handshake, the one-connection-per-pair rule, and moving messages
// between the wire and the Replica.
#include <algorithm>
#include <cstdlib>

#include "node/backoff.h"
#include "node/node.h"
#include "node/node_parts.h"

namespace shopsync {

namespace {

std::string hex_id(NodeId id) { return peer_table_key(id); }

std::string vv_text(const VersionVector& vv) {
  std::string out = "{";
  for (const auto& [node, counter] : vv.entries()) {
    if (out.size() > 1) out += ",";
    out += hex_id(node) + ":" + std::to_string(counter);
  }
  return out + "}";
}

// A peer's address as a host to dial: IPv4 as it is (also when it reached our
// dual-stack socket as an IPv4-mapped IPv6 address), IPv6 in brackets.
std::string host_for(const std::string& ip) {
  constexpr std::string_view kMapped = "::ffff:";
  if (ip.starts_with(kMapped) && ip.find('.') != std::string::npos) return ip.substr(kMapped.size());
  return ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
}

}  // namespace

std::string Node::Link::describe() const {
  std::string s = outbound ? "outbound link " : "inbound link ";
  s += std::to_string(id);
  if (peer != 0) s += " to node " + hex_id(peer);
  return s;
}

void Node::NodeOutbox::conflict(const ConflictEntry& entry) {
  SHOPSYNC_LOG(info, "conflict on " << entry.key.collection << "/" << entry.key.id << ": " << entry.siblings.size()
                                    << " concurrent versions, strategy " << entry.strategy << ", winner "
                                    << hex_id(entry.winner.origin) << ":" << entry.winner.counter
                                    << (entry.near_simultaneous ? " (near-simultaneous writes)" : ""));
  if (node_.observer_.conflict) node_.observer_.conflict(entry);
}

Node::Link* Node::link_by_id(std::uint64_t id) {
  auto it = links_.find(id);
  return it == links_.end() ? nullptr : it->second.get();
}

Node::Target* Node::target_by_id(std::uint64_t id) {
  auto it = targets_.find(id);
  return it == targets_.end() ? nullptr : it->second.get();
}

wire::Hello Node::make_hello() const {
  wire::Hello h;
  h.cluster = *config_.cluster;
  h.node_id = replica_->id();
  h.name = config_.name;
  h.role = config_.role;
  h.knowledge = replica_->knowledge();
  h.clock_ms = SystemClock().now_ms();
  h.listen_port = listen_port_;
  h.strategies_digest = strategy_digest(strategies_);
  h.incarnation = incarnation_;
  h.strategies = to_text(strategies_);
  if (h.strategies.size() > wire::kMaxStrategiesText) {  // the digest still tells the tables apart
    h.strategies.resize(wire::kMaxStrategiesText - 3);
    h.strategies += "...";
  }
  return h;
}

void Node::say_hello(Link& link) {
  wire::Hello hello = make_hello();
  link.told = hello.knowledge;
  send_frame(link, hello);
}

// ---- links ------------------------------------------------------------------

Node::Link& Node::new_inbound_link(const std::string& routing_id, const std::string& key) {
  auto link = std::make_unique<Link>();
  link->id = next_id_++;
  link->routing_id = routing_id;
  link->key = key;
  link->created_ms = link->last_recv_ms = link->last_send_ms = now_ms();
  Link& ref = *link;
  inbound_[routing_id] = link->id;
  links_.emplace(link->id, std::move(link));
  return ref;
}

void Node::dial(Target& target) {
  const std::uint64_t now = now_ms();
  std::vector<std::string> keys = config_.insecure ? std::vector<std::string>{""} : candidate_keys(target);
  if (keys.empty()) {
    target.last_error = "no key to authenticate it with: give KEY@" + target.address.to_string() +
                        " or trust its key (shopsync trust add KEY)";
    if (!target.warned_no_key) {
      SHOPSYNC_LOG(warn, "cannot connect to " << target.address.to_string() << ": " << target.last_error);
      target.warned_no_key = true;
    }
    target.next_dial_ms = now + 5000;
    return;
  }
  for (const auto& key : keys) {
    auto socket = zmq::Socket::open(*ctx_, zmq::SocketType::dealer);
    Status s = socket.status();
    if (s) s = socket->set_max_message_size(wire::max_message_size());
    if (s) s = socket->set_high_water_marks(kSendHighWater, kReceiveHighWater);
    if (s) s = socket->set_reconnect_interval(100, 1000);
    if (s) s = socket->set_handshake_interval(static_cast<int>(config_.peer_timeout_ms));
    if (s) s = socket->set_ipv6(true);  // IPv4 addresses still work; [fe80::1%eth0] needs it
    if (s && !config_.insecure) s = socket->set_curve_client(identity_.public_key, identity_.secret_key, key);
    const std::uint64_t link_id = next_id_++;
    Result<DialWatch> watch = s ? DialWatch::attach(*ctx_, *socket, link_id, target.address.host, target.address.port,
                                                    target.failures > 0)
                                 : Result<DialWatch>(s);
    if (!watch) s = watch.status();
    if (s) s = socket->connect(target.address.endpoint());
    if (!s) {
      target.last_error = s.to_string();
      SHOPSYNC_LOG(warn, "cannot connect to " << target.address.to_string() << ": " << s.to_string());
      target.failures++;
      BackoffPolicy policy;
      target.next_dial_ms = now + backoff_delay_ms(policy, target.failures, rng_);
      return;
    }
    auto link = std::make_unique<Link>();
    link->id = link_id;
    link->outbound = true;
    link->dealer = std::move(*socket);
    link->dial_watch = std::move(*watch);
    link->key = key;
    link->target = target.id;
    link->address = target.address.to_string();
    link->created_ms = link->last_recv_ms = now;
    link->hello_sent_ms = now;
    target.links.insert(link->id);
    Link& ref = *link;
    links_.emplace(link->id, std::move(link));
    SHOPSYNC_LOG(debug, "dialing " << target.address.to_string() << " (" << ref.describe() << ")");
    // Queued by ZeroMQ until the connection (and CURVE handshake) is up.
    say_hello(ref);
  }
}

void Node::close_link(std::uint64_t link_id, const std::string& why, bool failed) {
  auto it = links_.find(link_id);
  if (it == links_.end()) return;
  std::unique_ptr<Link> link = std::move(it->second);
  links_.erase(it);
  if (link->outbound) {
    if (Target* t = target_by_id(link->target)) {
      t->links.erase(link_id);
      if (failed && t->links.empty() && !t->untrusted) {
        t->failures++;
        t->last_error = why;
        BackoffPolicy policy;
        if (t->refused) policy.initial_ms = policy.max_ms;
        t->next_dial_ms = now_ms() + backoff_delay_ms(policy, t->failures, rng_);
        SHOPSYNC_LOG_AT(t->failures <= 1 ? log::Level::info : log::Level::debug,
                     "connection to " << t->address.to_string() << " failed (" << why << "); retrying in "
                                      << (t->next_dial_ms - now_ms()) << " ms");
      }
    }
  } else {
    inbound_.erase(link->routing_id);
  }
  if (link->peer == 0) return;
  auto s = sessions_.find(link->peer);
  if (s == sessions_.end() || s->second->link != link_id) return;
  // Another link to the same peer, up on both sides, takes over, if there is
  // one. What was in flight on the lost one is lost: the conversation starts
  // over from what each side has committed.
  for (auto& [id, other] : links_) {
    if (other->confirmed && other->peer == link->peer) {
      s->second->link = id;
      restart_conversation(link->peer, *other);
      return;
    }
  }
  if (failed) {
    known_[link->peer].last_error = why;
    dirty_.insert(link->peer);
  }
  end_session(link->peer, why);
}

void Node::end_session(NodeId peer, const std::string& why) {
  auto s = sessions_.find(peer);
  if (s == sessions_.end()) return;
  SHOPSYNC_LOG(info, "peer " << s->second->name << " (" << hex_id(peer) << ") disconnected: " << why);
  sessions_.erase(s);
  progress_.erase(peer);
  disconnected_ms_[peer] = now_ms();
  replica_->peer_disconnected(peer);
  dirty_.insert(peer);
}

// ---- receiving ----------------------------------------------------------------

void Node::handle_router() {
  // A bounded time per turn keeps the other sockets (the local API), the
  // timers and the other peers served while a big sync streams in: a batch
  // costs a commit, and a peer refills the socket as fast as we drain it.
  const std::uint64_t start = now_ms();
  for (int i = 0; i < 256 && now_ms() - start < kTurnBudgetMs; ++i) {
    auto msg = router_.receive();
    if (!msg) {
      SHOPSYNC_LOG(error, "sync port: " << msg.status().to_string());
      return;
    }
    if (!msg->has_value()) return;
    zmq::Received& m = **msg;
    if (m.parts.size() < 2) continue;  // no routing id: cannot answer
    const std::string& routing_id = m.parts[0];
    auto it = inbound_.find(routing_id);
    Link* link = it == inbound_.end() ? nullptr : link_by_id(it->second);
    if (link == nullptr) {
      // ZAP admitted this connection, but its key may have been revoked since
      // (frames it sent before `shopsync trust rm` ended it): drop them.
      if (!config_.insecure && !is_trusted(m.user_id)) {
        zmq::shutdown_connection(m.source_fd, m.peer_address);
        continue;
      }
      link = &new_inbound_link(routing_id, config_.insecure ? std::string() : m.user_id);
    }
    link->ip = m.peer_address;
    link->fd = m.source_fd;
    if (m.parts.size() != 2) {
      send_error(*link, wire::ErrorCode::malformed,
                 "a frame is one message part; got " + std::to_string(m.parts.size() - 1));
      continue;
    }
    handle_frame(*link, m.parts[1], m.user_id, m.peer_address);
  }
}

void Node::handle_dealer(Link& link) {
  const std::uint64_t id = link.id;
  const std::uint64_t start = now_ms();
  for (int i = 0; i < 256 && now_ms() - start < kTurnBudgetMs; ++i) {
    Link* l = link_by_id(id);  // handling a frame may close the link
    if (l == nullptr) return;
    auto msg = l->dealer.receive();
    if (!msg) {
      close_link(id, msg.status().to_string(), true);
      return;
    }
    if (!msg->has_value()) return;
    zmq::Received& m = **msg;
    if (m.parts.size() != 1) {
      send_error(*l, wire::ErrorCode::malformed, "a frame is one message part; got " + std::to_string(m.parts.size()));
      continue;
    }
    handle_frame(*l, m.parts[0], "", "");
  }
}

void Node::handle_frame(Link& link, const std::string& bytes, const std::string& user_id, const std::string& peer_ip) {
  (void)user_id;
  link.last_recv_ms = now_ms();
  const std::uint64_t wall = clock_.now_ms();  // shown to users
  auto decoded = wire::decode(bytes);
  if (auto* err = std::get_if<wire::DecodeError>(&decoded)) {
    SHOPSYNC_LOG(warn, link.describe() << (link.ip.empty() ? "" : " from " + link.ip) << ": bad frame ("
                                       << wire::to_string(err->code) << "): " << err->text);
    // Never answer an ERROR with an ERROR: two confused nodes would ping-pong.
    if (err->type != static_cast<std::uint32_t>(wire::MessageType::error)) send_error(link, err->code, err->text);
    return;
  }
  auto& message = std::get<wire::Decoded>(decoded).message;
  if (auto* hello = std::get_if<wire::Hello>(&message)) return handle_hello(link, *hello, peer_ip);
  if (auto* error = std::get_if<wire::Error>(&message)) return handle_error(link, *error);
  if (auto* goodbye = std::get_if<wire::Goodbye>(&message)) return handle_goodbye(link, *goodbye);
  if (!link.established) {
    send_error(link, wire::ErrorCode::not_ready, "HELLO first");
    return;
  }
  // The dialer sends nothing after its HELLO before our answer is accepted:
  // this frame says it was.
  if (!link.confirmed) {
    const std::uint64_t id = link.id;
    confirm(link);
    if (link_by_id(id) == nullptr) return;  // a send in confirm() found it gone
  }
  const NodeId peer = link.peer;
  PeerRecord& rec = known_[peer];
  rec.last_seen_ms = wall;
  dirty_.insert(peer);
  if (std::holds_alternative<wire::Heartbeat>(message)) return;

  Message replication = std::visit(
      [](auto&& m) -> Message {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, Pull> || std::is_same_v<T, Batch> || std::is_same_v<T, Credit> ||
                      std::is_same_v<T, Notify> || std::is_same_v<T, SnapshotRequired>) {
          return std::move(m);
        } else {
          return Credit{0};  // unreachable: HELLO, ERROR and HEARTBEAT are handled above
        }
      },
      std::move(message));
  Batch* batch = std::get_if<Batch>(&replication);
  const bool caught_up = batch != nullptr && !batch->more;
  const std::size_t batch_records = batch ? batch->records.size() : 0;
  if (batch) {
    SHOPSYNC_LOG(debug, "batch from " << rec.name << ": " << batch_records << " records, base " << vv_text(batch->base)
                                      << " complete " << vv_text(batch->complete) << (batch->more ? ", more" : ""));
  }
  // A batch waits for those behind it on the socket: one commit for all
  // (Replica::queue_batch; the event loop commits what is queued after each turn).
  Status s = batch ? replica_->queue_batch(peer, std::move(*batch), outbox()) : replica_->receive(peer, replication, outbox());
  flush_outbox();
  if (!s) {
    const bool theirs = s.code() == Errc::protocol || s.code() == Errc::invalid_argument || s.code() == Errc::corrupt;
    SHOPSYNC_LOG(warn, "message from peer " << rec.name << " (" << hex_id(peer) << ") not applied: " << s.to_string());
    rec.last_error = s.to_string();
    send_error(link, theirs ? wire::ErrorCode::malformed : wire::ErrorCode::internal, s.message());
    return;
  }
  if (batch != nullptr) {
    rec.last_sync_ms = wall;
    note_progress(peer, batch_records, bytes.size(), !caught_up);
    if (caught_up) {
      std::uint64_t in_run = 0;
      for (const auto& st : replica_->peers()) {
        if (st.id == peer) in_run = st.records_in;
      }
      SHOPSYNC_LOG_AT(batch_records > 0 ? log::Level::info : log::Level::debug, "in sync with peer " << rec.name << " (" << hex_id(peer) << "): records received from it since start: "
                                              << in_run << " (last batch " << batch_records << ")");
    }
  }
}

void Node::note_progress(NodeId peer, std::size_t records, std::size_t bytes, bool more) {
  VersionVector theirs;
  for (const auto& st : replica_->peers()) {
    if (st.id == peer) theirs = st.knowledge;
  }
  const std::uint64_t now = now_ms();
  SyncProgress& progress = progress_.try_emplace(peer, config_.progress_log_ms).first->second;
  progress.batch(now, records, bytes, changes_behind(theirs, replica_->knowledge()), more);
  if (!progress.active()) {
    progress_.erase(peer);
    return;
  }
  if (!progress.log_due(now)) return;
  const api::SyncProgress p = progress.view(now);
  const std::uint64_t percent = p.records_total > 0 ? p.records_received * 100 / p.records_total : 0;
  SHOPSYNC_LOG(info, "syncing from peer " << known_[peer].name << " (" << hex_id(peer) << "): " << p.records_received
                                          << " of ~" << p.records_total << " records (" << percent << "%), " << p.rate
                                          << " rec/s, ETA " << (p.rate > 0 ? std::to_string(p.eta_ms / 1000) + " s" : "unknown"));
}

std::optional<api::SyncProgress> Node::sync_progress(NodeId peer) {
  auto it = progress_.find(peer);
  if (it == progress_.end()) return std::nullopt;
  return it->second.view(now_ms());
}

void Node::handle_error(Link& link, const wire::Error& error) {
  const std::string who = link.peer ? "peer " + known_[link.peer].name + " (" + hex_id(link.peer) + ")"
                                    : link.describe() + (link.ip.empty() ? "" : " from " + link.ip);
  const auto code = static_cast<wire::ErrorCode>(error.code);
  SHOPSYNC_LOG_AT(code == wire::ErrorCode::not_ready && link.established ? log::Level::debug : log::Level::warn,
                  who << " reports error " << wire::to_string(code) << ": " << error.text);
  if (link.peer) {
    known_[link.peer].last_error = "peer reported: " + error.text;
    dirty_.insert(link.peer);
  }
  if (link.established && link.outbound && code == wire::ErrorCode::not_ready) {
    // ZeroMQ reconnected our DEALER on its own to a peer that restarted: the
    // new process never saw our HELLO. Say it again (once a second at most:
    // every frame already in flight draws the same answer), unless the link
    // is a spare: the session runs on another.
    auto s = sessions_.find(link.peer);
    if (s != sessions_.end() && s->second->link != link.id) {
      close_link(link.id, "the pair keeps its other connection", false);
      return;
    }
    const std::uint64_t now = now_ms();
    if (now - link.hello_sent_ms >= 1000) {
      SHOPSYNC_LOG(info, who << " does not know this connection (it restarted?): saying HELLO again");
      link.hello_sent_ms = now;
      say_hello(link);
    }
    return;
  }
  if (link.established && !link.confirmed && !link.outbound) {
    // The dialer refused our answer to its HELLO (its clock check, say): this
    // connection never carried the session, which stays where it is.
    close_link(link.id, "refused by the peer: " + error.text, true);
    return;
  }
  if (link.established && code == wire::ErrorCode::wrong_strategies && link.peer != 0) {
    // The peer reloaded another strategy table (SIGHUP): the session ends on
    // both sides now, and a HELLO decides again whether the tables agree.
    end_peer_links(link.peer, "refused by the peer: " + error.text, true);
    return;
  }
  if (!link.established && link.outbound) {
    // The peer refused our HELLO: it will not change its mind soon.
    if (code == wire::ErrorCode::wrong_cluster || code == wire::ErrorCode::unsupported_version ||
        code == wire::ErrorCode::refused || code == wire::ErrorCode::wrong_strategies) {
      if (Target* t = target_by_id(link.target)) {
        t->refused = true;
        if (t->peer != 0 && known_.count(t->peer)) {  // a peer known from before: its row shows why
          known_[t->peer].last_error = "refused by the peer: " + error.text;
          dirty_.insert(t->peer);
        }
      }
    }
    close_link(link.id, "refused by the peer: " + error.text, true);
  }
}

void Node::handle_goodbye(Link& link, const wire::Goodbye& goodbye) {
  // The peer stopped cleanly: the session ends now, not after the silence of
  // --peer-timeout-ms; a target of ours is redialed with the usual backoff.
  const std::string why = "it said goodbye: " + goodbye.reason.substr(0, 1024);
  SHOPSYNC_LOG(info, link.describe() << ": " << why);
  const NodeId peer = link.peer;
  if (peer == 0) return close_link(link.id, why, true);
  // The process is going, not just this link.
  end_peer_links(peer, why, false);
}

void Node::end_peer_links(NodeId peer, const std::string& why, bool refused) {
  if (refused) {
    for (auto& [id, t] : targets_) {
      if (t->peer == peer) t->refused = true;
    }
    refused_peers_.insert(peer);
    known_[peer].last_error = why;
    dirty_.insert(peer);
  }
  // Every link to it closes, the session's last so that no idle second link
  // takes the session over.
  auto s = sessions_.find(peer);
  const std::uint64_t session_link = s == sessions_.end() ? 0 : s->second->link;
  std::vector<std::uint64_t> others;
  for (const auto& [id, l] : links_) {
    if (l->peer == peer && id != session_link) others.push_back(id);
  }
  for (auto id : others) close_link(id, why, true);
  if (session_link != 0) close_link(session_link, why, true);
}

void Node::say_goodbye(const std::string& reason) {
  int said = 0;
  for (auto& [id, link] : links_) {
    if (!link->established || link->version < wire::kGoodbyeSince) continue;
    if (send_frame(*link, wire::Goodbye{reason}) == Sent::ok) ++said;
  }
  constexpr int kGoodbyeLingerMs = 1000;  // the longest a stop waits for them to leave
  (void)router_.set_linger(kGoodbyeLingerMs);
  for (auto& [id, link] : links_) {
    if (link->outbound) (void)link->dealer.set_linger(kGoodbyeLingerMs);
  }
  SHOPSYNC_LOG(debug, "said goodbye on " << said << " link(s)");
}

void Node::handle_hello(Link& link, const wire::Hello& hello, const std::string& peer_ip) {
  const std::string who = "node '" + hello.name + "' (" + hex_id(hello.node_id) + ") at " +
                          (link.outbound ? (target_by_id(link.target) ? target_by_id(link.target)->address.to_string() : "?")
                                         : (peer_ip.empty() ? "?" : peer_ip));
  auto refuse = [&](wire::ErrorCode code, const std::string& ours, const std::string& theirs) {
    SHOPSYNC_LOG(warn, "refused " << who << ": " << ours);
    send_error(link, code, theirs);
    if (link.outbound) {
      if (Target* t = target_by_id(link.target)) t->refused = true;
    }
    if (known_.count(hello.node_id)) {
      known_[hello.node_id].last_error = ours;
      dirty_.insert(hello.node_id);
    }
    close_link(link.id, ours, true);
  };
  if (hello.cluster != *config_.cluster) {
    return refuse(wire::ErrorCode::wrong_cluster,
                  "it belongs to cluster '" + hello.cluster + "', this node to '" + *config_.cluster + "'",
                  "this node belongs to cluster '" + *config_.cluster + "', not '" + hello.cluster + "'");
  }
  const std::uint32_t common = std::min(hello.protocol_max, wire::kProtocolMax);
  if (common < std::max(hello.protocol_min, wire::kProtocolMin)) {
    const std::string mine = std::to_string(wire::kProtocolMin) + ".." + std::to_string(wire::kProtocolMax);
    const std::string theirs = std::to_string(hello.protocol_min) + ".." + std::to_string(hello.protocol_max);
    return refuse(wire::ErrorCode::unsupported_version,
                  "no common protocol version (it speaks " + theirs + ", this node " + mine + ")",
                  "no common protocol version: this node speaks " + mine + ", you speak " + theirs);
  }
  if (hello.node_id == replica_->id()) {
    return refuse(wire::ErrorCode::refused, "it has this node's own id (a copied data directory, or a loop to itself)",
                  "you have this node's id " + hex_id(hello.node_id) + " (copied data directory?)");
  }
  if (auto differ = strategies_differ(hello)) {
    remember_refused_peer(link, hello);
    return refuse(wire::ErrorCode::wrong_strategies, *differ, *differ);
  }
  if (!config_.insecure) {
    auto s = sessions_.find(hello.node_id);
    if (s != sessions_.end()) {
      const Link* current = link_by_id(s->second->link);
      if (current && current->key != link.key) {
        return refuse(wire::ErrorCode::refused, "node id already connected with another key",
                      "node id " + hex_id(hello.node_id) + " is connected with another key");
      }
    }
  }
  // Max offset (docs/replication.md, "Clock offsets"): a peer whose clock is
  // further off ours than --max-clock-skew-ms is refused, by each side that
  // measures it: ahead, its writes would win every newest_wins conflict;
  // behind, ours would. Its row keeps the offset for `shopsync peers`.
  const std::int64_t offset = clock_offset_of(link, hello);
  if (static_cast<std::uint64_t>(std::llabs(offset)) > config_.max_clock_skew_ms) {
    remember_refused_peer(link, hello);
    known_[hello.node_id].clock_offset_ms = offset;
    const std::string off = std::to_string(std::llabs(offset)) + " ms " + (offset > 0 ? "ahead of" : "behind");
    const std::string limit = "--max-clock-skew-ms " + std::to_string(config_.max_clock_skew_ms);
    return refuse(wire::ErrorCode::refused,
                  "its clock is " + off + " ours (more than " + limit + "): check NTP on both machines",
                  "your clock is " + off + " the clock of node '" + config_.name + "' (more than its " + limit +
                      "): check NTP on both machines");
  }
  if (!link.outbound) say_hello(link);
  link.version = common;
  refused_peers_.erase(hello.node_id);
  establish(link, hello, offset);
}

void Node::remember_refused_peer(Link& link, const wire::Hello& hello) {
  // A node of this cluster with a trusted key: it is a peer, shown in `peers`
  // (state "refused", the reason in last_error) although no session started.
  PeerRecord& rec = known_[hello.node_id];
  rec.node_id = hello.node_id;
  rec.name = hello.name;
  rec.role = hello.role;
  if (!link.key.empty()) rec.public_key = link.key;
  if (link.outbound) {
    if (Target* t = target_by_id(link.target)) {
      rec.address = link.address;  // the path in use
      rec.source = t->source;
      t->peer = hello.node_id;
    }
  } else {
    identify_targets(link, hello.node_id);
    if (rec.address.empty() && hello.listen_port != 0 && !link.ip.empty()) {
      rec.address = host_for(link.ip) + ":" + std::to_string(hello.listen_port);
      rec.source = PeerSource::inbound;
    }
  }
  refused_peers_.insert(hello.node_id);
}

Node::Target* Node::identify_targets(const Link& link, NodeId peer) {
  Target* found = nullptr;
  if (link.key.empty()) return found;
  for (auto& [id, t] : targets_) {
    if (t->peer == 0 && t->key == link.key) {
      t->peer = peer;
      found = t.get();
    }
  }
  return found;
}

std::optional<std::string> Node::strategies_differ(const wire::Hello& hello) const {
  if (hello.strategies_digest.empty()) {
    // An older node: it does not say which table it applies, so nothing can
    // be checked (docs/wire-format.md, "HELLO"). Accepted, with a warning.
    SHOPSYNC_LOG(warn, "node '" << hello.name << "' (" << hex_id(hello.node_id)
                                << ") does not say which conflict strategies it applies (an older version): make sure "
                                   "it runs with the same --strategy flags as this node");
    return std::nullopt;
  }
  return strategies_differ(hello.name, hello.strategies_digest, hello.strategies);
}

std::optional<std::string> Node::strategies_differ(const std::string& name, const std::string& digest,
                                                   const std::string& table) const {
  if (digest == strategy_digest(strategies_)) return std::nullopt;
  // Named the same way on both sides, so that the text fits both logs.
  std::string what;
  if (auto theirs = parse_strategy_table(table)) {
    what = strategy_difference(strategies_, *theirs, "'" + config_.name + "'", "'" + name + "'");
  }
  if (what.empty()) what = "'" + to_text(strategies_) + "' on '" + config_.name + "', '" + table + "' on '" + name + "'";
  return "conflict strategies differ (" + what + "): every node of a cluster needs the same --strategy flags";
}

std::int64_t Node::clock_offset_of(const Link& link, const wire::Hello& hello) {
  const std::uint64_t wall = clock_.now_ms();
  const std::uint64_t reference = link.outbound ? wall - (now_ms() - link.hello_sent_ms) / 2 : wall;
  return static_cast<std::int64_t>(hello.clock_ms) - static_cast<std::int64_t>(reference);
}

void Node::establish(Link& link, const wire::Hello& hello, std::int64_t offset) {
  const std::uint64_t now = now_ms();
  const std::uint64_t wall = clock_.now_ms();
  const NodeId peer = hello.node_id;
  link.peer = peer;
  link.established = true;
  link.dial_watch.stop();  // up: nothing reads its events any more

  PeerRecord& rec = known_[peer];
  rec.node_id = peer;
  rec.name = hello.name;
  if (!link.key.empty()) {
    if (!rec.public_key.empty() && rec.public_key != link.key) {
      SHOPSYNC_LOG(warn, "node " << hex_id(peer) << " now authenticates with key " << link.key << " (was "
                                 << rec.public_key << ")");
    }
    rec.public_key = link.key;
  }
  rec.role = hello.role;
  rec.last_seen_ms = wall;
  rec.clock_offset_ms = offset;
  rec.knowledge = hello.knowledge;
  rec.last_error.clear();
  if (link.outbound) {
    if (Target* t = target_by_id(link.target)) {
      rec.address = link.address;  // the path in use, not the target's newest
      rec.source = t->source;
      t->peer = peer;
      t->key = link.key;
      t->failures = 0;
      t->refused = false;
      t->last_error.clear();
      // The other candidate keys of this target are wrong: drop their DEALERs.
      std::vector<std::uint64_t> others;
      for (auto id : t->links) {
        if (id != link.id) others.push_back(id);
      }
      for (auto id : others) close_link(id, "another key answered", false);
    }
  } else {
    if (hello.listen_port != 0 && !link.ip.empty()) rec.address = host_for(link.ip) + ":" + std::to_string(hello.listen_port);
    if (Target* t = identify_targets(link, peer)) rec.source = t->source;
    bool have_target = false;
    for (const auto& [id, t] : targets_) have_target |= (t->peer == peer);
    if (!have_target) rec.source = PeerSource::inbound;
    // The smaller id also dials a peer that dialed it, once their connection
    // is gone: remember where. The target is made a little later (run_timers)
    // so that a static peer still being identified is not dialed twice under
    // two names.
    if (!have_target && prefers_outbound(peer) && hello.listen_port != 0 && !link.ip.empty()) {
      learned_[peer] = Learned{PeerAddress{host_for(link.ip), hello.listen_port, link.key}, now + kLearnDelayMs};
    }
  }
  dirty_.insert(peer);
  link.heard = hello.knowledge;
  link.incarnation = hello.incarnation;
  link.strategies_digest = hello.strategies_digest;
  link.strategies = hello.strategies;
  link.confirmed = false;
  if (link.outbound) {
    // This HELLO answers ours: both sides accept the link. The peer learns it
    // from the first frame that follows its answer; this one goes at once.
    send_frame(link, wire::Heartbeat{wall});
    confirm(link);
  }
  // Inbound: the dialer may still refuse our answer (its own checks, a clock
  // step since its HELLO); its next frame confirms (handle_frame), an ERROR
  // closes the link (handle_error). Until then any session stays where it is.
}

// Either side dials, so a pair may hold two links; both nodes must settle on
// the same one, and a link one side refused must never carry a session. So a
// session only starts on, or moves to, a link both sides accepted, and when
// there are two the DEALER of the node with the smaller id is kept. The other
// is left alone: its dialer closes it once it has been quiet for
// kSpareLingerMs (run_timers), so that what the peer sent on it before moving
// is still read; the peer's side ends with its silence.
void Node::confirm(Link& link) {
  link.confirmed = true;
  const NodeId peer = link.peer;
  auto s = sessions_.find(peer);
  if (s == sessions_.end()) {
    auto session = std::make_unique<Session>();
    session->peer = peer;
    session->link = link.id;
    session->name = known_[peer].name;
    session->connected_ms = now_ms();
    sessions_.emplace(peer, std::move(session));
    const PeerRecord& rec = known_[peer];
    SHOPSYNC_LOG(info, "connected to peer '" << rec.name << "' (" << hex_id(peer) << ", " << to_string(rec.role)
                                             << ", " << (rec.address.empty() ? "?" : rec.address) << ", "
                                             << (link.outbound ? "our connection" : "its connection") << ")");
    restart_conversation(peer, link);
    return;
  }
  Session& session = *s->second;
  const Link* current = link_by_id(session.link);
  if (current == nullptr || session.link == link.id) {
    // A HELLO again on the link in use: the peer restarted its side of the
    // conversation.
    session.link = link.id;
    restart_conversation(peer, link);
    return;
  }
  const bool same_process = link.incarnation != 0 && link.incarnation == current->incarnation;
  // Another process of the peer (it restarted) says HELLO on a new link while
  // the old one, dead now, may not have failed yet here: the session follows
  // it, whichever side dialed.
  const bool restarted = link.incarnation != 0 && current->incarnation != 0 && !same_process;
  const bool preferred = link.outbound == prefers_outbound(peer);
  if (!preferred && !restarted) return;  // the session's link stays; this one is a spare
  // The connection the rule keeps, and the newest.
  SHOPSYNC_LOG(debug, "peer " << hex_id(peer) << ": switching to " << link.describe()
                              << (same_process ? "" : " (a new process of it)"));
  session.link = link.id;
  // The same process on both links: the conversation goes on where it was.
  // Its answers in progress, pulls and claims stay valid, since nothing sent
  // on the old link is lost (it is read until quiet): starting over would
  // send again every batch in flight.
  if (!same_process) restart_conversation(peer, link);
}

void Node::restart_conversation(NodeId peer, const Link& link) {
  replica_->peer_disconnected(peer);
  replica_->peer_connected(peer, link.heard, link.told, outbox());
  flush_outbox();
}

// ---- sending ----------------------------------------------------------------

Node::Sent Node::send_frame(Link& link, const wire::WireMessage& message) {
  // HELLO and ERROR always go out at version 1, which every version reads, so
  // that nodes of any two versions can at least refuse each other clearly.
  const auto type = wire::type_of(message);
  const std::uint32_t version =
      (type == wire::MessageType::hello || type == wire::MessageType::error) ? wire::kProtocolMin : link.version;
  const std::string frame = wire::encode(message, version);
  Result<bool> sent = false;
  if (link.outbound) {
    const std::string_view parts[] = {frame};
    sent = link.dealer.send(parts);
  } else {
    const std::string_view parts[] = {link.routing_id, frame};
    sent = router_.send(parts);
  }
  if (!sent) {
    // The peer's connection is gone (ROUTER_MANDATORY) or the socket failed.
    SHOPSYNC_LOG(debug, link.describe() << ": send failed: " << sent.status().to_string());
    return Sent::failed;
  }
  if (!*sent) {
    SHOPSYNC_LOG(debug, link.describe() << ": send queue full, " << wire::to_string(type) << " dropped");
    return Sent::dropped;
  }
  link.last_send_ms = now_ms();
  return Sent::ok;
}

void Node::send_error(Link& link, wire::ErrorCode code, const std::string& text) {
  send_frame(link, wire::Error{static_cast<std::uint32_t>(code), text.substr(0, 1024)});
}

void Node::flush_outbox() {
  // Taken out first: closing a link below may run the replica again, which
  // queues (and flushes) messages of its own.
  std::vector<std::pair<NodeId, Message>> queue;
  queue.swap(outbox_->queue);
  for (std::size_t i = 0; i < queue.size(); ++i) {
    auto& [to, message] = queue[i];
    auto s = sessions_.find(to);
    if (s == sessions_.end()) continue;  // the core repairs lost messages with later pulls
    Link* link = link_by_id(s->second->link);
    if (link == nullptr) continue;
    wire::WireMessage wm = std::visit([](auto&& m) -> wire::WireMessage { return std::move(m); }, std::move(message));
    if (send_frame(*link, wm) == Sent::failed && !link->outbound) {
      // ROUTER_MANDATORY: the routing id is gone.
      const std::uint64_t id = link->id;
      close_link(id, "connection lost", true);
    }
  }
}

}  // namespace shopsync
