// The gateway's HTTP/1.1 server: raw TCP through one ZeroMQ ZMQ_STREAM socket,
// so that the node's event loop polls it like every other socket.
//
// It never blocks and owns no thread. The loop polls socket() for ZMQ_POLLIN
// and calls on_readable(); it wakes up by next_deadline() to call on_timer().
// Reading and answering are separate so that no client can hold the loop:
//   - on_readable() reads what is waiting (at most max_messages_per_call
//     socket messages) and parses it into each connection's queue of complete
//     requests; that is cheap. A connection whose queue grows beyond
//     max_pipelined is answered 503 and closed, its queue dropped; a client
//     that closes is forgotten at once, with its queue.
//   - Requests are answered a few per connection and per loop turn
//     (requests_per_turn, round robin, at most max_requests_per_turn in all);
//     while some wait, next_deadline() is "now", and on_timer() answers the
//     next round after the loop has served its other sockets (peer sessions,
//     heartbeats, the local API).
// Each request is handed to the HttpHandler (synchronously, on the loop
// thread) and its answer written back in order; keep-alive and pipelining
// work. HEAD is handled as GET and answered without a body. Malformed
// requests get a 4xx/5xx JSON error from the server itself (http_parser.h)
// and the connection is closed (after draining an oversized body, so the
// client reads the 413).
//
// Deadlines and caps (HttpServerOptions): a request head must be complete
// within head_timeout of its first byte (of the connection's opening, for
// the first request), a body within body_timeout of its head; both are
// answered 408 and closed. A connection with nothing in progress is closed
// after idle_timeout. At most max_connections_per_address connections per
// client address; at most max_connections in all: when full, the oldest
// connection that never authenticated and has nothing to answer is closed to
// make room, else the new one is refused. A client that does not read its
// answers (the send queue is full) is dropped. Every drop is counted by
// reason (HttpServerStats::dropped) and, like every 4xx/5xx answer, logged
// with the client address and the reason, rate-limited (log_lines_per_second).
//
// Thread-safety: none; one thread (the loop) calls everything. The handler
// must outlive the server.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "core/status.h"
#include "node/gateway/http_message.h"
#include "node/gateway/http_parser.h"
#include "node/gateway/log_limiter.h"

namespace shopsync::gateway {

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual HttpResponse handle(const HttpRequest& request) = 0;
};

struct HttpServerOptions {
  HttpLimits limits;
  std::size_t max_connections = 256;
  std::size_t max_connections_per_address = 32;  // --http-max-per-address
  std::chrono::milliseconds idle_timeout{60'000};  // nothing in progress
  std::chrono::milliseconds head_timeout{10'000};  // --http-head-timeout-ms
  std::chrono::milliseconds body_timeout{60'000};  // --http-body-timeout-ms
  std::size_t max_pipelined = 64;   // --http-max-pipelined: requests waiting on one connection
  int requests_per_turn = 4;        // answered per connection per loop turn
  int max_requests_per_turn = 64;   // answered per loop turn, all connections
  int max_messages_per_call = 256;  // socket reads per on_readable(), so other sockets are not starved
  int log_lines_per_second = 10;
  // Where event lines go (4xx/5xx answers, dropped connections); none if empty.
  LogLimiter::Sink log;
};

// Why the server closed a connection itself (a fixed set: metric labels).
enum class DropReason { head_timeout, body_timeout, idle, per_address, evicted, full, backlog, slow_reader };
inline constexpr std::array<DropReason, 8> kDropReasons = {
    DropReason::head_timeout, DropReason::body_timeout, DropReason::idle,     DropReason::per_address,
    DropReason::evicted,      DropReason::full,         DropReason::backlog, DropReason::slow_reader};
std::string_view to_string(DropReason reason);

struct HttpServerStats {
  std::uint64_t connections_opened = 0;
  std::uint64_t requests = 0;
  std::uint64_t malformed = 0;  // answered by the server before reaching the handler
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::size_t open_connections = 0;
  std::array<std::uint64_t, kDropReasons.size()> dropped{};  // by DropReason
  std::uint64_t log_lines_suppressed = 0;
};

class HttpServer {
 public:
  using Clock = std::chrono::steady_clock;

  // Binds to "HOST:PORT" or "tcp://HOST:PORT" (port 0 picks a free one; see
  // endpoint()). `zmq_context` is a libzmq context the caller owns, or nullptr
  // for the server's own. Errors: invalid_argument (address), io_error naming
  // the address ("binding tcp://127.0.0.1:7462: Address already in use").
  static Result<std::unique_ptr<HttpServer>> bind(void* zmq_context, const std::string& address,
                                                  HttpHandler& handler, HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void* socket() const { return socket_; }
  const std::string& endpoint() const { return endpoint_; }  // "tcp://127.0.0.1:7462"
  std::uint16_t port() const;

  // Reads what is waiting and answers complete requests. Returns the socket's
  // failure only.
  Status on_readable();
  std::optional<Clock::time_point> next_deadline() const;
  void on_timer();

  const HttpServerStats& stats() const { return stats_; }

 private:
  struct Connection {
    RequestParser parser;
    std::string address;  // the client's IP address, "" when unknown
    Clock::time_point opened;
    Clock::time_point last_active;
    // A request head (or, for a new connection, the first) in progress since;
    // a body in progress since.
    std::optional<Clock::time_point> head_since;
    std::optional<Clock::time_point> body_since;
    std::deque<std::variant<HttpRequest, HttpError>> queue;  // parsed, not answered yet
    std::size_t draining = 0;  // bytes of an oversized body still to discard
    bool discarding = false;   // the parser failed: bytes are discarded, no more parsing
    bool authenticated = false;  // a request on it passed authentication
  };

  HttpServer(void* context, bool owns_context, void* socket, std::string endpoint, HttpHandler& handler,
             HttpServerOptions options);
  void on_data(const std::string& id, const std::string& data, const std::string& address);
  void on_connect(const std::string& id, const std::string& address);
  void parse(const std::string& id, Connection& connection);
  void send_continue(const std::string& id, Connection& connection);
  void serve_pending();
  void serve_one(const std::string& id, Connection& connection);
  std::optional<Clock::time_point> deadline_of(const Connection& connection) const;
  // False when the client does not read its answers (the connection is then dropped).
  bool send(const std::string& id, const std::string& bytes);
  void close(const std::string& id);
  void drop(const std::string& id, DropReason reason, const std::string& why);
  void log_answer(const Connection& connection, const std::string& what, int status, std::string_view reason);

  void* context_;
  bool owns_context_;
  void* socket_;
  std::string endpoint_;
  HttpHandler& handler_;
  HttpServerOptions options_;
  std::map<std::string, Connection> connections_;  // by ZeroMQ routing id
  // Ids we closed ourselves: libzmq still reports their disconnection, which
  // must not be mistaken for a new connection. Bounded.
  std::set<std::string> closed_by_us_;
  std::string cursor_;  // the connection answered last (round robin)
  LogLimiter log_;
  HttpServerStats stats_;
};

// {"success": false, "error": message, "code": code} with that status.
HttpResponse json_error(int status, std::string_view code, std::string_view message);

}  // namespace shopsync::gateway
