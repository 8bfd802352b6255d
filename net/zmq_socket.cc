#include "net/zmq_socket.h"

#include <zmq.h>

#include <netdb.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace shopsync::zmq {

namespace {

Status zmq_failure(std::string_view step) {
  const int e = zmq_errno();
  std::string m(step);
  m += ": ";
  m += zmq_strerror(e);
  if (e == EADDRINUSE) return {Errc::unavailable, m};
  if (e == ETERM) return {Errc::unavailable, m};
  if (e == EHOSTUNREACH) return {Errc::unavailable, m};
  if (e == EMSGSIZE) return Status::too_large(m);
  if (e == EINVAL || e == EPROTONOSUPPORT || e == ENODEV) return Status::invalid(m);
  return Status::io_error(m);
}

int to_zmq(SocketType type) {
  switch (type) {
    case SocketType::router: return ZMQ_ROUTER;
    case SocketType::dealer: return ZMQ_DEALER;
    case SocketType::rep: return ZMQ_REP;
    case SocketType::req: return ZMQ_REQ;
    case SocketType::pair: return ZMQ_PAIR;
    case SocketType::stream: return ZMQ_STREAM;
  }
  return ZMQ_PAIR;
}

static_assert(kEventConnected == ZMQ_EVENT_CONNECTED && kEventConnectRetried == ZMQ_EVENT_CONNECT_RETRIED &&
              kEventHandshakeFailedNoDetail == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL &&
              kEventHandshakeSucceeded == ZMQ_EVENT_HANDSHAKE_SUCCEEDED &&
              kEventHandshakeFailedProtocol == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
              kEventHandshakeFailedAuth == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);

constexpr std::size_t kKeyBytes = 32;
constexpr std::string_view kZ85 =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

}  // namespace

Result<Context> Context::create() {
  void* ctx = zmq_ctx_new();
  if (ctx == nullptr) return zmq_failure("creating the ZeroMQ context");
  // Our sockets are closed explicitly; never let zmq_ctx_term block on them.
  zmq_ctx_set(ctx, ZMQ_BLOCKY, 0);
  return Context(ctx, true);
}

Context& Context::operator=(Context&& other) noexcept {
  if (this != &other) {
    if (ctx_ && owned_) zmq_ctx_term(ctx_);
    ctx_ = other.ctx_;
    owned_ = other.owned_;
    other.ctx_ = nullptr;
  }
  return *this;
}

Context::~Context() {
  if (ctx_ && owned_) zmq_ctx_term(ctx_);
}

Result<Socket> Socket::open(Context& ctx, SocketType type) {
  void* s = zmq_socket(ctx.handle(), to_zmq(type));
  if (s == nullptr) return zmq_failure("opening a socket");
  Socket socket(s);
  SHOPSYNC_TRY(socket.set_linger(0));
  return socket;
}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (sock_) zmq_close(sock_);
    sock_ = other.sock_;
    other.sock_ = nullptr;
  }
  return *this;
}

Socket::~Socket() {
  if (sock_) zmq_close(sock_);
}

Status Socket::bind(const std::string& endpoint) {
  if (zmq_bind(sock_, endpoint.c_str()) != 0) return zmq_failure("binding " + endpoint);
  return Status::ok();
}

Status Socket::connect(const std::string& endpoint) {
  if (zmq_connect(sock_, endpoint.c_str()) != 0) return zmq_failure("connecting to " + endpoint);
  return Status::ok();
}

Status Socket::monitor(const std::string& inproc, int events) {
  if (zmq_socket_monitor(sock_, inproc.c_str(), events) != 0) return zmq_failure("monitoring a ZeroMQ socket");
  return Status::ok();
}

void stop_monitor(void* socket) {
  if (socket != nullptr) zmq_socket_monitor(socket, nullptr, 0);
}

Result<std::optional<int>> Socket::monitor_event() {
  auto message = receive();  // [event (2 bytes) + value (4 bytes), endpoint]
  if (!message) return message.status();
  if (!message->has_value() || (*message)->parts.empty() || (*message)->parts.front().size() < 2) {
    return std::optional<int>();
  }
  std::uint16_t event = 0;
  std::memcpy(&event, (*message)->parts.front().data(), sizeof event);
  return std::optional<int>(event);
}

Result<std::string> Socket::last_endpoint() const {
  char buf[1024] = {};
  std::size_t size = sizeof buf;
  if (zmq_getsockopt(sock_, ZMQ_LAST_ENDPOINT, buf, &size) != 0) return zmq_failure("reading the bound endpoint");
  return std::string(buf);
}

