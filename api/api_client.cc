#include "api/api_client.h"

#include "net/zmq_socket.h"

namespace shopsync::api {

namespace {

std::string seconds_text(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return std::to_string(ms.count() / 1000) + " s";
  return std::to_string(ms.count()) + " ms";
}

}  // namespace

Result<std::string> parse_api_address(std::string_view text) {
  if (text.starts_with("tcp://") || text.starts_with("ipc://")) {
    if (text.size() == 6) return Status::invalid("API address '" + std::string(text) + "' names no host or path");
    return std::string(text);
  }
  if (text.starts_with("/") || text.starts_with("./")) return "ipc://" + std::string(text);
  const auto colon = text.rfind(':');
  if (colon != std::string_view::npos && colon > 0 && colon + 1 < text.size()) {
    return "tcp://" + std::string(text);
  }
  return Status::invalid("API address '" + std::string(text) +
                         "' is not tcp://HOST:PORT, HOST:PORT, ipc://PATH or a socket path");
}

struct ApiClient::Impl {
  std::string address;
  ApiClientOptions options;
  zmq::Context context;
  zmq::Socket socket;
  zmq::Socket connection_events;  // the socket's monitor
  bool reached = false;                   // connected at least once
  std::uint64_t next_req_id = 1;
};

ApiClient::ApiClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiClient::ApiClient(ApiClient&&) noexcept = default;
ApiClient& ApiClient::operator=(ApiClient&&) noexcept = default;
ApiClient::~ApiClient() {
  // The sockets must close before their context terminates.
  if (impl_) {
    impl_->socket.stop_monitor();  // before its reader closes (net/zmq_socket.h)
    impl_->socket = zmq::Socket();
    impl_->connection_events = zmq::Socket();
  }
}

const std::string& ApiClient::address() const { return impl_->address; }

Result<ApiClient> ApiClient::connect(std::string_view address, ApiClientOptions options) {
  auto endpoint = parse_api_address(address);
  if (!endpoint) return endpoint.status();
  auto context = zmq::Context::create();
  if (!context) return context.status();
  auto socket = zmq::Socket::open(*context, zmq::SocketType::dealer);
  if (!socket) return socket.status();
  // A refused connection (nothing listens there) is told at once, not after
  // the whole timeout: the monitor sees ZeroMQ retry it.
  const std::string monitor = "inproc://api-client-connection";
  SHOPSYNC_TRY(socket->monitor(monitor, zmq::kEventConnected | zmq::kEventConnectRetried));
  auto events = zmq::Socket::open(*context, zmq::SocketType::pair);
  if (!events) return events.status();
  SHOPSYNC_TRY(events->connect(monitor));
  SHOPSYNC_TRY(socket->connect(*endpoint));
  auto impl = std::make_unique<Impl>(
      Impl{*endpoint, options, std::move(context).value(), std::move(socket).value(), std::move(events).value()});
  return ApiClient(std::move(impl));
}

Result<ResponseBody> ApiClient::call(const RequestBody& request) {
  Impl& c = *impl_;
  const std::uint64_t req_id = c.next_req_id++;
  const std::string bytes = encode_request(Request{req_id, request, impl_->options.credential});
  const std::string op(to_string(op_of(request)));
  if (static_cast<std::int64_t>(bytes.size()) > kMaxRequestBytes) {
    return Status::too_large(op + " request of " + std::to_string(bytes.size()) + " bytes is over the API's limit of " +
                             std::to_string(kMaxRequestBytes) + " (a record is at most 1 MiB encoded); nothing was sent");
  }
  // An empty delimiter first, as a REQ socket would send: the server answers
  // REQ and DEALER clients alike.
  const std::string_view message[] = {std::string_view(), bytes};
  auto sent = c.socket.send(message);
  if (!sent) return sent.status().context("sending " + op + " to " + c.address);
  if (!*sent) return Status(Errc::unavailable, "sending " + op + " to " + c.address + ": the send queue is full");

  std::chrono::milliseconds wait = c.options.timeout;
  if (const auto* changes = std::get_if<ChangesRequest>(&request)) wait += std::chrono::milliseconds(changes->wait_ms);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Status(Errc::unavailable, "connecting to " + c.address + ": no answer within " + seconds_text(wait));
    }
    zmq::PollEntry ready[] = {{c.socket.handle()}, {c.connection_events.handle()}};
    auto polled = zmq::poll(ready, left);
    if (!polled) return polled.status().context("waiting for " + c.address);
    if (!ready[0].readable && !ready[1].readable) continue;  // the loop re-checks the deadline
    if (!ready[0].readable) {
      auto event = c.connection_events.monitor_event();
      if (!event) return event.status().context("watching the connection to " + c.address);
      if (*event == zmq::kEventConnected) c.reached = true;
      if (*event == zmq::kEventConnectRetried && !c.reached) {
        return Status(Errc::unavailable, "connecting to " + c.address + ": refused: is shopsyncd running?");
      }
      continue;
    }
    auto parts = c.socket.receive();
    if (!parts) return parts.status().context("reading the answer from " + c.address);
    if (!parts->has_value()) continue;
    auto& frames = (*parts)->parts;
    if (frames.empty()) continue;
    auto response = decode_response(frames.back());
    if (!response) return response.status().context("reading the answer of " + c.address + " to " + op);
    if (response->req_id && *response->req_id != req_id) continue;  // a late answer to an earlier call
    if (!response->error) return response->error;
    return std::move(response->body);
  }
}

}  // namespace shopsync::api
