// A peer as discovery (mDNS) found it: its best path, for Peering to make it
// a target (peering.h, Peering::discovered).
#pragma once

#include <cstdint>
#include <string>

#include "node/config.h"

namespace shopsync::peering {

struct Discovered {
  std::string name;
  PeerAddress address;        // the path to dial, with its announced key
  std::string shown;          // the address as discovery shows it
  std::string interface_name;
  std::uint32_t protocol = 0;  // the highest protocol version it announces
};

}  // namespace shopsync::peering
