// Node: the sync sockets under Peering (node/peering/peering.h). Inbound
// routing ids on the ROUTER and outbound DEALERs carry the frames; what
// arrives becomes Peering events, and Peering's sends, dials and closes
// become socket calls (Node::Transport).
#include "node/node.h"
#include "node/node_parts.h"

namespace shopsync {

namespace {

std::string hex_id(NodeId id) { return peer_table_key(id); }

}  // namespace

void Node::NodeOutbox::conflict(const ConflictEntry& entry) {
  SHOPSYNC_LOG(info, "conflict on " << entry.key.collection << "/" << entry.key.id << ": " << entry.siblings.size()
                                    << " concurrent versions, strategy " << entry.strategy << ", winner "
                                    << hex_id(entry.winner.origin) << ":" << entry.winner.counter
                                    << (entry.near_simultaneous ? " (near-simultaneous writes)" : ""));
  if (node_.observer_.conflict) node_.observer_.conflict(entry);
}

// ---- the transport ------------------------------------------------------------

Status Node::Transport::dial(std::uint64_t link, const PeerAddress& address, const std::string& key, bool retry) {
  const NodeConfig& config = node_.config_;
  auto socket = zmq::Socket::open(*node_.ctx_, zmq::SocketType::dealer);
  Status s = socket.status();
  if (s) s = socket->set_max_message_size(wire::max_message_size());
  if (s) s = socket->set_high_water_marks(kSendHighWater, kReceiveHighWater);
  if (s) s = socket->set_reconnect_interval(100, 1000);
  if (s) s = socket->set_handshake_interval(static_cast<int>(config.peer_timeout_ms));
  if (s) s = socket->set_ipv6(true);  // IPv4 addresses still work; [fe80::1%eth0] needs it
  if (s && !config.insecure) {
    s = socket->set_curve_client(node_.identity_.public_key, node_.identity_.secret_key, key);
  }
  Result<DialWatch> watch =
      s ? DialWatch::attach(*node_.ctx_, *socket, link, address.host, address.port, retry) : Result<DialWatch>(s);
  if (!watch) s = watch.status();
  if (s) s = socket->connect(address.endpoint());
  if (!s) return s;
  dealers.emplace(link, Dealer{std::move(*socket), std::move(*watch)});
  return Status::ok();
}

peering::Io::Sent Node::Transport::send(std::uint64_t link, std::string_view frame) {
  Result<bool> sent = false;
  if (auto d = dealers.find(link); d != dealers.end()) {
    const std::string_view parts[] = {frame};
    sent = d->second.socket.send(parts);
  } else if (auto in = inbound.find(link); in != inbound.end()) {
    const std::string_view parts[] = {in->second.routing_id, frame};
    sent = node_.router_.send(parts);
  } else {
    return Sent::failed;
  }
  if (!sent) {
    // The peer's connection is gone (ROUTER_MANDATORY) or the socket failed.
    SHOPSYNC_LOG(debug, "link " << link << ": " << sent.status().to_string());
    return Sent::failed;
  }
  return *sent ? Sent::ok : Sent::dropped;
}

void Node::Transport::close(std::uint64_t link, bool end_connection) {
  if (dealers.erase(link) != 0) return;
  auto in = inbound.find(link);
  if (in == inbound.end()) return;
  if (end_connection && zmq::shutdown_connection(in->second.fd, in->second.ip)) {
    SHOPSYNC_LOG(debug, "ended the TCP connection of inbound link " << link << " from " << in->second.ip);
  }
  by_routing.erase(in->second.routing_id);
  inbound.erase(in);
}

void Node::Transport::established(std::uint64_t link) {
  if (auto d = dealers.find(link); d != dealers.end()) d->second.watch.stop();  // up: nothing reads its events
  // A peer that discovery forgot after an unanswered reconfirmation is back.
  const peering::Link* up = node_.peering_ ? node_.peering_->link(link) : nullptr;
  if (up && up->peer != 0 && node_.mdns_ && node_.mdns_->discovery) node_.mdns_->discovery->heard_from(up->peer);
}

peering::DialState Node::Transport::dial_state(std::uint64_t link) {
  auto d = dealers.find(link);
  if (d == dealers.end()) return {};
  peering::DialState state;
  state.failure = d->second.watch.failure();
  state.reached = d->second.watch.reached();
  return state;
}

std::vector<std::string> Node::Transport::trusted_keys() {
  std::vector<std::string> keys;
  Status s = node_.store_->read([&](StoreReader& r) -> Status {
    auto rows = list_trusted_keys(r);
    if (!rows) return rows.status();
    for (const auto& row : *rows) keys.push_back(row.key);
    return Status::ok();
  });
  if (!s) SHOPSYNC_LOG(error, "reading the trusted keys: " << s.to_string());
  return keys;
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
    auto it = transport_->by_routing.find(routing_id);
    std::uint64_t link = it == transport_->by_routing.end() ? 0 : it->second;
    if (link == 0) {
      link = peering_->inbound_link(config_.insecure ? std::string() : m.user_id, now());
      if (link == 0) {  // its key was revoked since ZAP admitted it
        zmq::shutdown_connection(m.source_fd, m.peer_address);
        continue;
      }
      transport_->by_routing[routing_id] = link;
      transport_->inbound[link].routing_id = routing_id;
    }
    Transport::Inbound& in = transport_->inbound[link];
    in.ip = m.peer_address;
    in.fd = m.source_fd;
    peering_->note_address(link, m.peer_address);
    if (m.parts.size() != 2) {
      peering_->malformed(link, "a frame is one message part; got " + std::to_string(m.parts.size() - 1), now());
      continue;
    }
    peering_->frame(link, m.parts[1], now());
  }
}

void Node::handle_dealer(std::uint64_t link) {
  const std::uint64_t start = now_ms();
  for (int i = 0; i < 256 && now_ms() - start < kTurnBudgetMs; ++i) {
    auto d = transport_->dealers.find(link);  // handling a frame may close the link
    if (d == transport_->dealers.end()) return;
    auto msg = d->second.socket.receive();
    if (!msg) {
      peering_->link_failed(link, msg.status().to_string(), now());
      return;
    }
    if (!msg->has_value()) return;
    zmq::Received& m = **msg;
    if (m.parts.size() != 1) {
      peering_->malformed(link, "a frame is one message part; got " + std::to_string(m.parts.size()), now());
      continue;
    }
    peering_->frame(link, m.parts[0], now());
  }
}

// ---- sending ----------------------------------------------------------------

void Node::say_goodbye(const std::string& reason) {
  const int said = peering_->say_goodbye(reason, now());
  constexpr int kGoodbyeLingerMs = 1000;  // the longest a stop waits for them to leave
  (void)router_.set_linger(kGoodbyeLingerMs);
  for (auto& [id, dealer] : transport_->dealers) (void)dealer.socket.set_linger(kGoodbyeLingerMs);
  SHOPSYNC_LOG(debug, "said goodbye on " << said << " link(s)");
}

void Node::flush_outbox() { peering_->flush(now()); }

}  // namespace shopsync
