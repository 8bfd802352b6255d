// The local API server: a ZeroMQ ROUTER on the --api address that answers
// MessagePack requests (docs/local-api.md) by calling an ApiBackend.
//
// It never blocks and owns no thread: the node's event loop polls socket() for
// ZMQ_POLLIN and calls on_readable(); it calls notify_changes() after anything
// changed records (received batches; the server does it itself after writes it
// made), and wakes up by next_deadline() to call on_timer(), which answers the
// long polls whose wait is over.
//
// Clients may be REQ, or DEALER sockets that send an empty delimiter frame
// before the body (what ApiClient does): every frame before the last is the
// reply envelope, echoed back unchanged. A DEALER may have several requests in
// flight and match answers by req_id.
//
// Malformed requests are answered with an error (never a crash, never a
// silent drop): garbage bytes, unknown operations or versions, bad arguments.
// Messages above max_request_bytes are refused by ZeroMQ itself, which drops
// the sender's connection.
//
// Thread-safety: none; one thread (the loop) calls everything. The backend
// and the ZeroMQ context must outlive the server.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/api_backend.h"
#include "api/api_codec.h"
#include "core/status.h"
#include "net/zmq_socket.h"

namespace shopsync::api {

struct ApiServerOptions {
  // Largest request accepted (ZMQ_MAXMSGSIZE).
  std::int64_t max_request_bytes = kMaxRequestBytes;
  // Long polls held at once; beyond, a waiting changes request is answered
  // with `unavailable` (the client backs off and asks again).
  std::size_t max_parked = 1024;
  // Requests handled per on_readable() call, so that sync traffic is not
  // starved by a busy client (the socket stays readable; the loop comes back).
  int max_requests_per_call = 64;
  // Called for each request answered with an error (op unknown for a request
  // that did not decode): the node logs the ones an operator must see.
  std::function<void(std::optional<Op> op, const Status& error)> on_error;
  // When set, a request must carry it as `auth` (api_credential.h); any
  // other is answered `refused` and reaches no backend.
  std::string credential;
};

struct ApiServerStats {
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;     // answered with an error (of any kind)
  std::uint64_t malformed = 0;  // refused before reaching the backend
  std::uint64_t unauthenticated = 0;  // refused: without the API credential
  std::size_t parked = 0;       // long polls waiting now
};

class ApiServer {
 public:
  using Clock = std::chrono::steady_clock;

  // Binds a ROUTER to `address` ("tcp://HOST:PORT", "ipc://PATH"; port 0
  // picks a free one, see endpoint()). `zmq_context` is a libzmq context the
  // caller owns, or nullptr for one of the server's own.
  // Errors: io_error naming the address ("binding tcp://...: Address already in use").
  static Result<std::unique_ptr<ApiServer>> bind(void* zmq_context, const std::string& address,
                                                 ApiBackend& backend, ApiServerOptions options = {});
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // The libzmq socket to poll for ZMQ_POLLIN.
  void* socket() const { return socket_.handle(); }
  // The endpoint really bound ("tcp://127.0.0.1:7461").
  const std::string& endpoint() const { return endpoint_; }

  // Answers the requests waiting on the socket (at most
  // max_requests_per_call). Returns the socket's failure only (a failed
  // request is answered, not returned).
  Status on_readable();

  // Records changed: answers the parked long polls that now have something.
  void notify_changes();

  // When on_timer() must run next; nullopt when nothing is parked.
  std::optional<Clock::time_point> next_deadline() const;
  // Answers the long polls whose wait is over (with no changes).
  void on_timer();

  ApiServerStats stats() const;

  // The node stops: every parked long poll and every request waiting on the
  // socket is answered with `why` (an error), and the socket lingers a
  // little on close so that the answers leave. Later requests go unanswered.
  void refuse_all(const Status& why);

 private:
  struct Parked {
    std::vector<std::string> envelope;
    std::optional<std::uint64_t> req_id;
    ChangesRequest request;
    Clock::time_point deadline;
  };

  ApiServer(zmq::Context context, zmq::Socket socket, std::string endpoint, ApiBackend& backend,
            ApiServerOptions options);
  void handle(std::vector<std::string> parts);
  // The answer to a decoded request, or nullopt when it was parked.
  std::optional<std::string> answer(const std::vector<std::string>& envelope, const Request& request);
  std::string answer_changes(const std::vector<std::string>& envelope, const Request& request,
                             const ChangesRequest& changes, bool& parked);
  void reply(const std::vector<std::string>& envelope, const std::string& body);
  std::string error_reply(std::optional<std::uint64_t> req_id, std::optional<Op> op, const Status& status);

  zmq::Context context_;
  zmq::Socket socket_;
  std::string endpoint_;
  ApiBackend& backend_;
  ApiServerOptions options_;
  std::deque<Parked> parked_;
  ApiServerStats stats_;
};

}  // namespace shopsync::api
