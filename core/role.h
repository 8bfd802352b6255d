// A node's role, and its one text form.
//
// "peer" (a branch machine) or "uplink" (the cloud server, docs/uplink.md):
// the --role option and config key, the HELLO message, the peers table,
// DNS-SD TXT, the local API, JSON and /metrics all use these two words.
#pragma once

#include <string_view>

#include "core/status.h"

namespace shopsync {

enum class Role { peer, uplink };

std::string_view to_string(Role role);

// "peer" or "uplink"; anything else is invalid_argument quoting the text.
Result<Role> parse_role(std::string_view text);

}  // namespace shopsync
