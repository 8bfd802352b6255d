// Node: DNS-SD discovery (discovery/discovery.h) driven from the node's loop.
//
// Discovery knows the live paths (interface x IP family) to each peer; after
// every event about a peer the node reconciles it against them: a peer whose
// key is trusted becomes a target at its best path's address (IPv4 first,
// then IPv6 link-local with its interface), whatever the two ids: either side
// dials (node.h, "Peers"). A peer whose last path is lost is still
// dialed at its last address for peering::kForgetDiscoveredMs, then
// forgotten (node/peering/peering.h).
// A peer whose link dies without a goodbye has its records reconfirmed
// (Transport::vanished below, discovery/reconfirm.h): unanswered, it is lost
// within seconds rather than at the end of its records' TTL.
// Trusting a key later reconciles every peer seen, so `shopsync trust add`
// connects without a restart.
#include <algorithm>

#include "discovery/discovery.h"
#include "node/node.h"
#include "node/node_parts.h"
#include "node/peer_paths.h"
#include "node/public_key_text.h"

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

void Node::start_mdns() {
  mdns_ = std::make_unique<Mdns>();
  if (!config_.mdns) {
    mdns_->off_reason = "turned off (--no-mdns or mdns = false)";
    return;
  }
  if (config_.insecure) {
    mdns_->off_reason = "off in --insecure mode (it would announce a CURVE key)";
    SHOPSYNC_LOG(warn, "mDNS discovery is off in --insecure mode (it announces a CURVE key); use --peer");
    return;
  }
  discovery::Announcement a;
  a.name = config_.name;
  a.port = listen_port_;
  a.cluster = *config_.cluster;
  a.node_id = replica_->id();
  a.public_key = identity_.public_key;
  a.role = config_.role;
  a.protocol = wire::kProtocolMax;
  discovery::DiscoveryOptions options;
  options.allow_interfaces = config_.mdns_interfaces;
  options.record_ttl = std::chrono::seconds(config_.mdns_ttl_s);
  options.log = [](std::string_view line) { SHOPSYNC_LOG(debug, "mdns: " << line); };
  Mdns* raw = mdns_.get();
  auto d = discovery::Discovery::start(a, options, [raw](const PeerEvent& e) {
    raw->changed.insert(e.node_id);
    if (!e.why.empty()) {
      SHOPSYNC_LOG(info, "peer '" << e.name << "' (" << peer_table_key(e.node_id) << ") forgotten from discovery on "
                                  << e.interface_name << ": " << e.why
                                  << ": it looks switched off, unplugged or crashed");
    }
  });
  if (!d) {
    mdns_->off_reason = "could not start: " + d.status().message();
    SHOPSYNC_LOG(warn, "mDNS discovery is off: " << d.status().to_string() << " (static peers still work)");
    return;
  }
  mdns_->discovery = std::move(*d);
  mdns_->started_ms = now_ms();
  SHOPSYNC_LOG(info, "announcing _shopsync._tcp '" << config_.name << "' on mDNS and browsing for peers");

  LoopSource source;
  source.prepare = [this](std::vector<zmq::PollEntry>& entries) {
    if (!mdns_->discovery) return -1;
    for (const auto& fd : mdns_->discovery->fds()) {
      zmq::PollEntry e;
      e.fd = fd.fd;
      e.want_read = (fd.events & discovery::poll_in) != 0;
      e.want_write = (fd.events & discovery::poll_out) != 0;
      entries.push_back(e);
    }
    return mdns_->discovery->timeout_ms();
  };
  source.on_ready = [this](std::span<const zmq::PollEntry> entries) {
    if (!mdns_->discovery) return;
    std::vector<discovery::PollFd> ready;
    for (const auto& e : entries) {
      discovery::PollFd fd;
      fd.fd = e.fd;
      fd.events = static_cast<short>((e.want_read ? discovery::poll_in : 0) | (e.want_write ? discovery::poll_out : 0));
      fd.revents = static_cast<short>((e.readable ? discovery::poll_in : 0) | (e.writable ? discovery::poll_out : 0));
      ready.push_back(fd);
    }
    // Dispatching early is harmless, so every turn also runs due timers.
    mdns_->discovery->dispatch(ready);
    // Discovery reports neither this node nor other clusters, and its peers()
    // already reflect the events: reconcile each peer they were about.
    auto changed = std::move(mdns_->changed);
    mdns_->changed.clear();
    if (changed.empty()) return;
    const auto paths = paths_by_peer(mdns_->discovery.get());
    for (NodeId peer : changed) {
      auto found = paths.find(peer);
      reconcile_discovered(peer, found == paths.end() ? kNoPaths : found->second);
    }
  };
  add_source(std::move(source));
}

