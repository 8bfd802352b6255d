// A peer played by hand in a test: frames encoded with node/wire_codec.h and
// sent over real CURVE sockets on loopback to a real shopsyncd, so that a test
// can say exactly what a misbehaving or unlucky peer says, in what order.
#pragma once

#include <string>
#include <utility>

#include "net/zmq_socket.h"
#include "node/wire_codec.h"
#include "tests/node/support/node_process.h"

namespace shopsync::test {

// A connection to the node: a DEALER, CURVE client with `keys` (which the node
// must trust).
struct RawClient {
  zmq::Context ctx = std::move(zmq::Context::create().value());
  zmq::Socket sock;
  RawClient(const NodeProcess& node, const zmq::CurveKeyPair& keys);
  void send(const std::string& bytes);
  // The next frame, decoded; fails the test after 5 s of silence.
  wire::WireMessage receive();
  wire::Error receive_error();
};

// A sync port the node dials (give it `--peer KEY@127.0.0.1:PORT`): a ROUTER,
// CURVE server with `keys`, on 127.0.0.1 with a port of its own.
struct RawListener {
  zmq::Context ctx = std::move(zmq::Context::create().value());
  zmq::Socket sock;
  std::uint16_t port = 0;
  explicit RawListener(const zmq::CurveKeyPair& keys);
  // The next frame from any connection: its routing id and the message;
  // fails the test after 5 s of silence.
  std::pair<std::string, wire::WireMessage> receive();
  void send(const std::string& routing_id, const std::string& bytes);
};

}  // namespace shopsync::test
