#include "tests/faults/fault_network.h"

#include "tools/netlab/process.h"

namespace shopsync::test {

std::optional<std::string> FaultNetwork::namespaces_unavailable() {
  if (auto why = netlab::NamespaceLan::unavailable()) return why;
  if (netlab::run_command({"tc", "-V"}).exit_code != 0) return "the `tc` command (iproute2) is missing";
  return std::nullopt;
}

FaultNetwork::FaultNetwork(int hosts, bool namespaces) {
  if (namespaces) lan_.emplace(hosts);
}

}  // namespace shopsync::test
