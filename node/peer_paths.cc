#include "node/peer_paths.h"

namespace shopsync {

using discovery::IpFamily;
using discovery::PeerEvent;

namespace {

// "fe80::1" from "[fe80::1%eth0]", "198.18.0.2" from "::ffff:198.18.0.2".
std::string_view bare(std::string_view host) {
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  if (auto scope = host.find('%'); scope != std::string_view::npos) host = host.substr(0, scope);
  constexpr std::string_view kMapped = "::ffff:";
  if (host.starts_with(kMapped) && host.find('.') != std::string_view::npos) host.remove_prefix(kMapped.size());
  return host;
}

}  // namespace

const PeerEvent* best_path(const std::vector<PeerEvent>& paths) {
  const PeerEvent* best = nullptr;
  for (const auto& e : paths) {
    if (!best || (best->family == IpFamily::ipv6 && e.family == IpFamily::ipv4)) best = &e;
  }
  return best;
}

const PeerEvent* path_at(const std::vector<PeerEvent>& paths, std::string_view host) {
  const std::string_view wanted = bare(host);
  for (const auto& e : paths) {
    if (bare(e.address) == wanted) return &e;
  }
  return nullptr;
}

std::string_view host_of(std::string_view address) {
  const auto colon = address.rfind(':');
  return colon == std::string_view::npos ? address : address.substr(0, colon);
}

}  // namespace shopsync
