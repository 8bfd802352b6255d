#include "node/forget_peer.h"

#include <algorithm>

#include "node/log.h"
#include "node/peer_table.h"

namespace shopsync {

Status forget_peer(Store& store, Replica& replica, Peering& peering, NodeId peer) {
  auto known = peering.known().find(peer);
  const bool is_known = known != peering.known().end();
  const std::string who = (is_known ? "peer '" + known->second.name + "'" : std::string("peer")) + " (" +
                          peer_table_key(peer) + ")";
  if (peering.connected(peer)) {
    return Status(Errc::refused, who + " is connected: stop that node first, or revoke its key (shopsync trust rm)");
  }
  const auto peers = replica.peers();
  const bool in_replica = std::any_of(peers.begin(), peers.end(), [&](const PeerStats& p) { return p.id == peer; });
  if (!is_known && !in_replica) return Status::not_found("no peer " + peer_table_key(peer) + " is known here");
  if (in_replica) SHOPSYNC_TRY(replica.forget_peer(peer));
  SHOPSYNC_TRY(store.write([&](StoreWriter& w) { return w.erase(Table::peers, peer_table_key(peer)); }));
  peering.forget(peer);
  SHOPSYNC_LOG(info, "forgot " << who << ": it no longer holds back tombstone removal");
  return Status::ok();
}

}  // namespace shopsync
