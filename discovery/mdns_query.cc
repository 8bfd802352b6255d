#include "discovery/mdns_query.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace shopsync::discovery {

namespace {

constexpr std::uint16_t kMdnsPort = 5353;
constexpr std::uint16_t kTypeSrv = 33;
constexpr std::uint16_t kClassIn = 1;
constexpr std::size_t kMaxAsked = 256;
constexpr std::size_t kHeaderBytes = 12;

void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

std::uint16_t get16(std::string_view s, std::size_t at) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(s[at]) << 8) | static_cast<unsigned char>(s[at + 1]));
}

bool put_label(std::string& out, std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  out.push_back(static_cast<char>(label.size()));
  out.append(label);
  return true;
}

// Dotted labels ("_shopsync._tcp", "local"): no escapes in what we ask for.
bool put_dotted(std::string& out, std::string_view name) {
  while (!name.empty()) {
    const auto dot = name.find('.');
    if (!put_label(out, name.substr(0, dot))) return false;
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  return true;
}

}  // namespace

std::string encode_srv_query(std::uint16_t id, std::string_view instance, std::string_view service_type,
                             std::string_view domain) {
  std::string out;
  put16(out, id);
  put16(out, 0);  // a standard query
  put16(out, 1);  // one question
  put16(out, 0);
  put16(out, 0);
  put16(out, 0);
  // The instance name is one label of raw UTF-8, dots and all (RFC 6763 4.3).
  if (!put_label(out, instance) || !put_dotted(out, service_type) || !put_dotted(out, domain)) return {};
  out.push_back('\0');
  put16(out, kTypeSrv);
  put16(out, kClassIn);
  return out;
}

std::optional<std::uint16_t> answered_id(std::string_view m) {
  if (m.size() < kHeaderBytes) return std::nullopt;
  const std::uint16_t flags = get16(m, 2);
  const bool response = (flags & 0x8000) != 0;
  const unsigned rcode = flags & 0x000f;
  if (!response || rcode != 0 || get16(m, 6) == 0) return std::nullopt;
  return get16(m, 0);
}

MdnsQuerier::~MdnsQuerier() {
  if (ipv4_ >= 0) ::close(ipv4_);
  if (ipv6_ >= 0) ::close(ipv6_);
}

int MdnsQuerier::socket_for(IpFamily family) {
  int& fd = family == IpFamily::ipv4 ? ipv4_ : ipv6_;
  if (fd >= 0) return fd;
  fd = ::socket(family == IpFamily::ipv4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  // Link-local multicast: 255 as RFC 6762 section 11 asks.
  const int hops = 255;
  if (family == IpFamily::ipv4) {
    (void)::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &hops, sizeof hops);
  } else {
    (void)::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops);
  }
  return fd;
}

std::string MdnsQuerier::send(NodeId peer, int interface_index, IpFamily family, std::string_view instance,
                              std::string_view domain) {
  const std::uint16_t id = next_id_++;
  if (next_id_ == 0) next_id_ = 1;
  const std::string query = encode_srv_query(id, instance, "_shopsync._tcp", domain);
  if (query.empty()) return "the instance name cannot be asked for";
  const int fd = socket_for(family);
  if (fd < 0) return std::string("no UDP socket: ") + std::strerror(errno);
  ssize_t sent = -1;
  if (family == IpFamily::ipv4) {
    ip_mreqn on{};
    on.imr_ifindex = interface_index;
    if (::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &on, sizeof on) < 0)
      return std::string("choosing the interface: ") + std::strerror(errno);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(kMdnsPort);
    ::inet_pton(AF_INET, "224.0.0.251", &to.sin_addr);
    sent = ::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  } else {
    const unsigned index = static_cast<unsigned>(interface_index);
    if (::setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index) < 0)
      return std::string("choosing the interface: ") + std::strerror(errno);
    sockaddr_in6 to{};
    to.sin6_family = AF_INET6;
    to.sin6_port = htons(kMdnsPort);
    to.sin6_scope_id = index;
    ::inet_pton(AF_INET6, "ff02::fb", &to.sin6_addr);
    sent = ::sendto(fd, query.data(), query.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }
  if (sent < 0) return std::string("sending: ") + std::strerror(errno);
  asked_[id] = peer;
  asked_.erase(static_cast<std::uint16_t>(id - kMaxAsked));  // ids go up by one: the oldest one kept
  return {};
}

std::vector<PollFd> MdnsQuerier::fds() const {
  std::vector<PollFd> out;
  for (int fd : {ipv4_, ipv6_}) {
    if (fd >= 0) out.push_back(PollFd{fd, poll_in, 0});
  }
  return out;
}

std::vector<NodeId> MdnsQuerier::read(int fd) {
  std::vector<NodeId> out;
  if (fd != ipv4_ && fd != ipv6_) return out;
  char buf[9000];
  // Bounded: what is queued now, at most 64 datagrams a turn.
  for (int i = 0; i < 64; ++i) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0) break;
    const auto id = answered_id(std::string_view(buf, static_cast<std::size_t>(n)));
    if (!id) continue;
    if (auto it = asked_.find(*id); it != asked_.end()) out.push_back(it->second);
  }
  return out;
}

}  // namespace shopsync::discovery
