// The node's peers on the LAN: DNS-SD discovery (discovery/discovery.h)
// driven from the node's loop and reconciled with Peering.
//
// Discovery knows the live paths (interface x IP family) to each peer; after
// every event about a peer it is reconciled against them: a peer whose key
// is trusted becomes a target at its best path's address (IPv4 first, then
// IPv6 link-local with its interface), whatever the two ids: either side
// dials. A new peer found over IPv6 alone waits kIpv4GraceMs for its IPv4
// path: the A and AAAA answers come apart, and a session begun on link-local
// IPv6 stays there even once IPv4 is known. A peer whose last path is lost is
// still dialed at its last address for peering::kForgetDiscoveredMs, then
// forgotten (node/peering/peering.h).
// A peer whose link dies without a goodbye has its records reconfirmed
// (vanished(), discovery/reconfirm.h): unanswered, it is lost within seconds
// rather than at the end of its records' TTL. Trusting a key later
// reconciles every peer seen (reconcile_all()), so `shopsync trust add`
// connects without a restart.
//
// Thread-safety: none; the node's loop thread only. `peering` outlives it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "api/api_types.h"
#include "discovery/discovery.h"
#include "node/config.h"
#include "node/loop_source.h"
#include "node/peering/peering.h"

namespace shopsync {

class LanPeers {
 public:
  static constexpr std::uint64_t kIpv4GraceMs = 1000;

  // What this node announces.
  struct Self {
    NodeId id = 0;
    std::string public_key;
    std::uint16_t port = 0;  // the sync port
  };
  // Starts discovery unless the configuration turns it off (--no-mdns,
  // --insecure) or it cannot start; either way the reason is kept for
  // report() and the node runs on without it.
  static std::unique_ptr<LanPeers> start(const NodeConfig& config, const Self& self, Peering& peering,
                                         std::function<peering::Now()> now,
                                         std::function<bool(std::string_view key)> is_trusted);

  // The discovery descriptors for the node's loop (none while off).
  LoopSource source();
  // Reconciles every peer discovery sees (a key became trusted).
  void reconcile_all();
  // A link to `peer` came up: a peer forgotten after an unanswered
  // reconfirmation is back.
  void heard_from(NodeId peer);
  // Cache flush on failure indication (RFC 6762 10.4): `peer`'s link died
  // without a goodbye, or a dial did not reach it; its records are asked for
  // again.
  void vanished(NodeId peer);
  // Says goodbye on the LAN (records with TTL 0).
  void stop();
  // What discovery sees and what became of each peer it found (`shopsync doctor`).
  api::DiscoveryReport report(std::uint32_t static_peers) const;

 private:
  LanPeers(Peering& peering, std::function<peering::Now()> now, std::function<bool(std::string_view)> is_trusted)
      : peering_(peering), now_(std::move(now)), is_trusted_(std::move(is_trusted)) {}
  void reconcile(NodeId peer, const std::vector<discovery::PeerEvent>& paths);
  // Reconciles the peers whose grace for an IPv4 path is over.
  void reconcile_waiting();

  Peering& peering_;
  std::function<peering::Now()> now_;
  std::function<bool(std::string_view)> is_trusted_;
  std::unique_ptr<discovery::Discovery> discovery_;  // null while discovery is off
  std::string off_reason_;                           // why it is off
  std::uint64_t started_ms_ = 0;                     // monotonic
  std::set<NodeId> changed_;  // peers dispatch() reported on, reconciled after it
  std::map<NodeId, std::uint64_t> waiting_ipv4_;  // new peers seen over IPv6 only -> monotonic end of their grace
};

}  // namespace shopsync
