// Peering: links, targets and sessions, timers, trust, and the views of the
// peers. The handshake and the one-connection rule are in handshake.cc.
#include "node/peering/peering.h"

#include <algorithm>

#include "net/public_key_text.h"
#include "node/backoff.h"
#include "node/log.h"

namespace shopsync {

namespace {

constexpr std::size_t kMaxWarnedKeys = 1024;

}  // namespace

std::string peering::Link::describe() const {
  std::string s = outbound ? "outbound link " : "inbound link ";
  s += std::to_string(id);
  if (peer != 0) s += " to node " + node_id_text(peer);
  return s;
}

Peering::Peering(peering::Options options, Replica& replica, peering::QueuedOutbox& outbox, peering::Io& io)
    : options_(std::move(options)), replica_(replica), outbox_(outbox), io_(io), rng_(options_.seed) {}

Peering::Link* Peering::link_by_id(std::uint64_t id) {
  auto it = links_.find(id);
  return it == links_.end() ? nullptr : it->second.get();
}

const Peering::Link* Peering::link(std::uint64_t id) const {
  auto it = links_.find(id);
  return it == links_.end() ? nullptr : it->second.get();
}

Peering::Target* Peering::target_by_id(std::uint64_t id) {
  auto it = targets_.find(id);
  return it == targets_.end() ? nullptr : it->second.get();
}

void Peering::load(std::vector<PeerRecord> peers) {
  for (auto& p : peers) {
    p.sync = {};  // the replica's (peer_progress.h)
    known_[p.node_id] = std::move(p);
  }
}

void Peering::add_target(const PeerAddress& address, PeerSource source, Now now) {
  at(now);
  auto t = std::make_unique<Target>();
  t->id = next_id_++;
  t->address = address;
  t->source = source;
  t->key = address.public_key;
  t->created_ms = now_ms();
  if (!options_.insecure && !t->key.empty() && !is_trusted(t->key)) {
    disable_target(*t);
    // Shown as the peer it was, not as a second, unnamed row.
    for (const auto& [id, rec] : known_) {
      if (rec.public_key == t->key) t->peer = id;
    }
  }
  targets_.emplace(t->id, std::move(t));
}

// ---- links ------------------------------------------------------------------

std::uint64_t Peering::inbound_link(const std::string& key, Now now) {
  at(now);
  // ZAP admitted the connection, but its key may have been revoked since
  // (frames it sent before `shopsync trust rm` ended it): none of them count.
  if (!options_.insecure && !is_trusted(key)) return 0;
  auto link = std::make_unique<Link>();
  link->id = next_id_++;
  link->key = key;
  link->created_ms = link->last_recv_ms = link->last_send_ms = now_ms();
  const std::uint64_t id = link->id;
  links_.emplace(id, std::move(link));
  return id;
}

void Peering::note_address(std::uint64_t link, const std::string& ip) {
  if (Link* l = link_by_id(link)) l->ip = ip;
}

void Peering::malformed(std::uint64_t link, const std::string& text, Now now) {
  send_error(link, wire::ErrorCode::malformed, text, now);
}

void Peering::send_error(std::uint64_t link, wire::ErrorCode code, const std::string& text, Now now) {
  at(now);
  if (Link* l = link_by_id(link)) send_error(*l, code, text);
}

void Peering::link_failed(std::uint64_t link, const std::string& why, Now now) {
  at(now);
  link_died(link, why);
}

void Peering::link_died(std::uint64_t link_id, const std::string& why) {
  const Link* l = link_by_id(link_id);
  const NodeId peer = l ? l->peer : 0;
  const bool had_session = peer != 0 && sessions_.count(peer) != 0;
  close_link(link_id, why, true);
  if (had_session && sessions_.count(peer) == 0) io_.vanished(peer);
}

std::vector<std::string> Peering::candidate_keys(const Target& target) {
  if (!target.key.empty()) return {target.key};
  std::vector<std::string> keys;
  for (auto& key : io_.trusted_keys()) {
    if (key != options_.own_key) keys.push_back(std::move(key));
  }
  return keys;
}

void Peering::dial(Target& target) {
  const std::uint64_t now = now_ms();
  std::vector<std::string> keys = options_.insecure ? std::vector<std::string>{""} : candidate_keys(target);
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
    const std::uint64_t link_id = next_id_++;
    if (Status s = io_.dial(link_id, target.address, key, target.failures > 0); !s) {
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
    link->key = key;
    link->target = target.id;
    link->address = target.address.to_string();
    link->created_ms = link->last_recv_ms = now;
    link->hello_sent_ms = now;
    target.links.insert(link->id);
    Link& ref = *link;
    links_.emplace(link->id, std::move(link));
    SHOPSYNC_LOG(debug, "dialing " << target.address.to_string() << " (" << ref.describe() << ")");
    // Queued by the transport until the connection (and its handshake) is up.
    say_hello(ref);
  }
}

void Peering::close_link(std::uint64_t link_id, const std::string& why, bool failed) {
  auto it = links_.find(link_id);
  if (it == links_.end()) return;
  std::unique_ptr<Link> link = std::move(it->second);
  links_.erase(it);
  io_.close(link_id, false);
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
        if (t->source == PeerSource::mdns && t->peer != 0) io_.vanished(t->peer);
      }
    }
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

