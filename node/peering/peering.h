// The session rules of the sync protocol as a state machine without I/O
// (docs/wire-format.md, "Transport" and "HELLO"): links, dial targets,
// sessions, the peers it knows, refusals and trust decisions, and the
// Replica's messages to and from them.
//
// Peering reads no clock and touches no socket. The node (node/node.cc), or
// the simulator (tests/node/peering/), turns what happens into events, each
// with the time it happens at (peering::Now): a frame arrived on link L,
// link L opened or failed, a peer was discovered or lost, a key was trusted
// or untrusted, time passed (tick). Peering answers through peering::Io:
// send bytes on link L, dial ADDRESS with KEY as link L, close link L. The
// rows of the peers table it changed are taken with take_rows().
//
// A link is one connection (our dial, or one that reached our sync port); a
// session is an identified peer (HELLO exchanged both ways) and uses one
// link. Either side dials a peer it is not connected to; when both did, the
// session settles on the dial of the node with the smaller id, on both
// sides, without sending anything twice (Peering::confirm).
//
// Thread-safety: none.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_types.h"
#include "node/peer_table.h"
#include "node/peering/discovered.h"
#include "node/peering/io.h"
#include "node/peering/link.h"
#include "node/peering/queued_outbox.h"
#include "node/peering/session.h"
#include "node/peering/target.h"
#include "node/sync_progress.h"
#include "node/wire_codec.h"
#include "replication/replica.h"
#include "replication/strategy_table.h"

namespace shopsync {

namespace peering {

inline constexpr std::uint64_t kTickMs = 1000;        // Replica::tick period
inline constexpr std::uint64_t kHeartbeatRetryMs = 100;  // after the send queue dropped one
inline constexpr std::uint64_t kLearnDelayMs = 2000;  // before dialing back a peer that dialed us
// A connection of ours that the pair does not keep is closed once it has been
// silent this long: what the peer sent on it before moving to the kept one is
// still read (Peering::confirm).
inline constexpr std::uint64_t kSpareLingerMs = 1000;
// A peer gone from mDNS is still dialed at its last address this long: a
// partition that heals without a link going down on either side is not
// announced again, and would otherwise be noticed only at avahi's next
// periodic query (backed off up to an hour).
inline constexpr std::uint64_t kForgetDiscoveredMs = 10 * 60'000;

// What the rules need of the node's configuration.
struct Options {
  std::string cluster;
  std::string name;
  Role role = Role::peer;
  bool insecure = false;          // no keys: links are not authenticated
  std::string own_key;            // this node's public key (never dialed as a peer's)
  std::uint16_t listen_port = 0;  // told in HELLO, for dialing back
  std::uint64_t incarnation = 1;  // this process, in every HELLO (wire::Hello::incarnation)
  std::uint64_t heartbeat_ms = 1000;
  std::uint64_t peer_timeout_ms = 5000;
  std::uint64_t max_clock_skew_ms = 5000;
  std::uint64_t progress_log_ms = 5000;
  StrategyTable strategies;  // what the replica applies; compared at HELLO
  std::uint64_t seed = 1;    // backoff jitter
};

}  // namespace peering

class Peering {
 public:
  using Link = peering::Link;
  using Target = peering::Target;
  using Session = peering::Session;
  using Now = peering::Now;

  // `replica` sends through `outbox`; both outlive this.
  Peering(peering::Options options, Replica& replica, peering::QueuedOutbox& outbox, peering::Io& io);

