// The local API backend of the daemon: RecordService's record operations plus
// what only the node knows (name, role, key, peer addresses and states, the
// trusted keys).
//
// Thread-safety: the node's loop thread only (the ApiServer calls it there).
#pragma once

#include "app/record_service.h"

namespace shopsync {

class Node;

class DaemonBackend final : public app::RecordService {
 public:
  // `node` must outlive the backend.
  explicit DaemonBackend(Node& node);

  Result<api::NodeStatus> status() override;
  Result<api::PeerList> peers() override;
  Result<api::TrustedKeyList> trusted_keys() override;
  Status trust(const api::TrustAddRequest& request) override;
  Status distrust(std::string_view key) override;
  Result<api::PublicKey> public_key() override;
  Result<api::DiscoveryReport> discovery() override;
  Status forget_peer(NodeId peer) override;

 private:
  Node& node_;
};

}  // namespace shopsync