void Peering::end_session(NodeId peer, const std::string& why) {
  auto s = sessions_.find(peer);
  if (s == sessions_.end()) return;
  SHOPSYNC_LOG(info, "peer " << s->second->name << " (" << node_id_text(peer) << ") disconnected: " << why);
  sessions_.erase(s);
  progress_.erase(peer);
  disconnected_ms_[peer] = now_ms();
  replica_.peer_disconnected(peer);
  dirty_.insert(peer);
}

// ---- sending ----------------------------------------------------------------

Peering::Sent Peering::send_frame(Link& link, const wire::WireMessage& message) {
  // HELLO and ERROR always go out at version 1, which every version reads, so
  // that nodes of any two versions can at least refuse each other clearly.
  const auto type = wire::type_of(message);
  const std::uint32_t version =
      (type == wire::MessageType::hello || type == wire::MessageType::error) ? wire::kProtocolMin : link.version;
  const std::string frame = wire::encode(message, version);
  switch (io_.send(link.id, frame)) {
    case peering::Io::Sent::failed:
      // The peer's connection is gone or the socket failed.
      SHOPSYNC_LOG(debug, link.describe() << ": send failed");
      return Sent::failed;
    case peering::Io::Sent::dropped:
      SHOPSYNC_LOG(debug, link.describe() << ": send queue full, " << wire::to_string(type) << " dropped");
      return Sent::dropped;
    case peering::Io::Sent::ok:
      break;
  }
  link.last_send_ms = now_ms();
  return Sent::ok;
}

void Peering::send_error(Link& link, wire::ErrorCode code, const std::string& text) {
  send_frame(link, wire::Error{static_cast<std::uint32_t>(code), text.substr(0, 1024)});
}

void Peering::flush(Now now) {
  at(now);
  // Taken out first: closing a link below may run the replica again, which
  // queues (and flushes) messages of its own.
  std::vector<std::pair<NodeId, Message>> queue;
  queue.swap(outbox_.queue);
  for (std::size_t i = 0; i < queue.size(); ++i) {
    auto& [to, message] = queue[i];
    auto s = sessions_.find(to);
    if (s == sessions_.end()) continue;  // the core repairs lost messages with later pulls
    Link* link = link_by_id(s->second->link);
    if (link == nullptr) continue;
    wire::WireMessage wm = std::visit([](auto&& m) -> wire::WireMessage { return std::move(m); }, std::move(message));
    if (send_frame(*link, wm) == Sent::failed && !link->outbound) {
      // The inbound connection is gone.
      const std::uint64_t id = link->id;
      link_died(id, "connection lost");
    }
  }
}

