// An identified peer and the link its conversation uses (peering.h).
#pragma once

#include <cstdint>
#include <string>

#include "storage/record.h"

namespace shopsync::peering {

struct Session {
  NodeId peer = 0;
  std::uint64_t link = 0;
  std::string name;
  std::uint64_t connected_ms = 0;  // monotonic
};

}  // namespace shopsync::peering
