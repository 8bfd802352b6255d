#include "tests/node/support/raw_peer.h"

#include <thread>

#include <boost/test/unit_test.hpp>

namespace shopsync::test {

using namespace std::chrono_literals;

namespace {

wire::WireMessage decoded(const std::string& frame) {
  auto d = wire::decode(frame);
  BOOST_REQUIRE(std::holds_alternative<wire::Decoded>(d));
  return std::get<wire::Decoded>(d).message;
}

// The next message of `sock`, polled every 10 ms for at most 5 s.
zmq::Received next(zmq::Socket& sock) {
  for (int i = 0; i < 500; ++i) {
    auto m = sock.receive();
    BOOST_REQUIRE(m.is_ok());
    if (m->has_value()) return std::move(**m);
    std::this_thread::sleep_for(10ms);
  }
  BOOST_FAIL("no frame from the node within 5 s");
  return {};
}

}  // namespace

RawClient::RawClient(const NodeProcess& node, const zmq::CurveKeyPair& keys) {
  sock = std::move(zmq::Socket::open(ctx, zmq::SocketType::dealer).value());
  BOOST_REQUIRE(sock.set_curve_client(keys.public_key, keys.secret_key, node.public_key()).is_ok());
  BOOST_REQUIRE(sock.connect("tcp://" + node.sync_address()).is_ok());
}

void RawClient::send(const std::string& bytes) {
  const std::string_view parts[] = {bytes};
  BOOST_REQUIRE(*sock.send(parts));
}

wire::WireMessage RawClient::receive() {
  zmq::Received m = next(sock);
  BOOST_REQUIRE(m.parts.size() == 1u);
  return decoded(m.parts[0]);
}

wire::Error RawClient::receive_error() {
  auto m = receive();
  BOOST_REQUIRE_MESSAGE(std::holds_alternative<wire::Error>(m), "expected ERROR, got " << to_string(wire::type_of(m)));
  return std::get<wire::Error>(m);
}

RawListener::RawListener(const zmq::CurveKeyPair& keys) {
  sock = std::move(zmq::Socket::open(ctx, zmq::SocketType::router).value());
  BOOST_REQUIRE(sock.set_curve_server(keys.secret_key).is_ok());
  BOOST_REQUIRE(sock.bind("tcp://127.0.0.1:0").is_ok());
  const std::string endpoint = sock.last_endpoint().value();
  port = static_cast<std::uint16_t>(std::stoul(endpoint.substr(endpoint.rfind(':') + 1)));
}

std::pair<std::string, wire::WireMessage> RawListener::receive() {
  zmq::Received m = next(sock);
  BOOST_REQUIRE(m.parts.size() == 2u);
  return {m.parts[0], decoded(m.parts[1])};
}

void RawListener::send(const std::string& routing_id, const std::string& bytes) {
  const std::string_view parts[] = {routing_id, bytes};
  BOOST_REQUIRE(*sock.send(parts));
}

}  // namespace shopsync::test