int Peering::say_goodbye(const std::string& reason, Now now) {
  at(now);
  int said = 0;
  for (auto& [id, link] : links_) {
    if (!link->established || link->version < wire::kGoodbyeSince) continue;
    if (send_frame(*link, wire::Goodbye{reason}) == Sent::ok) ++said;
  }
  return said;
}

// ---- timers -----------------------------------------------------------------

void Peering::tick(Now now) {
  at(now);
  const std::uint64_t t = now_ms();
  // Links: handshake deadlines, silence, heartbeats.
  std::vector<std::pair<std::uint64_t, std::string>> dead;
  std::vector<std::uint64_t> spare;
  for (auto& [id, link] : links_) {
    if (!link->established) {
      if (t - link->created_ms > options_.peer_timeout_ms) {
        std::string why;
        if (link->outbound) {
          const peering::DialState state = io_.dial_state(id);
          why = state.failure;
          if (why.empty() && !state.reached) {
            why = "no answer from " + link->address + ": no TCP connection within " +
                  std::to_string(options_.peer_timeout_ms) + " ms (switched off, or a firewall drops the connection)";
          }
        }
        if (why.empty()) {
          why = (link->outbound ? "no answer to HELLO within " : "no HELLO within ") +
                std::to_string(options_.peer_timeout_ms) + " ms";
        }
        dead.emplace_back(id, std::move(why));
      }
      continue;
    }
    if (t - link->last_recv_ms > options_.peer_timeout_ms) {
      dead.emplace_back(id, "silent for " + std::to_string(t - link->last_recv_ms) + " ms");
      continue;
    }
    const bool in_use = sessions_.count(link->peer) && sessions_.at(link->peer)->link == id;
    if (in_use && t - link->last_send_ms >= options_.heartbeat_ms) {
      send_frame(*link, wire::Heartbeat{now_.wall_ms});
    }
    if (!in_use && link->outbound && link->confirmed && t - link->last_recv_ms > peering::kSpareLingerMs) {
      spare.push_back(id);  // the pair keeps its other connection (Peering::confirm)
    }
  }
  for (const auto& [id, why] : dead) link_died(id, why);
  for (auto id : spare) close_link(id, "the pair keeps its other connection", false);

  // Peers that dialed us but should be dialed by us: make them targets.
  for (auto it = learned_.begin(); it != learned_.end();) {
    if (t < it->second.due_ms) {
      ++it;
      continue;
    }
    bool have_target = false;
    for (const auto& [id, target] : targets_) have_target |= (target->peer == it->first);
    if (!have_target) {
      auto target = std::make_unique<Target>();
      target->id = next_id_++;
      target->address = it->second.address;
      target->source = PeerSource::inbound;
      target->peer = it->first;
      target->key = it->second.address.public_key;
      target->created_ms = t;
      targets_.emplace(target->id, std::move(target));
    }
    it = learned_.erase(it);
  }

  // Targets: dial what is not connected, whichever side dialed the session
  // there is (a peer that cannot see this node on mDNS never dials it).
  forget_departed();
  for (auto& [id, target] : targets_) {
    if (target->untrusted || !target->links.empty() || t < target->next_dial_ms) continue;
    if (target->peer != 0 && sessions_.count(target->peer)) continue;
    dial(*target);
  }

  if (t >= next_tick_ms_) {
    next_tick_ms_ = t + peering::kTickMs;
    if (Status s = replica_.tick(outbox_); !s) SHOPSYNC_LOG(error, "replication tick failed: " << s.to_string());
    flush(now);
  }
}

