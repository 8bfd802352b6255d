#include "discovery/peer_event.h"

#include "discovery/diagnostics.h"
#include "discovery/discovery.h"
#include "discovery/service_txt.h"

namespace shopsync::discovery {

std::string_view to_string(PeerEvent::Kind kind) { return kind == PeerEvent::Kind::found ? "found" : "lost"; }

std::string_view to_string(RefusalReason reason) {
  switch (reason) {
    case RefusalReason::other_cluster: return "other_cluster";
    case RefusalReason::malformed_txt: return "malformed_txt";
    case RefusalReason::unsupported_txtvers: return "unsupported_txtvers";
    case RefusalReason::unresolved: return "unresolved";
    case RefusalReason::too_many: return "too_many";
  }
  return "unknown";
}

std::string PeerEvent::dial_host() const {
  if (family == IpFamily::ipv4) return address;
  bool link_local = address.size() >= 4 && (address.compare(0, 4, "fe80") == 0 || address.compare(0, 4, "FE80") == 0);
  std::string host = address;
  if (link_local && !interface_name.empty()) host += "%" + interface_name;
  return "[" + host + "]";
}

std::string PeerEvent::zmq_endpoint() const { return "tcp://" + dial_host() + ":" + std::to_string(port); }

Status validate(const Announcement& a) {
  if (a.name.empty() || a.name.size() > 63)
    return Status::invalid("node name must be 1 to 63 bytes, got " + std::to_string(a.name.size()));
  for (unsigned char c : a.name) {
    if (c < 0x20 || c == 0x7f) return Status::invalid("node name must not contain control characters");
  }
  if (a.port == 0) return Status::invalid("sync port must not be 0");
  ServiceTxt txt{a.protocol, a.cluster, a.node_id, a.public_key, a.role};
  return validate_txt(txt);
}

}  // namespace shopsync::discovery
