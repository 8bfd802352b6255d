#include "discovery/interfaces.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>
#include <sstream>

namespace shopsync::discovery {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string read_file(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool port_in_use(int family) {
  int fd = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int rc = -1;
  if (family == AF_INET) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(5353);
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
  } else {
    int only = 1;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &only, sizeof only);
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(5353);
    sa.sin6_addr = in6addr_any;
    rc = ::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
  }
  bool taken = rc != 0 && errno == EADDRINUSE;
  ::close(fd);
  return taken;
}

}  // namespace

std::vector<std::string> mdns_groups_from_igmp(const std::string& text) {
  // Device lines start with the index ("2\teth0      :     2      V3");
  // group lines are indented and start with the group in hex as the kernel
  // stores it: 224.0.0.251 in network order read as a host-order word, which
  // prints "FB0000E0" on little-endian machines and "E00000FB" on big-endian.
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line, device;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] != ' ' && line[0] != '\t') {
      std::istringstream ls(line);
      std::string idx;
      ls >> idx >> device;
      if (!device.empty() && device.back() == ':') device.pop_back();
      continue;
    }
    std::istringstream ls(line);
    std::string group;
    ls >> group;
    if ((group == "FB0000E0" || group == "E00000FB") && !device.empty() && !contains(out, device))
      out.push_back(device);
  }
  return out;
}

std::vector<std::string> mdns_groups_from_igmp6(const std::string& text) {
  // "2    eth0            ff0200000000000000000000000000fb     1 00000004 0"
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string idx, device, group;
    if (!(ls >> idx >> device >> group)) continue;
    if (group == "ff0200000000000000000000000000fb" && !contains(out, device)) out.push_back(device);
  }
  return out;
}

std::pair<std::uint64_t, std::uint64_t> ipv6_multicast_from_dev_snmp6(const std::string& text) {
  std::uint64_t in_pkts = 0, out_pkts = 0;
  std::istringstream in(text);
  std::string key;
  std::uint64_t value = 0;
  while (in >> key >> value) {
    if (key == "Ip6InMcastPkts") in_pkts = value;
    if (key == "Ip6OutMcastPkts") out_pkts = value;
  }
  return {in_pkts, out_pkts};
}

std::vector<InterfaceDiagnostics> list_mdns_interfaces(const std::vector<std::string>& allow,
                                                       const std::vector<std::string>& deny) {
  std::map<std::string, InterfaceDiagnostics> by_name;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return {};
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_name || !(a->ifa_flags & IFF_UP)) continue;
    std::string name = a->ifa_name;
    bool loopback = a->ifa_flags & IFF_LOOPBACK;
    if (loopback ? !contains(allow, name) : !(a->ifa_flags & IFF_MULTICAST)) continue;
    if (contains(deny, name) || (!allow.empty() && !contains(allow, name))) continue;
    auto& d = by_name[name];
    d.name = name;
    d.index = static_cast<int>(::if_nametoindex(a->ifa_name));
    if (!a->ifa_addr) continue;
    char buf[INET6_ADDRSTRLEN] = {};
    if (a->ifa_addr->sa_family == AF_INET) {
      ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof buf);
      d.addresses.emplace_back(buf);
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(a->ifa_addr)->sin6_addr, buf, sizeof buf);
      d.addresses.emplace_back(buf);
    }
  }
  ::freeifaddrs(list);

  auto v4 = mdns_groups_from_igmp(read_file("/proc/net/igmp"));
  auto v6 = mdns_groups_from_igmp6(read_file("/proc/net/igmp6"));
  std::vector<InterfaceDiagnostics> out;
  for (auto& [name, d] : by_name) {
    d.joined_ipv4 = contains(v4, name);
    d.joined_ipv6 = contains(v6, name);
    // The interface name comes from the kernel (getifaddrs), not from input.
    auto [in6, out6] = ipv6_multicast_from_dev_snmp6(read_file(("/proc/net/dev_snmp6/" + name).c_str()));
    d.kernel_ipv6_multicast_received = in6;
    d.kernel_ipv6_multicast_sent = out6;
    out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return out;
}

bool mdns_port_taken() { return port_in_use(AF_INET) || port_in_use(AF_INET6); }

std::vector<std::uint64_t> mdns_socket_inodes(const std::string& text) {
  // "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ..."
  // "   0: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000   0        0 12345 ..."
  std::vector<std::uint64_t> out;
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string field[10];
    for (auto& f : field) ls >> f;
    const auto colon = field[1].rfind(':');
    if (colon == std::string::npos || field[1].substr(colon + 1) != "14E9") continue;  // port 5353
    std::uint64_t inode = 0;
    std::istringstream(field[9]) >> inode;
    if (inode != 0) out.push_back(inode);
  }
  return out;
}

bool mdns_port_held_by_others(const std::vector<std::uint64_t>& own) {
  for (const char* path : {"/proc/net/udp", "/proc/net/udp6"}) {
    for (std::uint64_t inode : mdns_socket_inodes(read_file(path))) {
      if (std::find(own.begin(), own.end(), inode) == own.end()) return true;
    }
  }
  return false;
}

}  // namespace shopsync::discovery
