#include "node/sync_transport.h"

#include "net/public_key_text.h"
#include "net/zap_handler.h"
#include "node/log.h"
#include "node/peering/peering.h"
#include "node/wire_codec.h"

namespace shopsync {

namespace {

constexpr int kSendHighWater = 10000;  // messages queued per peer before sends are dropped
constexpr int kReceiveHighWater = 10000;
// Reading one socket for at most this long, then the others get a turn: the
// local API, the timers and the other peers stay served while a big sync
// streams in (a batch costs a commit, and a peer refills the socket as fast
// as it is drained).
constexpr std::uint64_t kTurnBudgetMs = 5;
constexpr int kTurnFrames = 256;
constexpr std::uint64_t kZapLogIntervalMs = 60'000;  // one "refused" line per key and address a minute

std::string parts_text(std::size_t parts) {
  return "a frame is one message part; got " + std::to_string(parts);
}

}  // namespace

SyncTransport::SyncTransport(zmq::Context& ctx, const NodeIdentity& identity, Options options, Hooks hooks)
    : ctx_(ctx), identity_(identity), options_(std::move(options)), hooks_(std::move(hooks)) {}

SyncTransport::~SyncTransport() = default;

Result<std::unique_ptr<SyncTransport>> SyncTransport::open(zmq::Context& ctx, const NodeIdentity& identity,
                                                           Options options, Hooks hooks) {
  std::unique_ptr<SyncTransport> transport(new SyncTransport(ctx, identity, std::move(options), std::move(hooks)));
  SHOPSYNC_TRY(transport->bind());
  return transport;
}

Status SyncTransport::bind() {
  if (!options_.insecure) {
    auto zap = zmq::Socket::open(ctx_, zmq::SocketType::rep);
    if (!zap) return zap.status();
    zap_ = std::move(*zap);
    SHOPSYNC_TRY(zap_.bind(std::string(kZapEndpoint)).context("binding the ZAP handler"));
  }
  auto router = zmq::Socket::open(ctx_, zmq::SocketType::router);
  if (!router) return router.status();
  router_ = std::move(*router);
  SHOPSYNC_TRY(router_.set_max_message_size(wire::max_message_size()));
  SHOPSYNC_TRY(router_.set_router_mandatory(true));
  SHOPSYNC_TRY(router_.set_high_water_marks(kSendHighWater, kReceiveHighWater));
  SHOPSYNC_TRY(router_.set_handshake_interval(static_cast<int>(options_.handshake_ms)));
  // "*" then listens on IPv6 too (peers found over IPv6 link-local dial it);
  // libzmq falls back to IPv4 alone where the host has no IPv6.
  SHOPSYNC_TRY(router_.set_ipv6(true));
  if (!options_.insecure) {
    SHOPSYNC_TRY(router_.set_zap_domain(kZapDomain));
    SHOPSYNC_TRY(router_.set_curve_server(identity_.secret_key));
  }
  SHOPSYNC_TRY(router_.bind(options_.listen).context("binding the sync port (--listen)"));
  auto endpoint = router_.last_endpoint();
  if (!endpoint) return endpoint.status();
  endpoint_ = *endpoint;
  if (auto colon = endpoint_.rfind(':'); colon != std::string::npos) {
    port_ = static_cast<std::uint16_t>(std::stoul(endpoint_.substr(colon + 1)));
  }
  return Status::ok();
}

void SyncTransport::attach(Peering& peering, std::function<peering::Now()> now) {
  peering_ = &peering;
  now_ = std::move(now);
}

LoopSource SyncTransport::source() {
  LoopSource source;
  source.prepare = [this](std::vector<zmq::PollEntry>& entries) {
    if (zap_.is_open()) entries.push_back({zap_.handle()});
    entries.push_back({router_.handle()});
    polled_dealers_.clear();
    for (const auto& [link, dealer] : dealers_) {
      entries.push_back({dealer.socket.handle()});
      polled_dealers_.push_back(link);
    }
    return -1;
  };
  source.on_ready = [this](std::span<const zmq::PollEntry> entries) {
    std::size_t i = 0;
    if (zap_.is_open() && entries[i++].readable) answer_zap();
    if (entries[i++].readable) receive_inbound();
    for (std::uint64_t link : polled_dealers_) {
      if (entries[i++].readable) receive_outbound(link);
    }
  };
  return source;
}

void SyncTransport::linger(int ms) {
  (void)router_.set_linger(ms);
  for (auto& [link, dealer] : dealers_) (void)dealer.socket.set_linger(ms);
}

// ---- receiving ----------------------------------------------------------------

void SyncTransport::answer_zap() {
  for (int i = 0; i < 64; ++i) {
    auto msg = zap_.receive();
    if (!msg) {
      SHOPSYNC_LOG(error, "ZAP handler: " << msg.status().to_string());
      return;
    }
    if (!msg->has_value()) return;
    const ZapDecision d = answer_zap_request((*msg)->parts, hooks_.is_trusted);
    if (!d.admitted) {
      const std::uint64_t now = now_().mono_ms;
      auto& last = zap_logged_ms_[d.client_key + "|" + d.address];
      if (last == 0 || now - last > kZapLogIntervalMs) {
        last = now;
        SHOPSYNC_LOG(warn, "refused a sync connection from "
                               << (d.address.empty() ? "?" : d.address) << ": " << d.reason
                               << (d.client_key.empty()
                                       ? ""
                                       : " (trust it with: shopsync trust add " + format_public_key(d.client_key) + ")"));
      }
    }
    std::vector<std::string_view> parts(d.reply.begin(), d.reply.end());
    if (auto sent = zap_.send(parts); !sent) SHOPSYNC_LOG(error, "ZAP reply: " << sent.status().to_string());
  }
}

void SyncTransport::receive_inbound() {
  const std::uint64_t start = now_().mono_ms;
  for (int i = 0; i < kTurnFrames && now_().mono_ms - start < kTurnBudgetMs; ++i) {
    auto msg = router_.receive();
    if (!msg) {
      SHOPSYNC_LOG(error, "sync port: " << msg.status().to_string());
      return;
    }
    if (!msg->has_value()) return;
    zmq::Received& m = **msg;
    if (m.parts.size() < 2) continue;  // no routing id: cannot answer
    const std::string& routing_id = m.parts[0];
    auto known = by_routing_.find(routing_id);
    std::uint64_t link = known == by_routing_.end() ? 0 : known->second;
    if (link == 0) {
      link = peering_->inbound_link(options_.insecure ? std::string() : m.user_id, now_());
      if (link == 0) {  // its key was revoked since ZAP admitted it
        zmq::shutdown_connection(m.source_fd, m.peer_address);
        continue;
      }
      by_routing_[routing_id] = link;
      inbound_[link].routing_id = routing_id;
    }
    Inbound& in = inbound_[link];
    in.ip = m.peer_address;
    in.fd = m.source_fd;
    peering_->note_address(link, m.peer_address);
    if (m.parts.size() != 2) {
      peering_->malformed(link, parts_text(m.parts.size() - 1), now_());
      continue;
    }
    peering_->frame(link, m.parts[1], now_());
  }
}

void SyncTransport::receive_outbound(std::uint64_t link) {
  const std::uint64_t start = now_().mono_ms;
  for (int i = 0; i < kTurnFrames && now_().mono_ms - start < kTurnBudgetMs; ++i) {
    auto d = dealers_.find(link);  // handling a frame may close the link
    if (d == dealers_.end()) return;
    auto msg = d->second.socket.receive();
    if (!msg) {
      peering_->link_failed(link, msg.status().to_string(), now_());
      return;
    }
    if (!msg->has_value()) return;
    zmq::Received& m = **msg;
    if (m.parts.size() != 1) {
      peering_->malformed(link, parts_text(m.parts.size()), now_());
      continue;
    }
    peering_->frame(link, m.parts[0], now_());
  }
}

// ---- Peering's calls ------------------------------------------------------------

Status SyncTransport::dial(std::uint64_t link, const PeerAddress& address, const std::string& key, bool retry) {
  auto socket = zmq::Socket::open(ctx_, zmq::SocketType::dealer);
  Status s = socket.status();
  if (s) s = socket->set_max_message_size(wire::max_message_size());
  if (s) s = socket->set_high_water_marks(kSendHighWater, kReceiveHighWater);
  if (s) s = socket->set_reconnect_interval(100, 1000);
  if (s) s = socket->set_handshake_interval(static_cast<int>(options_.handshake_ms));
  if (s) s = socket->set_ipv6(true);  // IPv4 addresses still work; [fe80::1%eth0] needs it
  if (s && !options_.insecure) s = socket->set_curve_client(identity_.public_key, identity_.secret_key, key);
  Result<DialWatch> watch =
      s ? DialWatch::attach(ctx_, *socket, link, address.host, address.port, retry) : Result<DialWatch>(s);
  if (!watch) s = watch.status();
  if (s) s = socket->connect(address.endpoint());
  if (!s) return s;
  dealers_.emplace(link, Dealer{std::move(*socket), std::move(*watch)});
  return Status::ok();
}

peering::Io::Sent SyncTransport::send(std::uint64_t link, std::string_view frame) {
  Result<bool> sent = false;
  if (auto d = dealers_.find(link); d != dealers_.end()) {
    const std::string_view parts[] = {frame};
    sent = d->second.socket.send(parts);
  } else if (auto in = inbound_.find(link); in != inbound_.end()) {
    const std::string_view parts[] = {in->second.routing_id, frame};
    sent = router_.send(parts);
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

void SyncTransport::close(std::uint64_t link, bool end_connection) {
  if (dealers_.erase(link) != 0) return;
  auto in = inbound_.find(link);
  if (in == inbound_.end()) return;
  if (end_connection && zmq::shutdown_connection(in->second.fd, in->second.ip)) {
    SHOPSYNC_LOG(debug, "ended the TCP connection of inbound link " << link << " from " << in->second.ip);
  }
  by_routing_.erase(in->second.routing_id);
  inbound_.erase(in);
}

void SyncTransport::established(std::uint64_t link) {
  if (auto d = dealers_.find(link); d != dealers_.end()) d->second.watch.stop();  // up: nothing reads its events
  const peering::Link* up = peering_ ? peering_->link(link) : nullptr;
  if (up && up->peer != 0 && hooks_.heard_from) hooks_.heard_from(up->peer);
}

peering::DialState SyncTransport::dial_state(std::uint64_t link) {
  auto d = dealers_.find(link);
  if (d == dealers_.end()) return {};
  peering::DialState state;
  state.failure = d->second.watch.failure();
  state.reached = d->second.watch.reached();
  return state;
}

void SyncTransport::vanished(NodeId peer) {
  if (hooks_.vanished) hooks_.vanished(peer);
}

}  // namespace shopsync
