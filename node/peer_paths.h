// Discovery's live paths to one peer (interface x IP family): which one to
// dial, and which one a live connection runs over (what `shopsync peers`,
// `shopsync doctor` and the log show).
#pragma once

#include <string_view>
#include <vector>

#include "discovery/peer_event.h"

namespace shopsync {

// The path to dial: IPv4 where there is one (it needs no scope and survives a
// change of interface index), else IPv6. Null when there is none.
const discovery::PeerEvent* best_path(const std::vector<discovery::PeerEvent>& paths);

// The path whose address is `host` ("198.18.0.2", "::ffff:198.18.0.2",
// "fe80::1", "[fe80::1%eth0]"): the one a connection to or from `host` runs
// over. Null when none is.
const discovery::PeerEvent* path_at(const std::vector<discovery::PeerEvent>& paths, std::string_view host);

// The host of "HOST:PORT" ("[fe80::1%eth0]:7460" -> "[fe80::1%eth0]").
std::string_view host_of(std::string_view address);

}  // namespace shopsync