Status Socket::set_option(int option, const void* value, std::size_t size, std::string_view what) {
  if (zmq_setsockopt(sock_, option, value, size) != 0) return zmq_failure(std::string("setting ") + std::string(what));
  return Status::ok();
}

Status Socket::set_linger(int ms) { return set_option(ZMQ_LINGER, &ms, sizeof ms, "ZMQ_LINGER"); }

Status Socket::set_max_message_size(std::int64_t bytes) {
  return set_option(ZMQ_MAXMSGSIZE, &bytes, sizeof bytes, "ZMQ_MAXMSGSIZE");
}

Status Socket::set_high_water_marks(int send, int receive) {
  SHOPSYNC_TRY(set_option(ZMQ_SNDHWM, &send, sizeof send, "ZMQ_SNDHWM"));
  return set_option(ZMQ_RCVHWM, &receive, sizeof receive, "ZMQ_RCVHWM");
}

Status Socket::set_send_high_water_mark(int send) { return set_option(ZMQ_SNDHWM, &send, sizeof send, "ZMQ_SNDHWM"); }

Status Socket::set_stream_notify(bool on) {
  const int v = on ? 1 : 0;
  return set_option(ZMQ_STREAM_NOTIFY, &v, sizeof v, "ZMQ_STREAM_NOTIFY");
}

Status Socket::set_router_mandatory(bool on) {
  int v = on ? 1 : 0;
  return set_option(ZMQ_ROUTER_MANDATORY, &v, sizeof v, "ZMQ_ROUTER_MANDATORY");
}

Status Socket::set_routing_id(std::string_view id) {
  return set_option(ZMQ_ROUTING_ID, id.data(), id.size(), "ZMQ_ROUTING_ID");
}

Status Socket::set_zap_domain(std::string_view domain) {
  return set_option(ZMQ_ZAP_DOMAIN, domain.data(), domain.size(), "ZMQ_ZAP_DOMAIN");
}

Status Socket::set_curve_server(std::string_view secret_key) {
  int on = 1;
  SHOPSYNC_TRY(set_option(ZMQ_CURVE_SERVER, &on, sizeof on, "ZMQ_CURVE_SERVER"));
  const std::string key(secret_key);  // Z85 keys are passed with their terminating NUL
  return set_option(ZMQ_CURVE_SECRETKEY, key.c_str(), key.size() + 1, "ZMQ_CURVE_SECRETKEY");
}

Status Socket::set_curve_client(std::string_view public_key, std::string_view secret_key,
                                std::string_view server_key) {
  const std::string pub(public_key), sec(secret_key), srv(server_key);
  SHOPSYNC_TRY(set_option(ZMQ_CURVE_SERVERKEY, srv.c_str(), srv.size() + 1, "ZMQ_CURVE_SERVERKEY"));
  SHOPSYNC_TRY(set_option(ZMQ_CURVE_PUBLICKEY, pub.c_str(), pub.size() + 1, "ZMQ_CURVE_PUBLICKEY"));
  return set_option(ZMQ_CURVE_SECRETKEY, sec.c_str(), sec.size() + 1, "ZMQ_CURVE_SECRETKEY");
}

Status Socket::set_reconnect_interval(int ms, int max_ms) {
  SHOPSYNC_TRY(set_option(ZMQ_RECONNECT_IVL, &ms, sizeof ms, "ZMQ_RECONNECT_IVL"));
  return set_option(ZMQ_RECONNECT_IVL_MAX, &max_ms, sizeof max_ms, "ZMQ_RECONNECT_IVL_MAX");
}

Status Socket::set_handshake_interval(int ms) {
  return set_option(ZMQ_HANDSHAKE_IVL, &ms, sizeof ms, "ZMQ_HANDSHAKE_IVL");
}

Status Socket::set_ipv6(bool on) {
  const int v = on ? 1 : 0;
  return set_option(ZMQ_IPV6, &v, sizeof v, "ZMQ_IPV6");
}

Result<bool> Socket::send(std::span<const std::string_view> parts) {
  for (std::size_t i = 0; i < parts.size(); ++i) {
    int flags = ZMQ_DONTWAIT;
    if (i + 1 < parts.size()) flags |= ZMQ_SNDMORE;
    if (zmq_send(sock_, parts[i].data(), parts[i].size(), flags) < 0) {
      // Multipart messages are atomic: once the first part is queued the rest
      // are too, so EAGAIN can only come on the first part.
      if (zmq_errno() == EAGAIN && i == 0) return false;
      return zmq_failure("sending");
    }
  }
  return true;
}

