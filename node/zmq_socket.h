// The one wrapper of libzmq: a context, move-only sockets, poll, CURVE keys.
//
// Everything returns Status / Result values; libzmq's errno never leaks past
// this file (EAGAIN is "would block": an empty optional or `false`). Sockets are
// not thread-safe: the node's event loop thread owns every one of them.
// A Socket must be destroyed before the Context it was opened in.
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

class Context {
 public:
  static Result<Context> create();
  Context(Context&& other) noexcept : ctx_(other.ctx_) { other.ctx_ = nullptr; }
  Context& operator=(Context&& other) noexcept;
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  ~Context();
  void* handle() const { return ctx_; }

 private:
  explicit Context(void* ctx) : ctx_(ctx) {}
  void* ctx_ = nullptr;
};

enum class SocketType { router, dealer, rep, req, pair };

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
  // Publishes this socket's connection events (ZMQ_EVENT_* in `events`) on
  // the `inproc` endpoint, for a pair socket (node/dial_watch.h) to read.
  Status monitor(const std::string& inproc, int events);

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
// Z85 of 32 raw key bytes (the ZAP credentials frame) and back; the same as
// public_key_text.h, which also has the form keys are shown to people in.
std::string z85_encode_key(std::string_view raw32);
std::optional<std::string> z85_decode_key(std::string_view z85);
bool is_z85_key(std::string_view text);

std::string version_string();

}  // namespace shopsync::zmq
