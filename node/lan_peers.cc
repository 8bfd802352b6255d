#include "node/lan_peers.h"

#include <algorithm>

#include "net/public_key_text.h"
#include "node/log.h"
#include "node/peer_paths.h"
#include "node/peer_table.h"
#include "node/wire_codec.h"

namespace shopsync {

namespace {

using discovery::IpFamily;
using discovery::PeerEvent;

// Discovery's live paths, by peer.
std::map<NodeId, std::vector<PeerEvent>> paths_by_peer(const discovery::Discovery* d) {
  std::map<NodeId, std::vector<PeerEvent>> out;
  if (d) {
    for (auto& e : d->peers()) out[e.node_id].push_back(std::move(e));
  }
  return out;
}

const std::vector<PeerEvent> kNoPaths;  // a lost peer's

}  // namespace

std::unique_ptr<LanPeers> LanPeers::start(const NodeConfig& config, const Self& self, Peering& peering,
                                          std::function<peering::Now()> now,
                                          std::function<bool(std::string_view key)> is_trusted) {
  std::unique_ptr<LanPeers> lan(new LanPeers(peering, std::move(now), std::move(is_trusted)));
  if (!config.mdns) {
    lan->off_reason_ = "turned off (--no-mdns or mdns = false)";
    return lan;
  }
  if (config.insecure) {
    lan->off_reason_ = "off in --insecure mode (it would announce a CURVE key)";
    SHOPSYNC_LOG(warn, "mDNS discovery is off in --insecure mode (it announces a CURVE key); use --peer");
    return lan;
  }
  discovery::Announcement a;
  a.name = config.name;
  a.port = self.port;
  a.cluster = config.cluster.value_or("default");
  a.node_id = self.id;
  a.public_key = self.public_key;
  a.role = config.role;
  a.protocol = wire::kProtocolMax;
  discovery::DiscoveryOptions options;
  options.allow_interfaces = config.mdns_interfaces;
  options.record_ttl = std::chrono::seconds(config.mdns_ttl_s);
  options.log = [](std::string_view line) { SHOPSYNC_LOG(debug, "mdns: " << line); };
  LanPeers* raw = lan.get();
  auto d = discovery::Discovery::start(a, options, [raw](const PeerEvent& e) {
    raw->changed_.insert(e.node_id);
    if (!e.why.empty()) {
      SHOPSYNC_LOG(info, "peer '" << e.name << "' (" << peer_table_key(e.node_id) << ") forgotten from discovery on "
                                  << e.interface_name << ": " << e.why
                                  << ": it looks switched off, unplugged or crashed");
    }
  });
  if (!d) {
    lan->off_reason_ = "could not start: " + d.status().message();
    SHOPSYNC_LOG(warn, "mDNS discovery is off: " << d.status().to_string() << " (static peers still work)");
    return lan;
  }
  lan->discovery_ = std::move(*d);
  lan->started_ms_ = lan->now_().mono_ms;
  SHOPSYNC_LOG(info, "announcing _shopsync._tcp '" << config.name << "' on mDNS and browsing for peers");
  return lan;
}

LoopSource LanPeers::source() {
  LoopSource source;
  source.prepare = [this](std::vector<zmq::PollEntry>& entries) {
    if (!discovery_) return -1;
    for (const auto& fd : discovery_->fds()) {
      zmq::PollEntry e;
      e.fd = fd.fd;
      e.want_read = (fd.events & discovery::poll_in) != 0;
      e.want_write = (fd.events & discovery::poll_out) != 0;
      entries.push_back(e);
    }
    int timeout = discovery_->timeout_ms();
    if (!waiting_ipv4_.empty()) {
      std::uint64_t due = waiting_ipv4_.begin()->second;
      for (const auto& [peer, at] : waiting_ipv4_) due = std::min(due, at);
      const std::uint64_t now = now_().mono_ms;
      const int left = due <= now ? 0 : static_cast<int>(due - now);
      timeout = timeout < 0 ? left : std::min(timeout, left);
    }
    return timeout;
  };
  source.on_ready = [this](std::span<const zmq::PollEntry> entries) {
    if (!discovery_) return;
    std::vector<discovery::PollFd> ready;
    for (const auto& e : entries) {
      discovery::PollFd fd;
      fd.fd = e.fd;
      fd.events = static_cast<short>((e.want_read ? discovery::poll_in : 0) | (e.want_write ? discovery::poll_out : 0));
      fd.revents = static_cast<short>((e.readable ? discovery::poll_in : 0) | (e.writable ? discovery::poll_out : 0));
      ready.push_back(fd);
    }
    // Dispatching early is harmless, so every turn also runs due timers.
    discovery_->dispatch(ready);
    // Discovery reports neither this node nor other clusters, and its peers()
    // already reflect the events: reconcile each peer they were about.
    reconcile_waiting();
    auto changed = std::move(changed_);
    changed_.clear();
    if (changed.empty()) return;
    const auto paths = paths_by_peer(discovery_.get());
    for (NodeId peer : changed) {
      auto found = paths.find(peer);
      reconcile(peer, found == paths.end() ? kNoPaths : found->second);
    }
  };
  return source;
}

void LanPeers::vanished(NodeId peer) {
  if (!discovery_) return;
  for (const auto& path : discovery_->peers()) {
    if (path.node_id != peer) continue;
    if (discovery_->reconfirm(peer)) {
      SHOPSYNC_LOG(info, "peer '" << path.name << "' (" << peer_table_key(peer) << ") lost without a goodbye: "
                                  << "asking the LAN for its mDNS records again (reconfirm)");
    }
    return;
  }
}

void LanPeers::heard_from(NodeId peer) {
  if (discovery_) discovery_->heard_from(peer);
}

void LanPeers::stop() {
  if (discovery_) discovery_->stop();  // goodbye (TTL 0)
}

void LanPeers::reconcile(NodeId peer, const std::vector<PeerEvent>& paths) {
  const PeerEvent* best = best_path(paths);
  if (!best) {
    waiting_ipv4_.erase(peer);
    return peering_.discovered(peer, nullptr, now_());
  }
  if (best->family == IpFamily::ipv6 && !peering_.target_of(peer, best->public_key)) {
    // New, and over IPv6 alone so far: its IPv4 path may be a moment behind.
    const std::uint64_t now = now_().mono_ms;
    const auto waiting = waiting_ipv4_.try_emplace(peer, now + kIpv4GraceMs).first;
    if (now < waiting->second) return;
  }
  waiting_ipv4_.erase(peer);
  peering::Discovered found;
  found.name = best->name;
  found.address = PeerAddress{best->dial_host(), best->port, best->public_key};
  found.shown = best->address;
  found.interface_name = best->interface_name;
  found.protocol = best->protocol;
  peering_.discovered(peer, &found, now_());
}

void LanPeers::reconcile_waiting() {
  if (waiting_ipv4_.empty()) return;
  const std::uint64_t now = now_().mono_ms;
  std::vector<NodeId> due;
  for (const auto& [peer, at] : waiting_ipv4_) {
    if (at <= now) due.push_back(peer);
  }
  if (due.empty()) return;
  const auto paths = paths_by_peer(discovery_.get());
  for (NodeId peer : due) {
    auto found = paths.find(peer);
    reconcile(peer, found == paths.end() ? kNoPaths : found->second);
  }
}

void LanPeers::reconcile_all() {
  for (const auto& [peer, paths] : paths_by_peer(discovery_.get())) reconcile(peer, paths);
}

api::DiscoveryReport LanPeers::report(std::uint32_t static_peers) const {
  api::DiscoveryReport out;
  out.static_peers = static_peers;
  if (!discovery_) {
    out.off_reason = off_reason_;
    out.state = "off";
    return out;
  }
  const std::uint64_t now = now_().mono_ms;
  const discovery::DiscoveryDiagnostics d = discovery_->diagnostics();
  out.enabled = true;
  out.state = d.state;
  out.published_name = d.published_name;
  out.host_name = d.host_name;
  out.publishing_addresses = d.publishing_addresses;
  out.name_conflicts = d.name_conflicts;
  out.uptime_ms = now - started_ms_;
  for (const auto& i : d.interfaces) {
    out.interfaces.push_back({i.name, static_cast<std::uint32_t>(i.index), i.addresses, i.joined_ipv4, i.joined_ipv6,
                              i.answers_received, i.peers_seen, i.kernel_ipv6_multicast_sent,
                              i.kernel_ipv6_multicast_received});
  }
  for (const auto& r : d.refused) {
    out.refused.push_back({r.name, r.interface_name, std::string(discovery::to_string(r.reason)), r.detail, r.times});
  }
  for (const auto& r : d.reconfirmations) out.reconfirmed.push_back({r.node_id, r.name, r.state, r.age_ms, r.queries});
  for (const auto& [peer, paths] : paths_by_peer(discovery_.get())) {
    const PeerEvent* best = best_path(paths);
    api::DiscoveredPeer p;
    p.node_id = peer;
    p.name = best->name;
    // Connected: the path the connection runs over; else the one to dial.
    const PeerEvent* shown = best;
    p.address = PeerAddress{best->dial_host(), best->port, {}}.to_string();
    if (const std::string live = peering_.live_address(peer); !live.empty()) {
      p.address = live;
      if (const PeerEvent* in_use = path_at(paths, host_of(live))) shown = in_use;
    }
    p.interface_name = shown->interface_name;
    p.family = shown->family == IpFamily::ipv4 ? "ipv4" : "ipv6";
    p.role = std::string(to_string(best->role));
    p.public_key = best->public_key;
    p.protocol = best->protocol;
    p.paths = static_cast<std::uint32_t>(paths.size());
    const peering::Target* target = peering_.target_of(peer, best->public_key);
    if (peering_.connected(peer)) {
      p.state = "connected";
    } else if (best->protocol < wire::kProtocolMin) {
      p.state = "incompatible";
      p.detail = "it speaks protocol " + std::to_string(best->protocol) + "; this node needs " +
                 std::to_string(wire::kProtocolMin) + " to " + std::to_string(wire::kProtocolMax) + ": upgrade it";
    } else if (!is_trusted_(best->public_key)) {
      p.state = "untrusted";
      p.detail = "its key is not trusted here; if it is yours: shopsync trust add " + format_public_key(best->public_key);
    } else if (target && target->failures > 0) {
      p.state = "unreachable";
      p.detail = target->last_error + " (sync port " + std::to_string(best->port) +
                 " blocked by a firewall, or the node does not trust this one)";
    } else if (target) {
      p.state = "connecting";
      p.detail = target->links.empty() ? "it is dialed now" : "dialed " + target->address.to_string() + ", no answer yet";
    } else {
      p.state = "waiting";
      p.detail = "found, not dialed yet";
    }
    if (p.state != "connected") {
      std::uint64_t since = target ? target->created_ms : started_ms_;
      if (auto gone = peering_.disconnected_at(peer)) since = std::max(since, *gone);
      p.unconnected_ms = now - std::min(since, now);
    }
    out.peers.push_back(std::move(p));
  }
  return out;
}

}  // namespace shopsync
