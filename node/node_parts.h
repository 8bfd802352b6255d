// Internal to node.cc, sessions.cc, mdns.cc and reload.cc: the Node's private parts.
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
inline constexpr std::uint64_t kFlushMs = 1000;    // --durability interval: disk flush period
inline constexpr std::uint64_t kPersistMs = 2000;  // dirty peers table rows are saved this often
inline constexpr std::uint64_t kZapLogIntervalMs = 60'000;  // one "refused" line per key and address a minute

// The sync sockets under Peering (node/peering/io.h): one DEALER per
// outbound link, the routing ids of inbound links on the ROUTER (sessions.cc).
class Node::Transport final : public peering::Io {
 public:
  explicit Transport(Node& node) : node_(node) {}
  Status dial(std::uint64_t link, const PeerAddress& address, const std::string& key, bool retry) override;
  Sent send(std::uint64_t link, std::string_view frame) override;
  void close(std::uint64_t link, bool end_connection) override;
  void established(std::uint64_t link) override;
  peering::DialState dial_state(std::uint64_t link) override;
  void vanished(NodeId peer) override;
  bool is_trusted(std::string_view key) override { return node_.is_trusted(key); }
  std::vector<std::string> trusted_keys() override;

  struct Dealer {
    zmq::Socket socket;
    DialWatch watch;  // why its connection is not up (declared after `socket`,
                      // so it stops its monitor before the DEALER closes)
  };
  struct Inbound {
    std::string routing_id;
    int fd = -1;  // its TCP connection, ended when its key is revoked
    std::string ip;
  };
  std::map<std::uint64_t, Dealer> dealers;          // outbound links
  std::map<std::uint64_t, Inbound> inbound;         // inbound links
  std::map<std::string, std::uint64_t> by_routing;  // routing id -> inbound link

 private:
  Node& node_;
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
};

class Node::NodeOutbox final : public peering::QueuedOutbox {
 public:
  explicit NodeOutbox(Node& node) : node_(node) {}
  void changed(const RecordKey& key, const VisibleRecord* now) override {
    node_.records_changed_ = true;
    if (node_.observer_.changed) node_.observer_.changed(key, now);
  }
  bool reads_records() const override { return static_cast<bool>(node_.observer_.changed); }
  void conflict(const ConflictEntry& entry) override;

 private:
  Node& node_;
};

}  // namespace shopsync
