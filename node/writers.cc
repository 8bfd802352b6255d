#include "node/writers.h"

#include "core/node_id.h"

namespace shopsync {

std::string describe_writers(const std::vector<NodeId>& origins, const Replica& replica, const Peering& peering) {
  if (origins.empty()) return "unknown (its versions do not read either)";
  std::string out;
  bool own = false;
  for (NodeId origin : origins) {
    if (replica.is_own_origin(origin)) {
      if (!own) out += out.empty() ? "this node" : ", this node";
      own = true;
      continue;
    }
    if (!out.empty()) out += ", ";
    auto it = peering.known().find(origin);
    if (it != peering.known().end() && !it->second.name.empty()) out += it->second.name + " ";
    out += "(node " + node_id_text(origin) + ")";
  }
  return out;
}

}  // namespace shopsync
