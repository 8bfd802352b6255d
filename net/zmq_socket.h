// The one wrapper of libzmq (zmq_socket.cc is the only file that includes
// zmq.h): a context, move-only sockets, poll, socket monitors, CURVE keys and
// their Z85 codec. The node's sync sockets, the local API (server and client)
// and the HTTP gateway's ZMQ_STREAM socket all go through it.
//
// Everything returns Status / Result values; libzmq's errno never leaks past
// this file (EAGAIN is "would block": an empty optional or `false`). Sockets are
// not thread-safe: one thread (the node's event loop, or a client's caller)
// owns each. A Socket must be destroyed before the Context it was opened in.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace shopsync::zmq {

// A libzmq context: one of its own (terminated on destruction), or a borrowed
// one that its owner terminates.
class Context {
 public:
  static Result<Context> create();
  static Context borrow(void* handle) { return Context(handle, false); }
  Context() = default;
  Context(Context&& other) noexcept : ctx_(other.ctx_), owned_(other.owned_) { other.ctx_ = nullptr; }
  Context& operator=(Context&& other) noexcept;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context();
  void* handle() const { return ctx_; }

 private:
  Context(void* ctx, bool owned) : ctx_(ctx), owned_(owned) {}
  void* ctx_ = nullptr;
  bool owned_ = false;
};

// ZMQ_STREAM: raw TCP, each message [connection id, bytes] (the HTTP gateway).
enum class SocketType { router, dealer, rep, req, pair, stream };

// The events of a socket monitor (the values of libzmq's ZMQ_EVENT_*, which
// zmq_socket.cc checks), or'ed together for Socket::monitor().
inline constexpr int kEventConnected = 0x0001;
inline constexpr int kEventConnectRetried = 0x0004;
inline constexpr int kEventHandshakeFailedNoDetail = 0x0800;
inline constexpr int kEventHandshakeSucceeded = 0x1000;
inline constexpr int kEventHandshakeFailedProtocol = 0x2000;
inline constexpr int kEventHandshakeFailedAuth = 0x4000;

// One received multipart message plus the connection metadata ZeroMQ attaches
// to it: the ZAP user id (the CURVE key a peer authenticated with, as our ZAP
// handler returned it), the peer's IP address and the descriptor of the TCP
// connection it came in on (-1 when unknown).
struct Received {
  std::vector<std::string> parts;
  std::string user_id;
  std::string peer_address;
  int source_fd = -1;
};

// Ends the TCP connection `fd` (a Received::source_fd) as if the peer had hung
// up: a ROUTER has no other way to drop one peer, and it then forgets that
// peer's routing id. Does nothing (false) unless `fd` is still a connection
// from `peer_address` (the Received's).
bool shutdown_connection(int fd, std::string_view peer_address);

// Socket::stop_monitor() by the socket's handle (a holder that keeps the
// handle, not the Socket, which may move).
void stop_monitor(void* socket);

class Socket {
 public:
  static Result<Socket> open(Context& ctx, SocketType type);
  Socket() = default;
  Socket(Socket&& other) noexcept : sock_(other.sock_) { other.sock_ = nullptr; }
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket();  // closes with linger 0: unsent messages are dropped

  bool is_open() const { return sock_ != nullptr; }
  void* handle() const { return sock_; }

  Status bind(const std::string& endpoint);
  Status connect(const std::string& endpoint);
  // The endpoint actually bound (resolves port 0).
  Result<std::string> last_endpoint() const;

  // Options (names after ZeroMQ's).
  Status set_linger(int ms);
  Status set_max_message_size(std::int64_t bytes);
  Status set_high_water_marks(int send, int receive);
  Status set_send_high_water_mark(int send);
  Status set_router_mandatory(bool on);
  Status set_routing_id(std::string_view id);
  Status set_zap_domain(std::string_view domain);
  // This side is a CURVE server with `secret_key` (Z85).
  Status set_curve_server(std::string_view secret_key);
  // This side is a CURVE client that accepts only a server with `server_key`.
  Status set_curve_client(std::string_view public_key, std::string_view secret_key, std::string_view server_key);
  Status set_reconnect_interval(int ms, int max_ms);
  Status set_handshake_interval(int ms);
  // Lets a socket bind and connect over IPv6 as well as IPv4 ("tcp://*:P"
  // then binds both families; "[fe80::1%eth0]" becomes reachable).
  Status set_ipv6(bool on);
  // A ZMQ_STREAM socket delivers an empty message when a connection opens
  // or closes.
  Status set_stream_notify(bool on);
  // Publishes this socket's connection events (kEvent* in `events`) on the
  // `inproc` endpoint, for a pair socket to read with monitor_event().
  Status monitor(const std::string& inproc, int events);
  // Stops publishing events. Call it before the pair socket reading them
  // closes: libzmq's I/O thread blocks on an event nobody can take.
  void stop_monitor() { zmq::stop_monitor(sock_); }
  // On a pair socket connected to a monitor: the next event (kEvent*), or
  // nullopt when none is waiting.
  Result<std::optional<int>> monitor_event();

  // Sends every part; `false` when it would block (nothing was sent), an error
  // when the peer is unreachable (ROUTER_MANDATORY) or the socket failed.
  Result<bool> send(std::span<const std::string_view> parts);
  // nullopt when nothing is waiting.
  Result<std::optional<Received>> receive();

 private:
  explicit Socket(void* sock) : sock_(sock) {}
  Status set_option(int option, const void* value, std::size_t size, std::string_view what);
  void* sock_ = nullptr;
};

// One entry of poll(): a socket or a plain file descriptor.
struct PollEntry {
  void* socket = nullptr;  // or
  int fd = -1;
  bool want_read = true;
  bool want_write = false;
  bool readable = false;  // out
  bool writable = false;  // out
};

// Waits until an entry is ready or `timeout` passes (negative: forever).
// Returns the number of ready entries; EINTR counts as 0 ready.
Result<int> poll(std::span<PollEntry> entries, std::chrono::milliseconds timeout);

struct CurveKeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters
};
Result<CurveKeyPair> make_curve_key_pair();
// The public key that belongs to a Z85 secret key.
Result<std::string> curve_public_key(std::string_view secret_key);
// Z85 of 32 raw key bytes (the ZAP credentials frame; "" unless 32 bytes)
// and back (nullopt when `z85` is not a Z85 key). The form keys are shown to
// people in is public_key_text.h.
std::string z85_encode_key(std::string_view raw32);
std::optional<std::string> z85_decode_key(std::string_view z85);
// 40 characters of the Z85 alphabet.
bool is_z85_key(std::string_view text);

std::string version_string();

}  // namespace shopsync::zmq
