// The local API's few needs of libzmq, in one place: an owned context and
// socket, multipart send and receive without blocking, and a poll for one
// socket. libzmq's errno never leaves zmq_frames.cc: failures are Status values
// naming the step ("binding tcp://...: Address already in use").
//
// (The daemon's own wrapper is node/zmq_socket.h; node/api keeps this small one
// so that it builds as a library of its own, below shopsync_node.)
//
// Not thread-safe: a socket belongs to one thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace shopsync::api::zmqf {

// A libzmq context, or a borrowed one (not terminated on destruction).
class ContextHandle {
 public:
  static Result<ContextHandle> create();
  static ContextHandle borrow(void* ctx) { return ContextHandle(ctx, false); }
  ContextHandle(ContextHandle&& o) noexcept : ctx_(o.ctx_), owned_(o.owned_) { o.ctx_ = nullptr; }
  ContextHandle& operator=(ContextHandle&& o) noexcept;
  ContextHandle(const ContextHandle&) = delete;
  ContextHandle& operator=(const ContextHandle&) = delete;
  ~ContextHandle();
  void* get() const { return ctx_; }

 private:
  ContextHandle(void* ctx, bool owned) : ctx_(ctx), owned_(owned) {}
  void* ctx_ = nullptr;
  bool owned_ = false;
};

enum class Kind { router, dealer, pair };

// A socket closed with linger 0 on destruction (unsent replies are dropped:
// a client that went away does not hold the node up).
class SocketHandle {
 public:
  static Result<SocketHandle> open(void* ctx, Kind kind);
  SocketHandle() = default;
  SocketHandle(SocketHandle&& o) noexcept : sock_(o.sock_) { o.sock_ = nullptr; }
  SocketHandle& operator=(SocketHandle&& o) noexcept;
  SocketHandle(const SocketHandle&) = delete;
  SocketHandle& operator=(const SocketHandle&) = delete;
  ~SocketHandle();
  void* get() const { return sock_; }

  Status bind(const std::string& endpoint);
  Status connect(const std::string& endpoint);
  Result<std::string> last_endpoint() const;
  Status set_max_message_size(std::int64_t bytes);
  // Publishes this socket's connection events (ZMQ_EVENT_*) on `inproc`, for
  // a pair socket to read with connection_event().
  Status monitor(const std::string& inproc, int events);
  // Stops publishing events. Call it before the pair socket reading them
  // closes: libzmq's I/O thread blocks on an event nobody can take.
  void stop_monitor();
  // How long close waits for queued messages (the node's stop: answers to
  // requests in flight); 0 (the default) drops them.
  Status set_linger(int ms);

  // nullopt when nothing is waiting.
  Result<std::optional<std::vector<std::string>>> receive();
  // false when it would block (nothing sent).
  Result<bool> send(const std::vector<std::string_view>& parts);
  // Waits until a message can be read or `timeout` passes; false on timeout.
  Result<bool> wait_readable(std::chrono::milliseconds timeout);
  // On a pair socket connected to a monitor: the next event (ZMQ_EVENT_*), or
  // nullopt when none is waiting.
  Result<std::optional<int>> connection_event();

 private:
  explicit SocketHandle(void* sock) : sock_(sock) {}
  void* sock_ = nullptr;
};

// Waits until `a` or `b` can be read or `timeout` passes: 0 for a, 1 for b,
// nullopt on timeout.
Result<std::optional<int>> wait_readable(SocketHandle& a, SocketHandle& b, std::chrono::milliseconds timeout);

}  // namespace shopsync::api::zmqf
