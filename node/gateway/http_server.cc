#include "node/gateway/http_server.h"

#include <charconv>
#include <set>
#include <vector>

#include <nlohmann/json.hpp>

namespace shopsync::gateway {

namespace {

// Untrusted text for a log line: printable ASCII only, at most `max` bytes.
std::string printable(std::string_view text, std::size_t max = 120) {
  std::string out;
  for (char c : text.substr(0, max)) out += c >= 0x20 && c < 0x7f ? c : '?';
  if (text.size() > max) out += "...";
  return out;
}

std::string millis(std::chrono::milliseconds ms) { return std::to_string(ms.count()) + " ms"; }

}  // namespace

std::string_view to_string(DropReason reason) {
  switch (reason) {
    case DropReason::head_timeout: return "head_timeout";
    case DropReason::body_timeout: return "body_timeout";
    case DropReason::idle: return "idle";
    case DropReason::per_address: return "per_address";
    case DropReason::evicted: return "evicted";
    case DropReason::full: return "full";
    case DropReason::backlog: return "backlog";
    case DropReason::slow_reader: return "slow_reader";
  }
  return "unknown";
}

HttpResponse json_error(int status, std::string_view code, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.reason = std::string(message);
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
  zmq::Context context = zmq::Context::borrow(zmq_context);
  if (zmq_context == nullptr) {
    auto created = zmq::Context::create();
    if (!created) return created.status();
    context = std::move(created).value();
  }
  auto socket = zmq::Socket::open(context, zmq::SocketType::stream);
  if (!socket) return socket.status().context("opening the HTTP socket");
  SHOPSYNC_TRY(socket->set_stream_notify(true));
  SHOPSYNC_TRY(socket->set_send_high_water_mark(10000));
  SHOPSYNC_TRY(socket->bind(endpoint));
  auto bound = socket->last_endpoint();
  if (!bound) return bound.status();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(context), std::move(socket).value(),
                                                    std::move(bound).value(), handler, options));
}

HttpServer::HttpServer(zmq::Context context, zmq::Socket socket, std::string endpoint, HttpHandler& handler,
                       HttpServerOptions options)
    : context_(std::move(context)),
      socket_(std::move(socket)),
      endpoint_(std::move(endpoint)),
      handler_(handler),
      options_(options),
      log_(options_.log, options_.log_lines_per_second) {}

HttpServer::~HttpServer() = default;

std::uint16_t HttpServer::port() const {
  const auto colon = endpoint_.rfind(':');
  unsigned value = 0;
  std::from_chars(endpoint_.data() + colon + 1, endpoint_.data() + endpoint_.size(), value);
  return static_cast<std::uint16_t>(value);
}

Status HttpServer::on_readable() {
  for (int n = 0; n < options_.max_messages_per_call; ++n) {
    auto received = socket_.receive();
    if (!received) return received.status().context("receiving on the HTTP socket");
    if (!received->has_value()) break;
    const std::vector<std::string>& parts = (*received)->parts;
    const std::string& address = (*received)->peer_address;
    if (parts.size() != 2) continue;  // ZMQ_STREAM always delivers [id, data]
    stats_.bytes_in += parts[1].size();
    on_data(parts[0], parts[1], address);
  }
  serve_pending();
  return Status::ok();
}

void HttpServer::on_connect(const std::string& id, const std::string& address) {
  if (!address.empty()) {
    std::size_t same = 0;
    for (const auto& [other, connection] : connections_) same += connection.address == address;
    if (same >= options_.max_connections_per_address) {
      ++stats_.dropped[static_cast<std::size_t>(DropReason::per_address)];
      log_.write("HTTP gateway: refused a connection from " + address + ": " + std::to_string(same) +
                 " open from that address already (the limit)");
      close(id);
      return;
    }
  }
  if (connections_.size() >= options_.max_connections) {
    // Room is made by closing the oldest connection that never authenticated
    // and has nothing to answer; when every one is busy or authenticated, the
    // new one is refused.
    const std::string* oldest = nullptr;
    Clock::time_point oldest_opened;
    for (const auto& [other, connection] : connections_) {
      if (connection.authenticated || !connection.queue.empty() || connection.discarding) continue;
      if (oldest == nullptr || connection.opened < oldest_opened) {
        oldest = &other;
        oldest_opened = connection.opened;
      }
    }
    if (oldest == nullptr) {
      ++stats_.dropped[static_cast<std::size_t>(DropReason::full)];
      log_.write("HTTP gateway: refused a connection from " + (address.empty() ? "?" : address) + ": " +
                 std::to_string(connections_.size()) + " connections open (the limit), none idle");
      close(id);
      return;
    }
    const std::string victim = *oldest;  // a copy: dropping erases the key it points to
    drop(victim, DropReason::evicted, "the oldest unauthenticated idle connection, closed to make room");
  }
  const auto now = Clock::now();
  ++stats_.connections_opened;
  Connection connection{.parser = RequestParser(options_.limits), .address = address, .opened = now, .last_active = now,
                        .head_since = now,  // the first request's head is due within head_timeout
                        .body_since = std::nullopt, .queue = {}};
  connections_.emplace(id, std::move(connection));
  stats_.open_connections = connections_.size();
}

