// Peering: frames from peers, the HELLO handshake, refusals, GOODBYE, and the
// one-connection-per-pair rule (docs/wire-format.md, "Transport").
#include <algorithm>
#include <cstdlib>

#include "node/log.h"
#include "node/peering/peering.h"

namespace shopsync {

namespace {

std::string vv_text(const VersionVector& vv) {
  std::string out = "{";
  for (const auto& [node, counter] : vv.entries()) {
    if (out.size() > 1) out += ",";
    out += node_id_text(node) + ":" + std::to_string(counter);
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

wire::Hello Peering::make_hello() const {
  wire::Hello h;
  h.cluster = options_.cluster;
  h.node_id = replica_.id();
  h.name = options_.name;
  h.role = options_.role;
  h.knowledge = replica_.knowledge();
  h.clock_ms = now_.wall_ms;
  h.listen_port = options_.listen_port;
  h.strategies_digest = strategy_digest(options_.strategies);
  h.incarnation = options_.incarnation;
  h.strategies = to_text(options_.strategies);
  if (h.strategies.size() > wire::kMaxStrategiesText) {  // the digest still tells the tables apart
    h.strategies.resize(wire::kMaxStrategiesText - 3);
    h.strategies += "...";
  }
  return h;
}

void Peering::say_hello(Link& link) {
  wire::Hello hello = make_hello();
  link.told = hello.knowledge;
  send_frame(link, hello);
}

// ---- receiving ----------------------------------------------------------------

void Peering::frame(std::uint64_t link_id, std::string_view bytes, Now now) {
  at(now);
  Link* l = link_by_id(link_id);
  if (l == nullptr) return;
  Link& link = *l;
  link.last_recv_ms = now_ms();
  auto decoded = wire::decode(bytes);
  if (auto* err = std::get_if<wire::DecodeError>(&decoded)) {
    SHOPSYNC_LOG(warn, link.describe() << (link.ip.empty() ? "" : " from " + link.ip) << ": bad frame ("
                                       << wire::to_string(err->code) << "): " << err->text);
    // Never answer an ERROR with an ERROR: two confused nodes would ping-pong.
    if (err->type != static_cast<std::uint32_t>(wire::MessageType::error)) send_error(link, err->code, err->text);
    return;
  }
  auto& message = std::get<wire::Decoded>(decoded).message;
  if (auto* hello = std::get_if<wire::Hello>(&message)) return handle_hello(link, *hello);
  if (auto* error = std::get_if<wire::Error>(&message)) return handle_error(link, *error);
  if (auto* goodbye = std::get_if<wire::Goodbye>(&message)) return handle_goodbye(link, *goodbye);
  if (!link.established) {
    send_error(link, wire::ErrorCode::not_ready, "HELLO first");
    return;
  }
  // The dialer sends nothing after its HELLO before our answer is accepted:
  // this frame says it was.
  if (!link.confirmed) {
    confirm(link);
    if (link_by_id(link_id) == nullptr) return;  // a send in confirm() found it gone
  }
  handle_replication(link, std::move(message), bytes.size());
}

void Peering::handle_replication(Link& link, wire::WireMessage message, std::size_t bytes) {
  const NodeId peer = link.peer;
  PeerRecord& rec = known_[peer];
  rec.last_seen_ms = now_.wall_ms;  // shown to users
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
  const bool more = batch != nullptr && batch->more;
  if (batch) {
    SHOPSYNC_LOG(debug, "batch from " << rec.name << ": " << batch_records << " records, base " << vv_text(batch->base)
                                      << " complete " << vv_text(batch->complete) << " answer " << batch->answer
                                      << (batch->more ? ", more" : ""));
  }
  const bool is_batch = batch != nullptr;
  // A batch waits for those behind it on the socket: one commit for all
  // (Replica::queue_batch; the node's loop commits what waits after each turn).
  Status s = is_batch ? replica_.queue_batch(peer, std::move(*batch), outbox_) : replica_.receive(peer, replication, outbox_);
  flush(now_);
  if (!s) {
    const bool theirs = s.code() == Errc::protocol || s.code() == Errc::invalid_argument || s.code() == Errc::corrupt;
    SHOPSYNC_LOG(warn, "message from peer " << rec.name << " (" << node_id_text(peer) << ") not applied: " << s.to_string());
    known_[peer].last_error = s.to_string();
    // The link may be gone: a send in flush() found it lost.
    if (Link* l = link_by_id(link.id)) {
      send_error(*l, theirs ? wire::ErrorCode::malformed : wire::ErrorCode::internal, s.message());
    }
    return;
  }
  if (is_batch) {
    note_progress(peer, batch_records, bytes, more);
    if (caught_up) {
      std::uint64_t in_run = 0;
      for (const auto& st : replica_.peers()) {
        if (st.id == peer) in_run = st.records_in_run;
      }
      SHOPSYNC_LOG_AT(batch_records > 0 ? log::Level::info : log::Level::debug,
                      "in sync with peer " << known_[peer].name << " (" << node_id_text(peer)
                                           << "): records received from it since start: " << in_run
                                           << " (last batch " << batch_records << ")");
    }
  }
}

void Peering::note_progress(NodeId peer, std::size_t records, std::size_t bytes, bool more) {
  VersionVector theirs;
  for (const auto& st : replica_.peers()) {
    if (st.id == peer) theirs = st.knowledge;
  }
  const std::uint64_t now = now_ms();
  SyncProgress& progress = progress_.try_emplace(peer, options_.progress_log_ms).first->second;
  progress.batch(now, records, bytes, changes_behind(theirs, replica_.knowledge()), more);
  if (!progress.active()) {
    progress_.erase(peer);
    return;
  }
  if (!progress.log_due(now)) return;
  const api::SyncProgress p = progress.view(now);
  const std::uint64_t percent = p.records_total > 0 ? p.records_received * 100 / p.records_total : 0;
  SHOPSYNC_LOG(info, "syncing from peer " << known_[peer].name << " (" << node_id_text(peer) << "): " << p.records_received
                                          << " of ~" << p.records_total << " records (" << percent << "%), " << p.rate
                                          << " rec/s, ETA " << (p.rate > 0 ? std::to_string(p.eta_ms / 1000) + " s" : "unknown"));
}

void Peering::handle_error(Link& link, const wire::Error& error) {
  const std::string who = link.peer ? "peer " + known_[link.peer].name + " (" + node_id_text(link.peer) + ")"
                                    : link.describe() + (link.ip.empty() ? "" : " from " + link.ip);
  const auto code = static_cast<wire::ErrorCode>(error.code);
  SHOPSYNC_LOG_AT(code == wire::ErrorCode::not_ready && link.established ? log::Level::debug : log::Level::warn,
                  who << " reports error " << wire::to_string(code) << ": " << error.text);
  if (link.peer) {
    known_[link.peer].last_error = "peer reported: " + error.text;
    dirty_.insert(link.peer);
  }
  if (link.established && link.outbound && code == wire::ErrorCode::not_ready) {
    // The transport reconnected our dial on its own to a peer that restarted:
    // the new process never saw our HELLO. Say it again (once a second at
    // most: every frame already in flight draws the same answer), unless the
    // link is a spare: the session runs on another.
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

void Peering::handle_goodbye(Link& link, const wire::Goodbye& goodbye) {
  // The peer stopped cleanly: the session ends now, not after the silence of
  // --peer-timeout-ms; a target of ours is redialed with the usual backoff.
  const std::string why = "it said goodbye: " + goodbye.reason.substr(0, 1024);
  SHOPSYNC_LOG(info, link.describe() << ": " << why);
  const NodeId peer = link.peer;
  if (peer == 0) return close_link(link.id, why, true);
  // The process is going, not just this link.
  end_peer_links(peer, why, false);
}

void Peering::end_peer_links(NodeId peer, const std::string& why, bool refused) {
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

void Peering::handle_hello(Link& link, const wire::Hello& hello) {
  const std::string who = "node '" + hello.name + "' (" + node_id_text(hello.node_id) + ") at " +
                          (link.outbound ? (target_by_id(link.target) ? target_by_id(link.target)->address.to_string() : "?")
                                         : (link.ip.empty() ? "?" : link.ip));
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
  if (hello.cluster != options_.cluster) {
    return refuse(wire::ErrorCode::wrong_cluster,
                  "it belongs to cluster '" + hello.cluster + "', this node to '" + options_.cluster + "'",
                  "this node belongs to cluster '" + options_.cluster + "', not '" + hello.cluster + "'");
  }
  const std::uint32_t common = std::min(hello.protocol_max, wire::kProtocolMax);
  if (common < std::max(hello.protocol_min, wire::kProtocolMin)) {
    const std::string mine = std::to_string(wire::kProtocolMin) + ".." + std::to_string(wire::kProtocolMax);
    const std::string theirs = std::to_string(hello.protocol_min) + ".." + std::to_string(hello.protocol_max);
    return refuse(wire::ErrorCode::unsupported_version,
                  "no common protocol version (it speaks " + theirs + ", this node " + mine + ")",
                  "no common protocol version: this node speaks " + mine + ", you speak " + theirs);
  }
  if (hello.node_id == replica_.id()) {
    return refuse(wire::ErrorCode::refused, "it has this node's own id (a copied data directory, or a loop to itself)",
                  "you have this node's id " + node_id_text(hello.node_id) + " (copied data directory?)");
  }
  if (auto differ = strategies_differ(hello)) {
    remember_refused_peer(link, hello);
    return refuse(wire::ErrorCode::wrong_strategies, *differ, *differ);
  }
  if (!options_.insecure) {
    auto s = sessions_.find(hello.node_id);
    if (s != sessions_.end()) {
      const Link* current = link_by_id(s->second->link);
      if (current && current->key != link.key) {
        return refuse(wire::ErrorCode::refused, "node id already connected with another key",
                      "node id " + node_id_text(hello.node_id) + " is connected with another key");
      }
    }
  }
  // Max offset (docs/replication.md, "Clock offsets"): a peer whose clock is
  // further off ours than --max-clock-skew-ms is refused, by each side that
  // measures it: ahead, its writes would win every newest_wins conflict;
  // behind, ours would. Its row keeps the offset for `shopsync peers`.
  const std::int64_t offset = clock_offset_of(link, hello);
  if (static_cast<std::uint64_t>(std::llabs(offset)) > options_.max_clock_skew_ms) {
    remember_refused_peer(link, hello);
    known_[hello.node_id].clock_offset_ms = offset;
    const std::string off = std::to_string(std::llabs(offset)) + " ms " + (offset > 0 ? "ahead of" : "behind");
    const std::string limit = "--max-clock-skew-ms " + std::to_string(options_.max_clock_skew_ms);
    return refuse(wire::ErrorCode::refused,
                  "its clock is " + off + " ours (more than " + limit + "): check NTP on both machines",
                  "your clock is " + off + " the clock of node '" + options_.name + "' (more than its " + limit +
                      "): check NTP on both machines");
  }
  if (!link.outbound) say_hello(link);
  link.version = common;
  refused_peers_.erase(hello.node_id);
  establish(link, hello, offset);
}

void Peering::remember_refused_peer(Link& link, const wire::Hello& hello) {
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

Peering::Target* Peering::identify_targets(const Link& link, NodeId peer) {
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

std::optional<std::string> Peering::strategies_differ(const wire::Hello& hello) const {
  if (hello.strategies_digest.empty()) {
    // An older node: it does not say which table it applies, so nothing can
    // be checked (docs/wire-format.md, "HELLO"). Accepted, with a warning.
    SHOPSYNC_LOG(warn, "node '" << hello.name << "' (" << node_id_text(hello.node_id)
                                << ") does not say which conflict strategies it applies (an older version): make sure "
                                   "it runs with the same --strategy flags as this node");
    return std::nullopt;
  }
  return strategies_differ(hello.name, hello.strategies_digest, hello.strategies);
}

std::optional<std::string> Peering::strategies_differ(const std::string& name, const std::string& digest,
                                                      const std::string& table) const {
  const StrategyTable& ours = options_.strategies;
  if (digest == strategy_digest(ours)) return std::nullopt;
  // Named the same way on both sides, so that the text fits both logs.
  std::string what;
  if (auto theirs = parse_strategy_table(table)) {
    what = strategy_difference(ours, *theirs, "'" + options_.name + "'", "'" + name + "'");
  }
  if (what.empty()) what = "'" + to_text(ours) + "' on '" + options_.name + "', '" + table + "' on '" + name + "'";
  return "conflict strategies differ (" + what + "): every node of a cluster needs the same --strategy flags";
}

std::int64_t Peering::clock_offset_of(const Link& link, const wire::Hello& hello) const {
  const std::uint64_t wall = now_.wall_ms;
  const std::uint64_t reference = link.outbound ? wall - (now_ms() - link.hello_sent_ms) / 2 : wall;
  return static_cast<std::int64_t>(hello.clock_ms) - static_cast<std::int64_t>(reference);
}

void Peering::establish(Link& link, const wire::Hello& hello, std::int64_t offset) {
  const std::uint64_t now = now_ms();
  const std::uint64_t wall = now_.wall_ms;
  const NodeId peer = hello.node_id;
  link.peer = peer;
  link.established = true;
  io_.established(link.id);  // up: nothing watches its dial any more

  PeerRecord& rec = known_[peer];
  rec.node_id = peer;
  rec.name = hello.name;
  if (!link.key.empty()) {
    if (!rec.public_key.empty() && rec.public_key != link.key) {
      SHOPSYNC_LOG(warn, "node " << node_id_text(peer) << " now authenticates with key " << link.key << " (was "
                                 << rec.public_key << ")");
    }
    rec.public_key = link.key;
  }
  rec.role = hello.role;
  rec.last_seen_ms = wall;
  rec.clock_offset_ms = offset;
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
      // The other candidate keys of this target are wrong: drop their dials.
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
    // is gone: remember where. The target is made a little later (tick) so
    // that a static peer still being identified is not dialed twice under two
    // names.
    if (!have_target && prefers_outbound(peer) && hello.listen_port != 0 && !link.ip.empty()) {
      learned_[peer] = peering::Learned{PeerAddress{host_for(link.ip), hello.listen_port, link.key},
                                        now + peering::kLearnDelayMs};
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
  // step since its HELLO); its next frame confirms (frame()), an ERROR
  // closes the link (handle_error). Until then any session stays where it is.
}

// Either side dials, so a pair may hold two links; both nodes must settle on
// the same one, and a link one side refused must never carry a session. So a
// session only starts on, or moves to, a link both sides accepted, and when
// there are two the dial of the node with the smaller id is kept. The other
// is left alone: its dialer closes it once it has been quiet for
// kSpareLingerMs (tick), so that what the peer sent on it before moving is
// still read; the peer's side ends with its silence.
void Peering::confirm(Link& link) {
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
    ++sessions_begun_[peer];
    const PeerRecord& rec = known_[peer];
    SHOPSYNC_LOG(info, "connected to peer '" << rec.name << "' (" << node_id_text(peer) << ", " << to_string(rec.role)
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
  SHOPSYNC_LOG(debug, "peer " << node_id_text(peer) << ": switching to " << link.describe()
                              << (same_process ? "" : " (a new process of it)"));
  session.link = link.id;
  // The same process on both links: the conversation goes on where it was.
  // Its answers in progress, pulls and claims stay valid, since nothing sent
  // on the old link is lost (it is read until quiet): starting over would
  // send again every batch in flight.
  if (!same_process) restart_conversation(peer, link);
}

void Peering::restart_conversation(NodeId peer, const Link& link) {
  replica_.peer_disconnected(peer);
  replica_.peer_connected(peer, link.heard, link.told, outbox_);
  flush(now_);
}

}  // namespace shopsync
