#include "node/dial_watch.h"

#include <utility>

namespace shopsync {

namespace {
constexpr const char* kConnectFailed = "connection refused (nothing listens there, or the host is unreachable)";
}  // namespace

Result<DialWatch> DialWatch::attach(zmq::Context& ctx, zmq::Socket& dealer, std::uint64_t link_id,
                                    const std::string& host, std::uint16_t port, bool probe_now) {
  const std::string inproc = "inproc://dial-watch-" + std::to_string(link_id);
  SHOPSYNC_TRY(dealer.monitor(inproc, zmq::kEventConnected | zmq::kEventConnectRetried | zmq::kEventHandshakeSucceeded |
                                          zmq::kEventHandshakeFailedAuth | zmq::kEventHandshakeFailedProtocol |
                                          zmq::kEventHandshakeFailedNoDetail));
  auto events = zmq::Socket::open(ctx, zmq::SocketType::pair);
  if (!events) return events.status();
  SHOPSYNC_TRY(events->connect(inproc));
  DialWatch watch;
  watch.dealer_ = dealer.handle();
  watch.events_ = std::move(events).value();
  watch.host_ = host;
  watch.port_ = port;
  if (probe_now) watch.probe_ = DialProbe::start(host, port);
  return watch;
}

DialWatch::DialWatch(DialWatch&& o) noexcept
    : dealer_(std::exchange(o.dealer_, nullptr)),
      events_(std::move(o.events_)),
      reached_(o.reached_),
      failure_(std::move(o.failure_)),
      host_(std::move(o.host_)),
      port_(o.port_),
      probe_(std::move(o.probe_)) {}

DialWatch& DialWatch::operator=(DialWatch&& o) noexcept {
  if (this != &o) {
    stop();
    dealer_ = std::exchange(o.dealer_, nullptr);
    events_ = std::move(o.events_);
    reached_ = o.reached_;
    failure_ = std::move(o.failure_);
    host_ = std::move(o.host_);
    port_ = o.port_;
    probe_ = std::move(o.probe_);
  }
  return *this;
}

void DialWatch::stop() {
  if (dealer_ == nullptr) return;
  failure();  // what is waiting still counts
  // A null endpoint stops the monitor (its PAIR closes at once, linger 0):
  // from here no event is sent, so the reader may go.
  zmq::stop_monitor(dealer_);
  dealer_ = nullptr;
  events_ = zmq::Socket();
}

const std::string& DialWatch::failure() {
  if (dealer_ == nullptr) return failure_;
  for (int i = 0; i < 64; ++i) {  // bounded: the loop comes back for the rest
    auto event = events_.monitor_event();
    if (!event || !event->has_value()) break;
    switch (**event) {
      case zmq::kEventConnected:
        reached_ = true;
        failure_.clear();
        break;
      case zmq::kEventConnectRetried:
        // A connect that failed: ZeroMQ gives no errno, so the probe finds
        // out why (until it has, the words cover both likely causes).
        if (!reached_) {
          failure_ = kConnectFailed;
          if (!probe_.started()) probe_ = DialProbe::start(host_, port_);
        }
        break;
      case zmq::kEventHandshakeSucceeded: failure_.clear(); break;
      case zmq::kEventHandshakeFailedAuth:
        failure_ = "the peer refused our key (it does not trust this node: run shopsync trust add with this node's "
                   "key there)";
        break;
      case zmq::kEventHandshakeFailedProtocol:
        failure_ = "the CURVE handshake failed (is the key given for the peer its own?)";
        break;
      case zmq::kEventHandshakeFailedNoDetail: failure_ = "the handshake with the peer failed"; break;
      default: break;
    }
  }
  if (!reached_ && failure_ == kConnectFailed && !probe_.verdict().empty()) failure_ = probe_.verdict();
  return failure_;
}

}  // namespace shopsync