std::uint64_t Peering::next_deadline(std::uint64_t ticked_ms) const {
  // The conditions of tick(), read as the time each one becomes true.
  std::uint64_t due = next_tick_ms_;
  auto sooner = [&due](std::uint64_t t) { due = std::min(due, t); };
  for (const auto& [id, link] : links_) {
    if (!link->established) {
      sooner(link->created_ms + options_.peer_timeout_ms + 1);
      continue;
    }
    sooner(link->last_recv_ms + options_.peer_timeout_ms + 1);
    const bool in_use = sessions_.count(link->peer) && sessions_.at(link->peer)->link == id;
    if (in_use) {
      const std::uint64_t heartbeat = link->last_send_ms + options_.heartbeat_ms;
      sooner(heartbeat > ticked_ms ? heartbeat : ticked_ms + peering::kHeartbeatRetryMs);
    }
    if (!in_use && link->outbound && link->confirmed) sooner(link->last_recv_ms + peering::kSpareLingerMs + 1);
  }
  for (const auto& [peer, learned] : learned_) sooner(learned.due_ms);
  for (const auto& [id, target] : targets_) {
    const bool in_session = target->peer != 0 && sessions_.count(target->peer);
    if (target->forget_at_ms != 0 && !in_session) sooner(target->forget_at_ms);
    if (target->untrusted || !target->links.empty() || in_session) continue;
    sooner(target->next_dial_ms);
  }
  return due;
}

// ---- discovery and trust -------------------------------------------------------

Peering::Target* Peering::find_target(NodeId peer, std::string_view key) {
  for (auto& [id, t] : targets_) {
    if (t->peer == peer || (!key.empty() && t->key == key)) return t.get();
  }
  return nullptr;
}

const Peering::Target* Peering::target_of(NodeId peer, std::string_view key) const {
  for (const auto& [id, t] : targets_) {
    if (t->peer == peer || (!key.empty() && t->key == key)) return t.get();
  }
  return nullptr;
}