// Cache flush on failure indication (RFC 6762 10.4): a peer found on the LAN
// whose link died without a goodbye, or that a dial did not reach, has its
// mDNS records asked for again; unanswered, discovery reports it lost within
// seconds rather than at the end of its records' TTL.
void Node::Transport::vanished(NodeId peer) {
  auto* mdns = node_.mdns_.get();
  if (!mdns || !mdns->discovery) return;
  for (const auto& path : mdns->discovery->peers()) {
    if (path.node_id != peer) continue;
    if (mdns->discovery->reconfirm(peer)) {
      SHOPSYNC_LOG(info, "peer '" << path.name << "' (" << peer_table_key(peer) << ") lost without a goodbye: "
                                  << "asking the LAN for its mDNS records again (reconfirm)");
    }
    return;
  }
}

void Node::stop_mdns() {
  if (mdns_ && mdns_->discovery) mdns_->discovery->stop();  // goodbye (TTL 0)
}

void Node::reconcile_discovered(NodeId peer, const std::vector<PeerEvent>& paths) {
  const PeerEvent* best = best_path(paths);
  if (!best) return peering_->discovered(peer, nullptr, now());
  peering::Discovered found;
  found.name = best->name;
  found.address = PeerAddress{best->dial_host(), best->port, best->public_key};
  found.shown = best->address;
  found.interface_name = best->interface_name;
  found.protocol = best->protocol;
  peering_->discovered(peer, &found, now());
}

void Node::reconcile_all_discovered() {
  if (!mdns_) return;
  for (const auto& [peer, paths] : paths_by_peer(mdns_->discovery.get())) reconcile_discovered(peer, paths);
}

api::DiscoveryReport Node::discovery_report() {
  api::DiscoveryReport out;
  out.static_peers = static_cast<std::uint32_t>(config_.peers.size() + (config_.uplink ? 1 : 0));
  if (!mdns_ || !mdns_->discovery) {
    out.off_reason = mdns_ ? mdns_->off_reason : "not started";
    out.state = "off";
    return out;
  }
  const discovery::DiscoveryDiagnostics d = mdns_->discovery->diagnostics();
  out.enabled = true;
  out.state = d.state;
  out.published_name = d.published_name;
  out.host_name = d.host_name;
  out.publishing_addresses = d.publishing_addresses;
  out.name_conflicts = d.name_conflicts;
  out.uptime_ms = now_ms() - mdns_->started_ms;
  for (const auto& i : d.interfaces) {
    out.interfaces.push_back({i.name, static_cast<std::uint32_t>(i.index), i.addresses, i.joined_ipv4, i.joined_ipv6,
                              i.answers_received, i.peers_seen, i.kernel_ipv6_multicast_sent,
                              i.kernel_ipv6_multicast_received});
  }
  for (const auto& r : d.refused) {
    out.refused.push_back({r.name, r.interface_name, std::string(discovery::to_string(r.reason)), r.detail, r.times});
  }
  for (const auto& r : d.reconfirmations) out.reconfirmed.push_back({r.node_id, r.name, r.state, r.age_ms, r.queries});
  for (const auto& [peer, paths] : paths_by_peer(mdns_->discovery.get())) {
    const PeerEvent* best = best_path(paths);
    api::DiscoveredPeer p;
    p.node_id = peer;
    p.name = best->name;
    // Connected: the path the connection runs over; else the one to dial.
    const PeerEvent* shown = best;
    p.address = PeerAddress{best->dial_host(), best->port, {}}.to_string();
    if (const std::string live = peering_->live_address(peer); !live.empty()) {
      p.address = live;
      if (const PeerEvent* in_use = path_at(paths, host_of(live))) shown = in_use;
    }
    p.interface_name = shown->interface_name;
    p.family = shown->family == IpFamily::ipv4 ? "ipv4" : "ipv6";
    p.role = std::string(to_string(best->role));
    p.public_key = best->public_key;
    p.protocol = best->protocol;
    p.paths = static_cast<std::uint32_t>(paths.size());
    const peering::Target* target = peering_->target_of(peer, best->public_key);
    if (peering_->connected(peer)) {
      p.state = "connected";
    } else if (best->protocol < wire::kProtocolMin) {
      p.state = "incompatible";
      p.detail = "it speaks protocol " + std::to_string(best->protocol) + "; this node needs " +
                 std::to_string(wire::kProtocolMin) + " to " + std::to_string(wire::kProtocolMax) + ": upgrade it";
    } else if (!is_trusted(best->public_key)) {
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
      std::uint64_t since = target ? target->created_ms : mdns_->started_ms;
      if (auto gone = peering_->disconnected_at(peer)) since = std::max(since, *gone);
      p.unconnected_ms = now_ms() - std::min(since, now_ms());
    }
    out.peers.push_back(std::move(p));
  }
  return out;
}

}  // namespace shopsync