void HttpServer::on_data(const std::string& id, const std::string& data, const std::string& address) {
  auto it = connections_.find(id);
  if (data.empty()) {
    if (it != connections_.end()) {  // the client went away: forget it and what it queued
      connections_.erase(it);
      stats_.open_connections = connections_.size();
      return;
    }
    if (closed_by_us_.erase(id) > 0) return;  // the echo of our own close
    on_connect(id, address);
    return;
  }
  if (it == connections_.end()) {
    if (closed_by_us_.count(id) > 0) return;  // bytes that were on their way when we closed it
    on_connect(id, address);
    it = connections_.find(id);
    if (it == connections_.end()) return;
  }
  Connection& connection = it->second;
  connection.last_active = Clock::now();
  if (connection.address.empty()) connection.address = address;
  if (connection.discarding) {
    // Discarding the rest of an oversized body; closed once it is answered and drained.
    const std::size_t used = std::min(connection.draining, data.size());
    connection.draining -= used;
    if (connection.draining == 0 && connection.queue.empty()) close(id);
    return;
  }
  connection.parser.feed(data);
  parse(id, connection);
  it = connections_.find(id);  // a 100 Continue the client does not read may have dropped it
  if (it != connections_.end() && it->second.queue.size() > options_.max_pipelined) {
    send(id, json_error(503, "too_many_pipelined", "more than " + std::to_string(options_.max_pipelined) +
                                                       " pipelined requests waiting on one connection")
                 .serialize(false));
    drop(id, DropReason::backlog,
         "more than " + std::to_string(options_.max_pipelined) + " pipelined requests waiting; answered 503");
  }
}

void HttpServer::parse(const std::string& id, Connection& connection) {
  const auto now = Clock::now();
  bool completed = false;
  while (connection.queue.size() <= options_.max_pipelined) {
    auto next = connection.parser.next();
    if (std::holds_alternative<std::monostate>(next)) break;
    if (auto* error = std::get_if<HttpError>(&next)) {
      // Drain an oversized body (up to 64 MiB) so that the client, still
      // sending, reads the answer instead of a connection reset.
      constexpr std::size_t kMaxDrain = 64u << 20;
      const std::size_t drain = connection.parser.drain_bytes();
      connection.discarding = true;
      connection.draining = drain <= kMaxDrain ? drain : 0;
      connection.queue.emplace_back(std::move(*error));
      connection.head_since.reset();
      connection.body_since = now;  // the drain is due within body_timeout
      return;
    }
    connection.queue.emplace_back(std::move(std::get<HttpRequest>(next)));
    completed = true;
  }
  // Deadlines run from the start of the request now in progress.
  if (completed) {
    connection.head_since.reset();
    connection.body_since.reset();
  }
  if (connection.parser.awaiting_body()) {
    connection.head_since.reset();
    if (!connection.body_since) connection.body_since = now;
    send_continue(id, connection);
  } else {
    connection.body_since.reset();
    if (connection.parser.buffered() > 0 && !connection.head_since) connection.head_since = now;
  }
}

void HttpServer::send_continue(const std::string& id, Connection& connection) {
  // The interim answer only when no answer before it is due, so answers stay in order.
  if (connection.queue.empty() && connection.parser.awaiting_body() && connection.parser.take_continue()) {
    send(id, "HTTP/1.1 100 Continue\r\n\r\n");
  }
}

void HttpServer::serve_pending() {
  int budget = options_.max_requests_per_turn;
  // Round robin: start after the connection answered last.
  std::vector<std::string> ready;
  for (auto it = connections_.upper_bound(cursor_); it != connections_.end(); ++it) {
    if (!it->second.queue.empty()) ready.push_back(it->first);
  }
  for (auto it = connections_.begin(); it != connections_.end() && it->first <= cursor_; ++it) {
    if (!it->second.queue.empty()) ready.push_back(it->first);
  }
  for (const auto& id : ready) {
    for (int n = 0; n < options_.requests_per_turn && budget > 0; ++n, --budget) {
      auto it = connections_.find(id);  // answering may close it
      if (it == connections_.end() || it->second.queue.empty()) break;
      serve_one(id, it->second);
    }
    cursor_ = id;
    if (budget <= 0) break;
  }
}

