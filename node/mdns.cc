// Node: DNS-SD discovery (discovery/discovery.h) driven from the node's loop.
// Discovery proposes addresses; the node dials a discovered peer only when its
// key is already trusted and the one-connection rule says this node dials.
#include "discovery/discovery.h"
#include "node/node.h"
#include "node/node_parts.h"

namespace shopsync {


void Node::start_mdns() {
  if (!config_.mdns) return;
  if (config_.insecure) {
    SHOPSYNC_LOG(warn, "mDNS discovery is off in --insecure mode (it announces a CURVE key); use --peer");
    return;
  }
  discovery::Announcement a;
  a.name = config_.name;
  a.port = listen_port_;
  a.cluster = *config_.cluster;
  a.node_id = replica_->id();
  a.public_key = identity_.public_key;
  a.role = config_.role == NodeRole::uplink ? discovery::Role::uplink : discovery::Role::peer;
  a.protocol = wire::kProtocolMax;
  discovery::DiscoveryOptions options;
  options.log = [](std::string_view line) { SHOPSYNC_LOG(debug, "mdns: " << line); };
  auto m = std::make_unique<Mdns>();
  Mdns* raw = m.get();
  auto d = discovery::Discovery::start(a, options, [raw](const discovery::PeerEvent& e) { raw->events.push_back(e); });
  if (!d) {
    SHOPSYNC_LOG(warn, "mDNS discovery is off: " << d.status().to_string() << " (static peers still work)");
    return;
  }
  m->discovery = std::move(*d);
  mdns_ = std::move(m);
  SHOPSYNC_LOG(info, "announcing _shopsync._tcp '" << config_.name << "' on mDNS and browsing for peers");

  LoopSource source;
  source.prepare = [this](std::vector<zmq::PollEntry>& entries) {
    if (!mdns_ || !mdns_->discovery) return -1;
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
    if (!mdns_ || !mdns_->discovery) return;
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
    auto events = std::move(mdns_->events);
    mdns_->events.clear();
    for (const auto& e : events) on_peer_event(e);
  };
  add_source(std::move(source));
}

void Node::stop_mdns() {
  if (mdns_ && mdns_->discovery) mdns_->discovery->stop();  // goodbye (TTL 0)
}

void Node::on_peer_event(const discovery::PeerEvent& e) {
  if (e.node_id == 0 || e.node_id == replica_->id()) return;
  if (e.cluster != *config_.cluster) {
    SHOPSYNC_LOG(debug, "mdns: ignoring '" << e.name << "' of cluster '" << e.cluster << "'");
    return;
  }
  auto& paths = mdns_->paths[e.node_id];
  const std::pair<int, int> path{e.interface_index, static_cast<int>(e.family)};
  Target* existing = nullptr;
  for (auto& [id, t] : targets_) {
    if (t->peer == e.node_id || (!e.public_key.empty() && t->key == e.public_key)) existing = t.get();
  }
  if (e.kind == discovery::PeerEvent::Kind::lost) {
    paths.erase(path);
    if (!paths.empty()) return;
    mdns_->paths.erase(e.node_id);
    SHOPSYNC_LOG(info, "mdns: node '" << e.name << "' (" << peer_table_key(e.node_id) << ") left the network");
    if (existing && existing->source == PeerSource::mdns && !sessions_.count(e.node_id)) {
      std::vector<std::uint64_t> links(existing->links.begin(), existing->links.end());
      for (auto id : links) close_link(id, "gone from mDNS", false);
      targets_.erase(existing->id);
    }
    return;
  }
  paths.insert(path);
  if (e.protocol < wire::kProtocolMin) return;
  if (!prefers_outbound(e.node_id)) return;  // it dials us (one connection per pair)
  if (e.family == discovery::IpFamily::ipv6 && existing) return;  // keep the IPv4 path we have
  if (!is_trusted(e.public_key)) {
    if (mdns_->warned_keys.insert(e.public_key).second) {
      SHOPSYNC_LOG(warn, "mdns: found node '" << e.name << "' (" << peer_table_key(e.node_id) << ") at " << e.address
                                             << " but its key is not trusted; trust it with: shopsync trust add "
                                             << e.public_key);
    }
    return;
  }
  if (existing) {
    if (existing->source != PeerSource::mdns || sessions_.count(e.node_id)) return;  // static peers win
    existing->address.host = e.family == discovery::IpFamily::ipv6 ? "[" + e.address + "]" : e.address;
    existing->address.port = e.port;
    existing->key = e.public_key;
    return;
  }
  if (e.family == discovery::IpFamily::ipv6) return;  // IPv4 only for now: our DEALERs are not ZMQ_IPV6
  auto t = std::make_unique<Target>();
  t->id = next_id_++;
  t->address = PeerAddress{e.address, e.port, e.public_key};
  t->source = PeerSource::mdns;
  t->peer = e.node_id;
  t->key = e.public_key;
  SHOPSYNC_LOG(info, "mdns: found node '" << e.name << "' (" << peer_table_key(e.node_id) << ") at "
                                         << t->address.to_string());
  targets_.emplace(t->id, std::move(t));
}

}  // namespace shopsync
