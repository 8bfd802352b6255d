// The gateway's HTTP/1.1 server: raw TCP through one ZeroMQ ZMQ_STREAM socket,
// so that the node's event loop polls it like every other socket.
//
// It never blocks and owns no thread. The loop polls socket() for ZMQ_POLLIN
// and calls on_readable(); it wakes up by next_deadline() to call on_timer(),
// which closes idle connections. Each complete request is handed to the
// HttpHandler (synchronously, on the loop thread) and its answer written back
// in order; keep-alive and pipelining work. Malformed requests get a 4xx/5xx
// JSON error from the server itself (http_parser.h) and the connection is
// closed (after draining an oversized body, so the client reads the 413).
//
// Limits: HttpLimits per request; at most max_connections open (a new one
// beyond is closed at once); idle connections closed after idle_timeout.
//
// Thread-safety: none; one thread (the loop) calls everything. The handler
// must outlive the server.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "node/gateway/http_message.h"
#include "node/gateway/http_parser.h"
#include "storage/status.h"

namespace shopsync::gateway {

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual HttpResponse handle(const HttpRequest& request) = 0;
};

struct HttpServerOptions {
  HttpLimits limits;
  std::size_t max_connections = 256;
  std::chrono::milliseconds idle_timeout{60'000};
  int max_messages_per_call = 256;  // socket reads per on_readable(), so other sockets are not starved
};

struct HttpServerStats {
  std::uint64_t connections_opened = 0;
  std::uint64_t connections_refused = 0;  // beyond max_connections
  std::uint64_t requests = 0;
  std::uint64_t malformed = 0;  // answered by the server before reaching the handler
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  std::size_t open_connections = 0;
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
    Clock::time_point last_active;
    std::size_t draining = 0;  // bytes of an oversized body still to discard before closing
    bool closing = false;
  };

  HttpServer(void* context, bool owns_context, void* socket, std::string endpoint, HttpHandler& handler,
             HttpServerOptions options);
  void on_data(const std::string& id, const std::string& data);
  void serve(const std::string& id, Connection& connection);
  void send(const std::string& id, const std::string& bytes);
  void close(const std::string& id);

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
  HttpServerStats stats_;
};

// {"success": false, "error": message, "code": code} with that status.
HttpResponse json_error(int status, std::string_view code, std::string_view message);

}  // namespace shopsync::gateway
