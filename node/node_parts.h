// Internal to node.cc and sessions.cc: the Node's private parts.
#pragma once

#include <set>
#include <string>

#include "discovery/discovery.h"
#include "node/dial_watch.h"
#include "node/log.h"
#include "node/node.h"
#include "node/trusted_keys.h"

namespace shopsync {

inline constexpr int kSendHighWater = 10000;     // messages queued per peer before sends are dropped
inline constexpr int kReceiveHighWater = 10000;
inline constexpr std::uint64_t kTurnBudgetMs = 5;  // reading one socket, then the others get a turn
inline constexpr int kMaxPollMs = 100;           // timers are checked at least this often
inline constexpr std::uint64_t kTickMs = 1000;   // Replica::tick period
inline constexpr std::uint64_t kFlushMs = 1000;    // --durability interval: disk flush period
inline constexpr std::uint64_t kPersistMs = 2000;  // dirty peers table rows are saved this often
inline constexpr std::uint64_t kLearnDelayMs = 2000;  // before dialing back a peer that dialed us
// A connection of ours that the pair does not keep is closed once it has been
// silent this long: what the peer sent on it before moving to the kept one is
// still read (node/sessions.cc, Node::confirm).
inline constexpr std::uint64_t kSpareLingerMs = 1000;
inline constexpr std::uint64_t kZapLogIntervalMs = 60'000;  // one "refused" line per key and address a minute
// A peer gone from mDNS is still dialed at its last address this long: a
// partition that heals without a link going down on either side is not
// announced again, and would otherwise be noticed only at avahi's next
// periodic query (backed off up to an hour).
inline constexpr std::uint64_t kForgetDiscoveredMs = 10 * 60'000;

// One ZeroMQ connection to a peer.
struct Node::Link {
  std::uint64_t id = 0;
  bool outbound = false;
  zmq::Socket dealer;        // outbound: our DEALER
  DialWatch dial_watch;      // outbound: why the DEALER's connection is not up (declared after
                             // `dealer`, so it stops its monitor before the DEALER closes)
  std::string routing_id;    // inbound: the peer's routing id on our ROUTER
  std::string key;           // outbound: the server key we pinned; inbound: the key it authenticated with
  std::string address;       // outbound: "HOST:PORT" dialed (its target's may have changed since)
  std::string ip;            // inbound: the peer's address
  int fd = -1;               // inbound: its TCP connection, ended when its key is revoked
  std::uint64_t target = 0;  // outbound: the target dialed
  NodeId peer = 0;           // known after its HELLO
  bool established = false;  // HELLO exchanged both ways
  // Known accepted on both sides: ours, when the peer's answer to our HELLO
  // came; its, when a frame followed its HELLO and our answer. Only a
  // confirmed link carries a session.
  bool confirmed = false;
  VersionVector heard;           // the knowledge the peer's HELLO on it gave
  std::uint64_t incarnation = 0;  // the peer's process, from its HELLO (0: not said)
  std::string strategies_digest;  // the strategy table its HELLO named ("" from an older node)
  std::string strategies;
  std::uint32_t version = wire::kProtocolMin;  // negotiated protocol version
  std::uint64_t created_ms = 0;
  std::uint64_t last_recv_ms = 0;
  std::uint64_t last_send_ms = 0;
  std::uint64_t hello_sent_ms = 0;
  VersionVector told;  // the knowledge our last HELLO on it gave the peer
  std::string describe() const;
};

// An address this node dials: a static peer, the uplink, one found by mDNS,
// or one learned from an inbound HELLO (when the rule says we connect).
struct Node::Target {
  std::uint64_t id = 0;
  PeerAddress address;
  PeerSource source = PeerSource::static_peer;
  NodeId peer = 0;            // learned from its HELLO
  std::string key;            // given (KEY@HOST:PORT) or learned
  unsigned failures = 0;
  std::uint64_t next_dial_ms = 0;
  std::set<std::uint64_t> links;  // DEALERs open now (one per candidate key)
  std::string last_error;
  bool refused = false;       // it refused us or we it (cluster, protocol): long backoff
  bool warned_no_key = false;
  bool untrusted = false;     // its given key is not trusted (revoked): not dialed until `trust add`
  std::uint64_t forget_at_ms = 0;  // mdns: gone from the LAN; dropped then unless found again
  std::uint64_t created_ms = 0;
};

// Where an identified peer that dialed us listens (from its HELLO).
struct Node::Learned {
  PeerAddress address;
  std::uint64_t due_ms = 0;
};

// An identified peer and the link the conversation uses.
struct Node::Session {
  NodeId peer = 0;
  std::uint64_t link = 0;
  std::string name;
  std::uint64_t connected_ms = 0;
};

// The keys a configuration names (--trust, --peer KEY@..., --uplink KEY@...),
// each with the note it is stored under in the trusted-key list.
std::vector<TrustedKeyRow> configured_keys(const NodeConfig& config, std::uint64_t now_ms);
// The strategy table a configuration asks for.
Result<StrategyTable> strategy_table_of(const NodeConfig& config);

// The mDNS side of the node (mdns.cc).
struct Node::Mdns {
  std::unique_ptr<discovery::Discovery> discovery;  // null while discovery is off
  std::string off_reason;                           // why it is off
  std::uint64_t started_ms = 0;
  std::set<NodeId> changed;  // peers dispatch() reported on, reconciled after it
  std::set<std::string> warned_keys;
};

class Node::NodeOutbox final : public Outbox {
 public:
  explicit NodeOutbox(Node& node) : node_(node) {}
  void send(NodeId to, Message message) override { queue.emplace_back(to, std::move(message)); }
  void changed(const RecordKey& key, const VisibleRecord* now) override {
    node_.records_changed_ = true;
    if (node_.observer_.changed) node_.observer_.changed(key, now);
  }
  bool reads_records() const override { return static_cast<bool>(node_.observer_.changed); }
  void conflict(const ConflictEntry& entry) override;
  std::vector<std::pair<NodeId, Message>> queue;

 private:
  Node& node_;
};

}  // namespace shopsync
