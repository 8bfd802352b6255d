#include "node/api/zmq_frames.h"

#include <cstring>

#include <zmq.h>

#include <cerrno>

namespace shopsync::api::zmqf {

namespace {

Status zmq_failure(std::string_view step) {
  const int err = zmq_errno();
  std::string message = std::string(step) + ": " + zmq_strerror(err);
  return err == ETERM ? Status(Errc::unavailable, message) : Status::io_error(message);
}

}  // namespace

Result<ContextHandle> ContextHandle::create() {
  void* ctx = zmq_ctx_new();
  if (ctx == nullptr) return zmq_failure("creating a ZeroMQ context");
  return ContextHandle(ctx, true);
}

ContextHandle& ContextHandle::operator=(ContextHandle&& o) noexcept {
  if (this != &o) {
    if (owned_ && ctx_ != nullptr) zmq_ctx_term(ctx_);
    ctx_ = o.ctx_;
    owned_ = o.owned_;
    o.ctx_ = nullptr;
  }
  return *this;
}

ContextHandle::~ContextHandle() {
  if (owned_ && ctx_ != nullptr) zmq_ctx_term(ctx_);
}

Result<SocketHandle> SocketHandle::open(void* ctx, Kind kind) {
  const int type = kind == Kind::router ? ZMQ_ROUTER : kind == Kind::dealer ? ZMQ_DEALER : ZMQ_PAIR;
  void* sock = zmq_socket(ctx, type);
  if (sock == nullptr) return zmq_failure("opening a ZeroMQ socket");
  int linger = 0;
  zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
  return SocketHandle(sock);
}

SocketHandle& SocketHandle::operator=(SocketHandle&& o) noexcept {
  if (this != &o) {
    if (sock_ != nullptr) zmq_close(sock_);
    sock_ = o.sock_;
    o.sock_ = nullptr;
  }
  return *this;
}

SocketHandle::~SocketHandle() {
  if (sock_ != nullptr) zmq_close(sock_);
}

Status SocketHandle::bind(const std::string& endpoint) {
  if (zmq_bind(sock_, endpoint.c_str()) != 0) return zmq_failure("binding " + endpoint);
  return Status::ok();
}

Status SocketHandle::connect(const std::string& endpoint) {
  if (zmq_connect(sock_, endpoint.c_str()) != 0) return zmq_failure("connecting to " + endpoint);
  return Status::ok();
}

Result<std::string> SocketHandle::last_endpoint() const {
  char buf[1024];
  std::size_t size = sizeof buf;
  if (zmq_getsockopt(sock_, ZMQ_LAST_ENDPOINT, buf, &size) != 0) return zmq_failure("reading the bound endpoint");
  return std::string(buf, size > 0 ? size - 1 : 0);  // size counts the terminating NUL
}

Status SocketHandle::set_max_message_size(std::int64_t bytes) {
  if (zmq_setsockopt(sock_, ZMQ_MAXMSGSIZE, &bytes, sizeof bytes) != 0) return zmq_failure("setting ZMQ_MAXMSGSIZE");
  return Status::ok();
}

Status SocketHandle::set_linger(int ms) {
  if (zmq_setsockopt(sock_, ZMQ_LINGER, &ms, sizeof ms) != 0) return zmq_failure("setting ZMQ_LINGER");
  return Status::ok();
}

Result<std::optional<std::vector<std::string>>> SocketHandle::receive() {
  std::vector<std::string> parts;
  for (;;) {
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    // Only the first part can be absent: the others of a multipart message
    // arrive together with it.
    const int rc = zmq_msg_recv(&msg, sock_, parts.empty() ? ZMQ_DONTWAIT : 0);
    if (rc < 0) {
      zmq_msg_close(&msg);
      if (zmq_errno() == EAGAIN && parts.empty()) return std::optional<std::vector<std::string>>();
      if (zmq_errno() == EINTR && parts.empty()) return std::optional<std::vector<std::string>>();
      return zmq_failure("receiving");
    }
    parts.emplace_back(static_cast<const char*>(zmq_msg_data(&msg)), zmq_msg_size(&msg));
    const bool more = zmq_msg_more(&msg) != 0;
    zmq_msg_close(&msg);
    if (!more) return std::optional<std::vector<std::string>>(std::move(parts));
  }
}

Result<bool> SocketHandle::send(const std::vector<std::string_view>& parts) {
  for (std::size_t i = 0; i < parts.size(); ++i) {
    int flags = ZMQ_DONTWAIT;
    if (i + 1 < parts.size()) flags |= ZMQ_SNDMORE;
    if (zmq_send(sock_, parts[i].data(), parts[i].size(), flags) < 0) {
      // Only the first part can block: ZeroMQ queues a multipart message whole.
      if (zmq_errno() == EAGAIN && i == 0) return false;
      return zmq_failure("sending");
    }
  }
  return true;
}

void SocketHandle::stop_monitor() {
  if (sock_ != nullptr) zmq_socket_monitor(sock_, nullptr, 0);
}

Status SocketHandle::monitor(const std::string& inproc, int events) {
  if (zmq_socket_monitor(sock_, inproc.c_str(), events) != 0) return zmq_failure("monitoring a ZeroMQ socket");
  return Status::ok();
}

Result<std::optional<int>> SocketHandle::connection_event() {
  auto parts = receive();  // [event (2 bytes) + value (4 bytes), endpoint]
  if (!parts) return parts.status();
  if (!parts->has_value() || (*parts)->empty() || (*parts)->front().size() < 2) return std::optional<int>{};
  std::uint16_t event = 0;
  std::memcpy(&event, (*parts)->front().data(), sizeof event);
  return std::optional<int>{event};
}

Result<std::optional<int>> wait_readable(SocketHandle& a, SocketHandle& b, std::chrono::milliseconds timeout) {
  zmq_pollitem_t items[] = {{a.get(), 0, ZMQ_POLLIN, 0}, {b.get(), 0, ZMQ_POLLIN, 0}};
  const int rc = zmq_poll(items, 2, static_cast<long>(timeout.count()));
  if (rc < 0) {
    if (zmq_errno() == EINTR) return std::optional<int>{};
    return zmq_failure("waiting for an answer");
  }
  if (items[0].revents & ZMQ_POLLIN) return std::optional<int>{0};
  if (items[1].revents & ZMQ_POLLIN) return std::optional<int>{1};
  return std::optional<int>{};
}

Result<bool> SocketHandle::wait_readable(std::chrono::milliseconds timeout) {
  zmq_pollitem_t item{sock_, 0, ZMQ_POLLIN, 0};
  const int rc = zmq_poll(&item, 1, static_cast<long>(timeout.count()));
  if (rc < 0) {
    if (zmq_errno() == EINTR) return false;
    return zmq_failure("waiting for an answer");
  }
  return rc > 0;
}

}  // namespace shopsync::api::zmqf
