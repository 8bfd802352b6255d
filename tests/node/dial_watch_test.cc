// The dial monitor (node/dial_watch.h) on real ZeroMQ sockets: it tells why a
// dial fails, and a link that ends never stalls the node's other connections.
#include "node/dial_watch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "net/zmq_socket.h"

namespace shopsync {
namespace {

using namespace std::chrono_literals;

// An endpoint on loopback where nothing listens: a port bound and freed at
// once (a ZeroMQ listener would close later, from its I/O thread).
std::string refused_endpoint() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0);
  BOOST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return "tcp://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

zmq::Socket dealer_to(zmq::Context& ctx, const std::string& endpoint, DialWatch* watch) {
  auto dealer = zmq::Socket::open(ctx, zmq::SocketType::dealer);
  BOOST_REQUIRE(dealer.is_ok());
  BOOST_REQUIRE(dealer->set_reconnect_interval(10, 10).is_ok());  // a retry event every 10 ms
  if (watch != nullptr) {
    const auto port = static_cast<std::uint16_t>(std::stoi(endpoint.substr(endpoint.rfind(':') + 1)));
    auto attached = DialWatch::attach(ctx, *dealer, 1, "127.0.0.1", port);
    BOOST_REQUIRE(attached.is_ok());
    *watch = std::move(*attached);
  }
  BOOST_REQUIRE(dealer->connect(endpoint).is_ok());
  return std::move(*dealer);
}

// Whether a message crosses a fresh DEALER -> ROUTER pair of `ctx` on loopback.
bool context_still_carries_messages(zmq::Context& ctx) {
  auto router = zmq::Socket::open(ctx, zmq::SocketType::router);
  BOOST_REQUIRE(router.is_ok());
  BOOST_REQUIRE(router->bind("tcp://127.0.0.1:0").is_ok());
  zmq::Socket dealer = dealer_to(ctx, *router->last_endpoint(), nullptr);
  const std::string_view ping = "ping";
  BOOST_REQUIRE(dealer.send(std::span(&ping, 1)).is_ok());
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::vector<zmq::PollEntry> entries = {{router->handle()}};
    BOOST_REQUIRE(zmq::poll(entries, 100ms).is_ok());
    if (entries[0].readable) return true;
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dial_watch)

BOOST_AUTO_TEST_CASE(a_dial_nothing_answers_is_called_refused) {
  auto ctx = zmq::Context::create();
  BOOST_REQUIRE(ctx.is_ok());
  DialWatch watch;
  zmq::Socket dealer = dealer_to(*ctx, refused_endpoint(), &watch);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (watch.failure().empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
  BOOST_TEST(watch.failure().starts_with("connection refused"));
}

// A link ends with its watch first and its DEALER after (node_parts.h). On
// the old code the watch closed its reader with the monitor still on: the
// DEALER's next retry event blocked libzmq's I/O thread for good, and every
// connection of the node went silent (seen as a LAN test that never
// connected: HELLOs unanswered, handshakes failed).
BOOST_AUTO_TEST_CASE(a_watch_that_ends_before_its_retrying_dealer_stalls_nothing) {
  auto ctx = zmq::Context::create();
  BOOST_REQUIRE(ctx.is_ok());
  // Leaked when the I/O thread is stuck: closing it would wait forever.
  auto owned = std::make_unique<zmq::Context>(std::move(*ctx));
  {
    DialWatch watch;
    zmq::Socket dealer = dealer_to(*owned, refused_endpoint(), &watch);
    std::this_thread::sleep_for(50ms);
    watch = DialWatch();
    std::this_thread::sleep_for(100ms);  // the DEALER keeps retrying: about ten events
  }
  const bool carried = context_still_carries_messages(*owned);
  BOOST_TEST(carried);
  if (!carried) (void)owned.release();
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace shopsync