void Peering::discovered(NodeId peer, const peering::Discovered* best, Now now) {
  at(now);
  Target* existing = find_target(peer, best ? std::string_view(best->address.public_key) : std::string_view());
  if (!best) {
    if (existing && existing->source == PeerSource::mdns && existing->forget_at_ms == 0) {
      SHOPSYNC_LOG(info, "mdns: node " << node_id_text(peer) << " left the network; its last address "
                                       << existing->address.to_string() << " is tried for "
                                       << peering::kForgetDiscoveredMs / 60'000 << " min");
      existing->forget_at_ms = now_ms() + peering::kForgetDiscoveredMs;
    }
    return;
  }
  const peering::Discovered& e = *best;
  if (e.protocol < wire::kProtocolMin) return;
  if (!is_trusted(e.address.public_key)) {
    // One warning per key; a LAN host cycling through made-up keys only
    // makes the warnings repeat, never the set grow without bound.
    if (warned_keys_.size() >= kMaxWarnedKeys) warned_keys_.clear();
    if (warned_keys_.insert(e.address.public_key).second) {
      SHOPSYNC_LOG(warn, "mdns: found node '" << e.name << "' (" << node_id_text(peer) << ") at " << e.shown
                                             << " but its key is not trusted; trust it with: shopsync trust add "
                                             << format_public_key(e.address.public_key));
    }
    return;
  }
  if (existing) {
    // A peer dialed back at the address it came from is on the LAN: its
    // announced path replaces that one (which goes with a new address).
    if (existing->source == PeerSource::inbound) existing->source = PeerSource::mdns;
    if (existing->source != PeerSource::mdns) return;  // static peers win
    if (existing->forget_at_ms != 0) {
      existing->forget_at_ms = 0;  // back on the LAN: dial now, not at the end of a backoff
      existing->next_dial_ms = 0;
      existing->failures = 0;
    }
    // The live connection stays on its path; the next dial takes the new one.
    if (!sessions_.count(peer) && existing->address != e.address && !existing->links.empty()) {
      // A dial still waiting on the old path (IPv6 link-local, say) gives way
      // to the preferred one (IPv4): redialed at once on the new address.
      std::vector<std::uint64_t> pending(existing->links.begin(), existing->links.end());
      for (auto id : pending) close_link(id, "a preferred path to it was found", false);
      existing->next_dial_ms = 0;
    }
    existing->address = e.address;
    existing->key = e.address.public_key;
    return;
  }
  auto t = std::make_unique<Target>();
  t->id = next_id_++;
  t->address = e.address;
  t->source = PeerSource::mdns;
  t->peer = peer;
  t->key = e.address.public_key;
  t->created_ms = now_ms();
  SHOPSYNC_LOG(info, "mdns: found node '" << e.name << "' (" << node_id_text(peer) << ") at " << t->address.to_string()
                                         << " on " << e.interface_name);
  targets_.emplace(t->id, std::move(t));
}

void Peering::forget_departed() {
  const std::uint64_t now = now_ms();
  std::vector<std::uint64_t> gone;
  for (const auto& [id, t] : targets_) {
    // A peer that dialed us is dialed back at the address it came from, for
    // as long as one gone from mDNS (docs/discovery.md): a node that hears
    // no mDNS would otherwise dial a peer that left for good for ever.
    if (t->source == PeerSource::inbound && t->forget_at_ms == 0) t->forget_at_ms = now + peering::kForgetDiscoveredMs;
    if (t->forget_at_ms == 0) continue;
    if (sessions_.count(t->peer)) {
      t->forget_at_ms = now + peering::kForgetDiscoveredMs;  // reached after all: the clock restarts when it goes
    } else if (now >= t->forget_at_ms) {
      gone.push_back(id);
    }
  }
  for (auto id : gone) {
    Target& t = *targets_.at(id);
    SHOPSYNC_LOG(info, (t.source == PeerSource::mdns ? "mdns: forgetting node " : "forgetting node ")
                           << node_id_text(t.peer) << " at " << t.address.to_string() << ": not reached for "
                           << peering::kForgetDiscoveredMs / 60'000 << " min");
    std::vector<std::uint64_t> links(t.links.begin(), t.links.end());
    for (auto link : links) close_link(link, "gone from mDNS", false);
    targets_.erase(id);
  }
}

void Peering::key_trusted(const std::string& key, Now now) {
  at(now);
  for (auto& [id, t] : targets_) {
    if (!t->untrusted || t->key != key) continue;
    t->untrusted = false;
    t->failures = 0;
    t->next_dial_ms = 0;
    t->last_error.clear();
    SHOPSYNC_LOG(info, to_string(t->source) << " " << t->address.to_string() << " is enabled again: its key is trusted");
  }
}

void Peering::key_untrusted(const std::string& key, Now now) {
  at(now);
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
  // ...and its connections end now, inbound ones at the TCP level: the
  // transport then refuses the peer's reconnection, and drops the frames it
  // had already sent.
  std::vector<std::uint64_t> ids;
  for (const auto& [id, link] : links_) {
    if (link->key == key) ids.push_back(id);
  }
  for (auto id : ids) {
    if (Link* link = link_by_id(id); link && !link->outbound) io_.close(id, true);
    close_link(id, "its key is no longer trusted", true);
  }
}

void Peering::disable_target(Target& target) {
  target.untrusted = true;
  target.last_error = "its key is not trusted (revoked with shopsync trust rm)";
  SHOPSYNC_LOG(warn, (target.source == PeerSource::uplink ? "uplink " : "static peer ")
                         << target.address.to_string() << " is disabled: its key " << target.key
                         << " is revoked; to use it again: shopsync trust add '" << target.key << "'");
}

void Peering::strategies_changed(StrategyTable table, Now now) {
  at(now);
  options_.strategies = std::move(table);
  // Peers refused before may agree now: dialed again at once (HELLO decides).
  for (auto& [id, t] : targets_) {
    if (!t->refused || !t->links.empty()) continue;
    t->refused = false;
    t->failures = 0;
    t->next_dial_ms = 0;
  }
  // Peers whose table now differs: the session ends on both sides, with the
  // reason HELLO would give (the peer ends it on our ERROR).
  std::vector<std::pair<NodeId, std::string>> differ;
  for (const auto& [peer, session] : sessions_) {
    const Link* link = link_by_id(session->link);  // its HELLO named the peer's table
    if (link == nullptr || link->strategies_digest.empty()) continue;  // an older node: nothing to compare
    if (auto why = strategies_differ(session->name, link->strategies_digest, link->strategies)) {
      differ.emplace_back(peer, *why);
    }
  }
  for (const auto& [peer, why] : differ) {
    SHOPSYNC_LOG(warn, "ending the session with peer " << sessions_.at(peer)->name << ": " << why);
    if (Link* link = link_by_id(sessions_.at(peer)->link)) send_error(*link, wire::ErrorCode::wrong_strategies, why);
    end_peer_links(peer, why, true);
  }
}

void Peering::forget(NodeId peer) {
  known_.erase(peer);
  dirty_.erase(peer);
  refused_peers_.erase(peer);
  for (auto& [id, t] : targets_) {
    if (t->peer == peer) t->peer = 0;  // a configured --peer stays; it is identified again if it answers
  }
}

// ---- views ------------------------------------------------------------------

PeerRecord Peering::with_progress(const PeerRecord& rec, const std::vector<PeerStats>& replica_peers) const {
  PeerRecord r = rec;
  for (const auto& st : replica_peers) {
    if (st.id == rec.node_id) r.sync = {st.knowledge, st.records_in, st.records_out, st.last_sync_ms};
  }
  r.lag_changes = changes_behind(replica_.knowledge(), r.sync.knowledge);
  return r;
}

std::vector<PeerRecord> Peering::peer_view() const {
  const std::vector<PeerStats> replica_peers = replica_.peers();
  std::vector<PeerRecord> out;
  for (const auto& [id, rec] : known_) out.push_back(with_progress(rec, replica_peers));
  return out;
}

std::vector<PeerRecord> Peering::take_rows(bool all) {
  if (all) {
    for (const auto& [id, rec] : known_) dirty_.insert(id);
  }
  std::vector<PeerRecord> rows;
  for (NodeId id : dirty_) {
    if (auto it = known_.find(id); it != known_.end()) rows.push_back(it->second);
  }
  dirty_.clear();
  return rows;
}

std::vector<api::PeerInfo> Peering::unidentified_targets() const {
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

std::string Peering::peer_state(NodeId peer) const {
  if (sessions_.count(peer)) return "connected";
  if (refused_peers_.count(peer)) return "refused";
  if (auto k = known_.find(peer); !options_.insecure && k != known_.end() && !k->second.public_key.empty() &&
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

std::optional<api::SyncProgress> Peering::sync_progress(NodeId peer, std::uint64_t now_ms) const {
  auto it = progress_.find(peer);
  if (it == progress_.end()) return std::nullopt;
  return it->second.view(now_ms);
}

std::string Peering::live_address(NodeId peer) const {
  auto s = sessions_.find(peer);
  if (s == sessions_.end()) return {};
  auto l = links_.find(s->second->link);
  if (l == links_.end()) return {};
  if (l->second->outbound) return l->second->address;
  auto k = known_.find(peer);  // where it listens, from the address it dialed us from
  return k == known_.end() ? std::string() : k->second.address;
}

std::uint64_t Peering::sessions_begun(NodeId peer) const {
  auto it = sessions_begun_.find(peer);
  return it == sessions_begun_.end() ? 0 : it->second;
}

std::optional<std::uint64_t> Peering::disconnected_at(NodeId peer) const {
  auto it = disconnected_ms_.find(peer);
  if (it == disconnected_ms_.end()) return std::nullopt;
  return it->second;
}

}  // namespace shopsync
