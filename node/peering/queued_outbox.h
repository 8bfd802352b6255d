// An Outbox that queues what the replica sends, for Peering (peering.h) to
// put on each peer's session link when it flushes.
#pragma once

#include <utility>
#include <vector>

#include "replication/outbox.h"

namespace shopsync::peering {

class QueuedOutbox : public Outbox {
 public:
  void send(NodeId to, Message message) override { queue.emplace_back(to, std::move(message)); }
  std::vector<std::pair<NodeId, Message>> queue;
};

}  // namespace shopsync::peering