  // ---- events ----
  // The peers table as stored (at start).
  void load(std::vector<PeerRecord> peers);
  // A configured target (--peer, --uplink); disabled when its key is revoked.
  void add_target(const PeerAddress& address, PeerSource source, Now now);
  // A connection reached our sync port, authenticated with `key`: its link
  // id, or 0 when the key is not trusted (any more): the connection is to be
  // ended and what it sent dropped.
  std::uint64_t inbound_link(const std::string& key, Now now);
  // The address an inbound link's frames come from.
  void note_address(std::uint64_t link, const std::string& ip);
  // One frame arrived on `link`.
  void frame(std::uint64_t link, std::string_view bytes, Now now);
  // A message arrived on `link` that is not one frame (`text` says why).
  void malformed(std::uint64_t link, const std::string& text, Now now);
  // The transport lost `link`.
  void link_failed(std::uint64_t link, const std::string& why, Now now);
  // Discovery's best path to `peer` now (null: it is gone from the LAN).
  void discovered(NodeId peer, const peering::Discovered* best, Now now);
  // `key` became trusted: targets disabled for it are dialed again.
  void key_trusted(const std::string& key, Now now);
  // `key` is no longer trusted: its connections end and it is dialed no more
  // (a static peer or the uplink given with it is disabled).
  void key_untrusted(const std::string& key, Now now);
  // The replica applies `table` now: refused peers are dialed again, sessions
  // whose peer's table differs end.
  void strategies_changed(StrategyTable table, Now now);
  // Time passed: handshake deadlines, silence, heartbeats, dial-backs,
  // redials with backoff, Replica::tick.
  void tick(Now now);
  // When tick() has work next (monotonic ms): a handshake or silence
  // deadline, a heartbeat, a dial-back, a redial, a departed target to
  // forget, or Replica::tick. Between events, nothing is due before it.
  // `ticked_ms`: the time of the last tick() (a heartbeat it could not send
  // is due again kHeartbeatRetryMs later).
  std::uint64_t next_deadline(std::uint64_t ticked_ms) const;
  // What the replica queued goes out on each peer's session link.
  void flush(Now now);
  // A clean stop: GOODBYE on every established link that speaks it. Returns
  // how many were said.
  int say_goodbye(const std::string& reason, Now now);
  // `peer` is retired (its row was erased): it is known no more.
  void forget(NodeId peer);
  // Sends an ERROR on `link`.
  void send_error(std::uint64_t link, wire::ErrorCode code, const std::string& text, Now now);

  // ---- views ----
  const StrategyTable& strategies() const { return options_.strategies; }
  bool connected(NodeId peer) const { return sessions_.count(peer) != 0; }
  std::size_t connected_count() const { return sessions_.size(); }
  const std::map<NodeId, PeerRecord>& known() const { return known_; }
  const std::map<std::uint64_t, std::unique_ptr<Link>>& links() const { return links_; }
  const std::map<NodeId, std::unique_ptr<Session>>& sessions() const { return sessions_; }
  const std::map<std::uint64_t, std::unique_ptr<Target>>& targets() const { return targets_; }
  const Link* link(std::uint64_t id) const;
  // Every peer known, with the replica's knowledge and counters of it
  // (connected or not).
  std::vector<PeerRecord> peer_view() const;
  // "connected", "connecting", "backoff", "refused", "untrusted", "offline".
  std::string peer_state(NodeId peer) const;
  // Targets not identified yet, for `peers`.
  std::vector<api::PeerInfo> unidentified_targets() const;
  std::optional<api::SyncProgress> sync_progress(NodeId peer, std::uint64_t now_ms) const;
  const Target* target_of(NodeId peer, std::string_view key) const;
  // "HOST:PORT" of the connection a session with `peer` runs over ("" when none).
  std::string live_address(NodeId peer) const;
  // When `peer`'s last session ended (monotonic), if one did.
  std::optional<std::uint64_t> disconnected_at(NodeId peer) const;
  // How many sessions with `peer` began since start: 1 for a peer connected
  // once and never lost; each reconnection adds one.
  std::uint64_t sessions_begun(NodeId peer) const;
  // Whether rows of the peers table changed since take_rows().
  bool has_rows() const { return !dirty_.empty(); }
  // The rows of the peers table that changed (every row when `all`), to
  // store (the replica persists its progress of each peer itself).
  std::vector<PeerRecord> take_rows(bool all);

 private:
  std::uint64_t now_ms() const { return now_.mono_ms; }
  void at(Now now) { now_ = now; }
  Link* link_by_id(std::uint64_t id);
  Target* target_by_id(std::uint64_t id);
  Target* find_target(NodeId peer, std::string_view key);
  bool prefers_outbound(NodeId peer) const { return replica_.id() < peer; }
  bool is_trusted(std::string_view key) const { return io_.is_trusted(key); }
  std::vector<std::string> candidate_keys(const Target& target);
  void disable_target(Target& target);
  void forget_departed();
  // `rec` with the replica's progress of the peer and its lag.
  PeerRecord with_progress(const PeerRecord& rec, const std::vector<PeerStats>& replica_peers) const;

