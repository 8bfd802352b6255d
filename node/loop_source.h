// A socket or descriptor that a part of the node (the HTTP gateway, the
// PostgreSQL link, the discovery responder) wants polled by the node's loop.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "net/zmq_socket.h"

namespace shopsync {

struct LoopSource {
  // Called at the start of every turn: add entries to poll and return the
  // longest wait (ms, -1 = no deadline) before on_ready must run anyway.
  std::function<int(std::vector<zmq::PollEntry>& entries)> prepare;
  // Called after poll with the entries this source added (revents filled).
  std::function<void(std::span<const zmq::PollEntry> entries)> on_ready;
};

}  // namespace shopsync