Result<std::optional<Received>> Socket::receive() {
  Received out;
  for (;;) {
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, sock_, ZMQ_DONTWAIT) < 0) {
      const int e = zmq_errno();
      zmq_msg_close(&msg);
      if (e == EAGAIN && out.parts.empty()) return std::optional<Received>();
      if (e == EINTR && out.parts.empty()) return std::optional<Received>();
      return zmq_failure("receiving");
    }
    out.parts.emplace_back(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
    const bool more = zmq_msg_more(&msg) != 0;
    if (!more) {
      if (const char* uid = zmq_msg_gets(&msg, "User-Id")) out.user_id = uid;
      if (const char* addr = zmq_msg_gets(&msg, "Peer-Address")) out.peer_address = addr;
      out.source_fd = zmq_msg_get(&msg, ZMQ_SRCFD);
    }
    zmq_msg_close(&msg);
    if (!more) break;
  }
  return std::optional<Received>(std::move(out));
}

bool shutdown_connection(int fd, std::string_view peer_address) {
  if (fd < 0 || peer_address.empty()) return false;
  // The descriptor may have been closed and reused since: only a TCP
  // connection from that same address is ended.
  sockaddr_storage peer{};
  socklen_t size = sizeof peer;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &size) != 0) return false;
  char host[NI_MAXHOST];
  if (getnameinfo(reinterpret_cast<sockaddr*>(&peer), size, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) {
    return false;
  }
  if (peer_address != host) return false;
  return ::shutdown(fd, SHUT_RDWR) == 0;  // libzmq's I/O thread sees the end and closes it
}

Result<int> poll(std::span<PollEntry> entries, std::chrono::milliseconds timeout) {
  std::vector<zmq_pollitem_t> items(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    items[i].socket = entries[i].socket;
    items[i].fd = entries[i].fd;
    items[i].events = static_cast<short>((entries[i].want_read ? ZMQ_POLLIN : 0) |
                                         (entries[i].want_write ? ZMQ_POLLOUT : 0));
    items[i].revents = 0;
  }
  const int n = zmq_poll(items.data(), static_cast<int>(items.size()), static_cast<long>(timeout.count()));
  if (n < 0) {
    if (zmq_errno() == EINTR) return 0;
    return zmq_failure("polling");
  }
  for (std::size_t i = 0; i < entries.size(); ++i) {
    entries[i].readable = (items[i].revents & ZMQ_POLLIN) != 0;
    entries[i].writable = (items[i].revents & ZMQ_POLLOUT) != 0;
  }
  return n;
}

Result<CurveKeyPair> make_curve_key_pair() {
  char pub[41] = {};
  char sec[41] = {};
  if (zmq_curve_keypair(pub, sec) != 0) return zmq_failure("creating a CURVE key pair (is libzmq built with libsodium?)");
  return CurveKeyPair{pub, sec};
}

Result<std::string> curve_public_key(std::string_view secret_key) {
  const std::string sec(secret_key);
  char pub[41] = {};
  if (!is_z85_key(sec) || zmq_curve_public(pub, sec.c_str()) != 0) {
    return Status::corrupt("the CURVE secret key is not 40 Z85 characters");
  }
  return std::string(pub);
}

bool is_z85_key(std::string_view text) {
  return text.size() == 40 && text.find_first_not_of(kZ85) == std::string_view::npos;
}

std::string z85_encode_key(std::string_view raw32) {
  if (raw32.size() != kKeyBytes) return {};
  char out[41] = {};
  zmq_z85_encode(out, reinterpret_cast<const std::uint8_t*>(raw32.data()), kKeyBytes);
  return out;
}

std::optional<std::string> z85_decode_key(std::string_view z85) {
  if (!is_z85_key(z85)) return std::nullopt;
  const std::string in(z85);  // libzmq wants it NUL-terminated
  std::uint8_t raw[kKeyBytes];
  if (zmq_z85_decode(raw, in.c_str()) == nullptr) return std::nullopt;  // a group above 2^32
  return std::string(reinterpret_cast<const char*>(raw), kKeyBytes);
}

std::string version_string() {
  int major = 0, minor = 0, patch = 0;
  zmq_version(&major, &minor, &patch);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace shopsync::zmq
