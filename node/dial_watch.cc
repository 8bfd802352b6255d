#include "node/dial_watch.h"

#include <zmq.h>

namespace shopsync {

Result<DialWatch> DialWatch::attach(zmq::Context& ctx, zmq::Socket& dealer, std::uint64_t link_id) {
  const std::string inproc = "inproc://dial-watch-" + std::to_string(link_id);
  SHOPSYNC_TRY(dealer.monitor(inproc, ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                                          ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                          ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL));
  auto events = api::zmqf::SocketHandle::open(ctx.handle(), api::zmqf::Kind::pair);
  if (!events) return events.status();
  SHOPSYNC_TRY(events->connect(inproc));
  DialWatch watch;
  watch.events_ = std::move(events).value();
  return watch;
}

const std::string& DialWatch::failure() {
  for (int i = 0; i < 64; ++i) {  // bounded: the loop comes back for the rest
    auto event = events_.connection_event();
    if (!event || !event->has_value()) break;
    switch (**event) {
      case ZMQ_EVENT_CONNECTED:
        reached_ = true;
        failure_.clear();
        break;
      case ZMQ_EVENT_CONNECT_RETRIED:
        // A connect that failed: ZeroMQ gives no errno, and loopback, a LAN
        // and a firewall's RST all look alike here.
        if (!reached_) failure_ = "connection refused (nothing listens there, or the host is unreachable)";
        break;
      case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: failure_.clear(); break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        failure_ = "the peer refused our key (it does not trust this node: run shopsync trust add with this node's "
                   "key there)";
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        failure_ = "the CURVE handshake failed (is the key given for the peer its own?)";
        break;
      case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: failure_ = "the handshake with the peer failed"; break;
      default: break;
    }
  }
  return failure_;
}

}  // namespace shopsync
