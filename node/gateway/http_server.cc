// The only file of the gateway that calls libzmq.
#include "node/gateway/http_server.h"

#include <zmq.h>

#include <cerrno>
#include <charconv>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

namespace shopsync::gateway {

namespace {

Status zmq_failure(std::string_view step) {
  return Status::io_error(std::string(step) + ": " + zmq_strerror(zmq_errno()));
}

}  // namespace

HttpResponse json_error(int status, std::string_view code, std::string_view message) {
  HttpResponse response;
  response.status = status;
  nlohmann::json body = {{"success", false}, {"error", std::string(message)}, {"code", std::string(code)}};
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

Result<std::unique_ptr<HttpServer>> HttpServer::bind(void* zmq_context, const std::string& address,
                                                     HttpHandler& handler, HttpServerOptions options) {
  std::string endpoint = address.starts_with("tcp://") ? address : "tcp://" + address;
  if (endpoint.size() <= 6 || endpoint.rfind(':') <= 6) {
    return Status::invalid("HTTP address '" + address + "' is not HOST:PORT");
  }
  bool owns = false;
  if (zmq_context == nullptr) {
    zmq_context = zmq_ctx_new();
    if (zmq_context == nullptr) return zmq_failure("creating a ZeroMQ context");
    owns = true;
  }
  void* sock = zmq_socket(zmq_context, ZMQ_STREAM);
  auto give_up = [&](Status s) -> Result<std::unique_ptr<HttpServer>> {
    if (sock != nullptr) zmq_close(sock);
    if (owns) zmq_ctx_term(zmq_context);
    return s;
  };
  if (sock == nullptr) return give_up(zmq_failure("opening the HTTP socket"));
  const int linger = 0;
  zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
  const int notify = 1;
  zmq_setsockopt(sock, ZMQ_STREAM_NOTIFY, &notify, sizeof notify);
  const int hwm = 10000;
  zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
  if (zmq_bind(sock, endpoint.c_str()) != 0) return give_up(zmq_failure("binding " + endpoint));
  char buf[256];
  std::size_t size = sizeof buf;
  if (zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, buf, &size) != 0) return give_up(zmq_failure("reading the bound endpoint"));
  std::string bound(buf, size > 0 ? size - 1 : 0);
  return std::unique_ptr<HttpServer>(new HttpServer(zmq_context, owns, sock, std::move(bound), handler, options));
}

HttpServer::HttpServer(void* context, bool owns_context, void* socket, std::string endpoint, HttpHandler& handler,
                       HttpServerOptions options)
    : context_(context),
      owns_context_(owns_context),
      socket_(socket),
      endpoint_(std::move(endpoint)),
      handler_(handler),
      options_(options) {}

HttpServer::~HttpServer() {
  zmq_close(socket_);
  if (owns_context_) zmq_ctx_term(context_);
}

std::uint16_t HttpServer::port() const {
  const auto colon = endpoint_.rfind(':');
  unsigned value = 0;
  std::from_chars(endpoint_.data() + colon + 1, endpoint_.data() + endpoint_.size(), value);
  return static_cast<std::uint16_t>(value);
}

Status HttpServer::on_readable() {
  for (int n = 0; n < options_.max_messages_per_call; ++n) {
    std::vector<std::string> parts;
    while (true) {
      zmq_msg_t msg;
      zmq_msg_init(&msg);
      const int rc = zmq_msg_recv(&msg, socket_, ZMQ_DONTWAIT);
      if (rc < 0) {
        const int err = zmq_errno();
        zmq_msg_close(&msg);
        if (parts.empty() && (err == EAGAIN || err == EINTR)) return Status::ok();
        return zmq_failure("receiving on the HTTP socket");
      }
      parts.emplace_back(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
      const bool more = zmq_msg_more(&msg) != 0;
      zmq_msg_close(&msg);
      if (!more) break;
    }
    if (parts.size() != 2) continue;  // ZMQ_STREAM always delivers [id, data]
    stats_.bytes_in += parts[1].size();
    on_data(parts[0], parts[1]);
  }
  return Status::ok();
}

void HttpServer::on_data(const std::string& id, const std::string& data) {
  auto it = connections_.find(id);
  if (data.empty()) {
    if (it != connections_.end()) {  // the client went away
      connections_.erase(it);
      stats_.open_connections = connections_.size();
      return;
    }
    if (closed_by_us_.erase(id) > 0) return;  // the echo of our own close
    if (connections_.size() >= options_.max_connections) {
      ++stats_.connections_refused;
      close(id);
      return;
    }
    ++stats_.connections_opened;
    connections_.emplace(id, Connection{RequestParser(options_.limits), Clock::now()});
    stats_.open_connections = connections_.size();
    return;
  }
  if (it == connections_.end()) {
    it = connections_.emplace(id, Connection{RequestParser(options_.limits), Clock::now()}).first;
    stats_.open_connections = connections_.size();
  }
  Connection& connection = it->second;
  connection.last_active = Clock::now();
  if (connection.closing) {
    // Discarding the rest of an oversized body, then closing.
    const std::size_t used = std::min(connection.draining, data.size());
    connection.draining -= used;
    if (connection.draining == 0) close(id);
    return;
  }
  connection.parser.feed(data);
  serve(id, connection);
}

void HttpServer::serve(const std::string& id, Connection& connection) {
  while (true) {
    auto next = connection.parser.next();
    if (std::holds_alternative<std::monostate>(next)) {
      if (connection.parser.take_continue()) send(id, "HTTP/1.1 100 Continue\r\n\r\n");
      return;
    }
    if (auto* error = std::get_if<HttpError>(&next)) {
      ++stats_.malformed;
      const char* code = error->status == 413   ? "body_too_large"
                         : error->status == 431 ? "header_too_large"
                         : error->status == 501 ? "not_implemented"
                         : error->status == 505 ? "http_version"
                                                : "malformed_request";
      send(id, json_error(error->status, code, error->message).serialize(false));
      // Drain an oversized body (up to 64 MiB) so that the client, still
      // sending, reads the answer instead of a connection reset.
      constexpr std::size_t kMaxDrain = 64u << 20;
      const std::size_t drain = connection.parser.drain_bytes();
      if (drain > 0 && drain <= kMaxDrain) {
        connection.closing = true;
        connection.draining = drain;
      } else {
        close(id);
      }
      return;
    }
    const HttpRequest request = std::move(std::get<HttpRequest>(next));
    ++stats_.requests;
    HttpResponse response = handler_.handle(request);
    const bool keep_alive = request.keep_alive && !response.close;
    send(id, response.serialize(keep_alive));
    if (!keep_alive) {
      close(id);
      return;
    }
  }
}

void HttpServer::send(const std::string& id, const std::string& bytes) {
  if (zmq_send(socket_, id.data(), id.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) return;
  if (zmq_send(socket_, bytes.data(), bytes.size(), ZMQ_DONTWAIT) < 0) return;
  stats_.bytes_out += bytes.size();
}

void HttpServer::close(const std::string& id) {
  // A zero-length message to a peer closes its connection after what was queued.
  if (zmq_send(socket_, id.data(), id.size(), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0) {
    zmq_send(socket_, "", 0, ZMQ_DONTWAIT);
  }
  if (connections_.erase(id) > 0) stats_.open_connections = connections_.size();
  if (closed_by_us_.size() > 4096) closed_by_us_.clear();
  closed_by_us_.insert(id);
}

std::optional<HttpServer::Clock::time_point> HttpServer::next_deadline() const {
  std::optional<Clock::time_point> earliest;
  for (const auto& [id, connection] : connections_) {
    const auto deadline = connection.last_active + options_.idle_timeout;
    if (!earliest || deadline < *earliest) earliest = deadline;
  }
  return earliest;
}

void HttpServer::on_timer() {
  const auto now = Clock::now();
  std::vector<std::string> idle;
  for (const auto& [id, connection] : connections_) {
    if (connection.last_active + options_.idle_timeout <= now) idle.push_back(id);
  }
  for (const auto& id : idle) close(id);
}

}  // namespace shopsync::gateway
