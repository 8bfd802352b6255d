// Why an outbound connection does not come up, in words an operator acts on:
// the ZeroMQ socket monitor of one DEALER, read by the node's loop.
//
// ZeroMQ retries a failed TCP connect by itself and never says why; the
// monitor tells a connect that failed (nothing listens, or the host is out of
// reach) from a handshake the peer refused (its ZAP handler did not accept
// our key) and from a connection that came up but stayed silent.
//
// Thread-safety: the node's loop thread only. Lifetime: destroy it before or
// with the monitored socket's context.
#pragma once

#include <cstdint>
#include <string>

#include "node/api/zmq_frames.h"
#include "node/zmq_socket.h"
#include "storage/status.h"

namespace shopsync {

class DialWatch {
 public:
  // Monitors `dealer`; call before dealer.connect(). `link_id` makes the
  // monitor's inproc endpoint unique within the context.
  static Result<DialWatch> attach(zmq::Context& ctx, zmq::Socket& dealer, std::uint64_t link_id);
  DialWatch() = default;

  // Reads the events waiting and returns the failure seen so far ("" when
  // none, or once a connection came up and nothing failed after).
  const std::string& failure();

 private:
  api::zmqf::SocketHandle events_;
  bool reached_ = false;  // a TCP connection came up
  std::string failure_;
};

}  // namespace shopsync