void HttpServer::serve_one(const std::string& id, Connection& connection) {
  auto item = std::move(connection.queue.front());
  connection.queue.pop_front();
  connection.last_active = Clock::now();
  if (auto* error = std::get_if<HttpError>(&item)) {
    ++stats_.malformed;
    const char* code = error->status == 413   ? "body_too_large"
                       : error->status == 431 ? "header_too_large"
                       : error->status == 501 ? "not_implemented"
                       : error->status == 505 ? "http_version"
                                              : "malformed_request";
    log_answer(connection, "a malformed request", error->status, error->message);
    if (!send(id, json_error(error->status, code, error->message).serialize(false))) return;
    if (connection.draining == 0) close(id);  // else once the rest of the body is drained
    return;
  }
  HttpRequest& request = std::get<HttpRequest>(item);
  ++stats_.requests;
  // HEAD is GET without the body (RFC 9110, 9.3.2).
  const bool head = request.method == "HEAD";
  if (head) request.method = "GET";
  request.client_address = connection.address;
  HttpResponse response = handler_.handle(request);
  if (response.authenticated) connection.authenticated = true;
  if (response.status >= 400) {
    log_answer(connection, (head ? "HEAD " : request.method + " ") + printable(request.target), response.status,
               response.reason);
  }
  const bool keep_alive = request.keep_alive && !response.close;
  if (!send(id, response.serialize(keep_alive, head))) return;
  if (!keep_alive) {
    close(id);
    return;
  }
  send_continue(id, connection);  // a body held back behind the answers just sent
}

void HttpServer::log_answer(const Connection& connection, const std::string& what, int status,
                            std::string_view reason) {
  log_.write("HTTP gateway: " + std::to_string(status) + " to " +
             (connection.address.empty() ? "?" : connection.address) + " for " + what + ": " +
             printable(reason, 200));
  stats_.log_lines_suppressed = log_.suppressed();
}

bool HttpServer::send(const std::string& id, const std::string& bytes) {
  const std::string_view message[] = {id, bytes};
  auto sent = socket_.send(message);
  if (!sent) return false;
  if (!*sent) {  // the send queue is full
    if (connections_.count(id) > 0) drop(id, DropReason::slow_reader, "the client does not read its answers");
    return false;
  }
  stats_.bytes_out += bytes.size();
  return true;
}

void HttpServer::close(const std::string& id) {
  // A zero-length message to a peer closes its connection after what was queued.
  const std::string_view message[] = {id, std::string_view()};
  (void)socket_.send(message);
  if (connections_.erase(id) > 0) stats_.open_connections = connections_.size();
  if (closed_by_us_.size() > 4096) closed_by_us_.clear();
  closed_by_us_.insert(id);
}

void HttpServer::drop(const std::string& id, DropReason reason, const std::string& why) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  ++stats_.dropped[static_cast<std::size_t>(reason)];
  if (reason != DropReason::idle) {
    log_.write("HTTP gateway: closed the connection of " + (it->second.address.empty() ? "?" : it->second.address) +
               " (" + std::string(to_string(reason)) + "): " + why);
    stats_.log_lines_suppressed = log_.suppressed();
  }
  close(id);
}

std::optional<HttpServer::Clock::time_point> HttpServer::deadline_of(const Connection& connection) const {
  if (!connection.queue.empty()) return std::nullopt;  // answers are due: serve_pending's business
  if (connection.body_since) return *connection.body_since + options_.body_timeout;
  if (connection.head_since) return *connection.head_since + options_.head_timeout;
  return connection.last_active + options_.idle_timeout;
}

std::optional<HttpServer::Clock::time_point> HttpServer::next_deadline() const {
  std::optional<Clock::time_point> earliest;
  for (const auto& [id, connection] : connections_) {
    if (!connection.queue.empty()) return Clock::now();  // answers waiting
    const auto deadline = deadline_of(connection);
    if (deadline && (!earliest || *deadline < *earliest)) earliest = deadline;
  }
  return earliest;
}

void HttpServer::on_timer() {
  serve_pending();
  const auto now = Clock::now();
  std::vector<std::pair<std::string, DropReason>> expired;
  for (const auto& [id, connection] : connections_) {
    const auto deadline = deadline_of(connection);
    if (!deadline || *deadline > now) continue;
    expired.emplace_back(id, connection.body_since   ? DropReason::body_timeout
                             : connection.head_since ? DropReason::head_timeout
                                                     : DropReason::idle);
  }
  for (const auto& [id, reason] : expired) {
    if (reason == DropReason::idle) {
      drop(id, reason, "idle for " + millis(options_.idle_timeout));
      continue;
    }
    const bool head = reason == DropReason::head_timeout;
    const std::string why = std::string(head ? "request head" : "request body") + " not complete within " +
                            millis(head ? options_.head_timeout : options_.body_timeout);
    if (!connections_.at(id).discarding) send(id, json_error(408, "request_timeout", why).serialize(false));
    drop(id, reason, why + "; answered 408");
  }
}

}  // namespace shopsync::gateway
