#include "node/dial_watch.h"

#include <zmq.h>

#include <utility>

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
  watch.dealer_ = dealer.handle();
  watch.events_ = std::move(events).value();
  return watch;
}

DialWatch::DialWatch(DialWatch&& o) noexcept
    : dealer_(std::exchange(o.dealer_, nullptr)),
      events_(std::move(o.events_)),
      reached_(o.reached_),
      failure_(std::move(o.failure_)) {}

DialWatch& DialWatch::operator=(DialWatch&& o) noexcept {
  if (this != &o) {
    stop();
    dealer_ = std::exchange(o.dealer_, nullptr);
    events_ = std::move(o.events_);
    reached_ = o.reached_;
    failure_ = std::move(o.failure_);
  }
  return *this;
}

void DialWatch::stop() {
  if (dealer_ == nullptr) return;
  failure();  // what is waiting still counts
  // A null endpoint stops the monitor (its PAIR closes at once, linger 0):
  // from here no event is sent, so the reader may go.
  zmq_socket_monitor(dealer_, nullptr, 0);
  dealer_ = nullptr;
  events_ = api::zmqf::SocketHandle();
}

const std::string& DialWatch::failure() {
  if (dealer_ == nullptr) return failure_;
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