  // links and sessions (peering.cc)
  void dial(Target& target);
  void close_link(std::uint64_t link_id, const std::string& why, bool failed);
  // A link failed (silence, a lost connection): closed, and when that ended
  // the peer's session, the transport is told it may have vanished.
  void link_died(std::uint64_t link_id, const std::string& why);
  void end_session(NodeId peer, const std::string& why);
  enum class Sent { ok, dropped, failed };
  Sent send_frame(Link& link, const wire::WireMessage& message);
  void send_error(Link& link, wire::ErrorCode code, const std::string& text);

  // the handshake and the session rules (handshake.cc)
  void handle_hello(Link& link, const wire::Hello& hello);
  void handle_error(Link& link, const wire::Error& error);
  void handle_goodbye(Link& link, const wire::Goodbye& goodbye);
  void handle_replication(Link& link, wire::WireMessage message, std::size_t bytes);
  void note_progress(NodeId peer, std::size_t records, std::size_t bytes, bool more);
  // Why the peer's strategy table makes a session impossible, or nullopt.
  std::optional<std::string> strategies_differ(const wire::Hello& hello) const;
  std::optional<std::string> strategies_differ(const std::string& name, const std::string& digest,
                                               const std::string& table) const;
  // Ends every link to `peer` (the session's last). `refused`: for a reason
  // of the peer's or ours that stands (strategies), shown in `peers` and
  // redialed after the long backoff.
  void end_peer_links(NodeId peer, const std::string& why, bool refused);
  void remember_refused_peer(Link& link, const wire::Hello& hello);
  // Targets we dial with the key of inbound `link` are `peer`, though our own
  // connection to it is not up yet (its came first): one row in `peers`, not
  // two. Returns one of them, if any.
  Target* identify_targets(const Link& link, NodeId peer);
  void establish(Link& link, const wire::Hello& hello, std::int64_t clock_offset_ms);
  // `link` is known accepted on both sides: the session starts on it or moves
  // to it, as the one-connection rule says.
  void confirm(Link& link);
  // The peer's conversation starts over on `link` (a new session, or the
  // peer's process is not the one the session talked to).
  void restart_conversation(NodeId peer, const Link& link);
  // The peer's wall clock minus ours when it wrote `hello` (for our own dial,
  // half the round trip, measured on the monotonic clock, before now).
  std::int64_t clock_offset_of(const Link& link, const wire::Hello& hello) const;
  wire::Hello make_hello() const;
  void say_hello(Link& link);  // sends our HELLO and remembers what it told

  peering::Options options_;
  Replica& replica_;
  peering::QueuedOutbox& outbox_;
  peering::Io& io_;
  Now now_;  // of the event being handled
  std::mt19937_64 rng_;

  std::map<std::uint64_t, std::unique_ptr<Link>> links_;      // by link id
  std::map<std::uint64_t, std::unique_ptr<Target>> targets_;  // by target id
  std::map<NodeId, std::unique_ptr<Session>> sessions_;       // identified peers
  std::map<NodeId, peering::Learned> learned_;                // dial-back addresses not yet targets
  std::map<NodeId, PeerRecord> known_;  // every peer ever identified: its row (PeerRecord::sync left empty)
  std::set<NodeId> refused_peers_;  // refused at their last HELLO for a reason of theirs (strategies)
  std::set<NodeId> dirty_;          // known_ entries to store
  std::map<NodeId, SyncProgress> progress_;          // syncs from peers, by peer (ended ones removed)
  std::map<NodeId, std::uint64_t> disconnected_ms_;  // when each peer's last session ended
  std::map<NodeId, std::uint64_t> sessions_begun_;
  std::set<std::string> warned_keys_;                // untrusted keys found on the LAN, warned once
  std::uint64_t next_id_ = 1;
  std::uint64_t next_tick_ms_ = 0;
};

}  // namespace shopsync
