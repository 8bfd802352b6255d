#include "node/dial_probe.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

namespace shopsync {

struct DialProbe::Resolution {
  std::atomic<bool> finished{false};
  int error = 0;  // getaddrinfo's
  sockaddr_storage address{};
  socklen_t length = 0;
};

namespace {

std::string unbracketed(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

void resolve(const std::string& host, std::uint16_t port, int flags, DialProbe::Resolution& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = flags | AI_NUMERICSERV;
  addrinfo* list = nullptr;
  out.error = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
  if (out.error == 0) {
    // The first answer, as ZeroMQ takes it.
    std::memcpy(&out.address, list->ai_addr, list->ai_addrlen);
    out.length = list->ai_addrlen;
    ::freeaddrinfo(list);
  }
  out.finished.store(true, std::memory_order_release);
}

std::string address_text(const sockaddr_storage& a) {
  char host[NI_MAXHOST] = {}, serv[NI_MAXSERV] = {};
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&a), sizeof a, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return "?";
  return a.ss_family == AF_INET6 ? "[" + std::string(host) + "]:" + serv : std::string(host) + ":" + serv;
}

}  // namespace

DialProbe DialProbe::start(const std::string& host, std::uint16_t port) {
  DialProbe probe;
  probe.host_ = unbracketed(host);
  probe.port_ = port;
  probe.resolution_ = std::make_shared<Resolution>();
  probe.state_ = State::resolving;
  // A numeric host needs no lookup; a name may wait seconds on a DNS server.
  resolve(probe.host_, port, AI_NUMERICHOST, *probe.resolution_);
  if (probe.resolution_->error == 0) {
    probe.connect_to_resolved();
  } else {
    probe.resolution_ = std::make_shared<Resolution>();
    std::thread([r = probe.resolution_, h = probe.host_, port] { resolve(h, port, 0, *r); }).detach();
  }
  return probe;
}

DialProbe::DialProbe(DialProbe&& o) noexcept
    : state_(std::exchange(o.state_, State::idle)),
      host_(std::move(o.host_)),
      port_(o.port_),
      resolution_(std::move(o.resolution_)),
      address_(std::move(o.address_)),
      fd_(std::exchange(o.fd_, -1)),
      verdict_(std::move(o.verdict_)) {}

DialProbe& DialProbe::operator=(DialProbe&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    state_ = std::exchange(o.state_, State::idle);
    host_ = std::move(o.host_);
    port_ = o.port_;
    resolution_ = std::move(o.resolution_);
    address_ = std::move(o.address_);
    fd_ = std::exchange(o.fd_, -1);
    verdict_ = std::move(o.verdict_);
  }
  return *this;
}

DialProbe::~DialProbe() {
  if (fd_ >= 0) ::close(fd_);
}

void DialProbe::connect_to_resolved() {
  const Resolution& r = *resolution_;
  address_ = address_text(r.address);
  fd_ = ::socket(r.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    state_ = State::done;  // no socket: nothing learned
    return;
  }
  state_ = State::connecting;
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&r.address), r.length) == 0) {
    read_connect_result(true);
  } else if (errno != EINPROGRESS) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    errno = err;
    read_connect_result(true);
  }
}

void DialProbe::read_connect_result(bool final) {
  int err = errno;
  if (fd_ >= 0) {
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, 0) <= 0) return;  // still connecting
    socklen_t len = sizeof err;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    ::close(fd_);
    fd_ = -1;
  } else if (!final) {
    return;
  }
  state_ = State::done;
  switch (err) {
    case 0: break;  // it connects: the network is fine
    case ECONNREFUSED: verdict_ = "connection refused by " + address_ + " (nothing listens on that port)"; break;
    case EHOSTUNREACH:
      verdict_ = "host unreachable (" + address_ + " does not answer on its network, or a router says it is out of reach)";
      break;
    case ENETUNREACH: verdict_ = "network unreachable (this machine has no route to " + address_ + ")"; break;
    case ETIMEDOUT: verdict_ = "no answer from " + address_ + " (switched off, or a firewall drops the connection)"; break;
    default: verdict_ = "cannot connect to " + address_ + " (" + std::strerror(err) + ")"; break;
  }
}

const std::string& DialProbe::verdict() {
  if (state_ == State::resolving && resolution_->finished.load(std::memory_order_acquire)) {
    if (resolution_->error != 0) {
      state_ = State::done;
      verdict_ = "name resolution failed for " + host_ + " (" + ::gai_strerror(resolution_->error) + ")";
    } else {
      connect_to_resolved();
    }
  }
  if (state_ == State::connecting) read_connect_result(false);
  return verdict_;
}

}  // namespace shopsync
