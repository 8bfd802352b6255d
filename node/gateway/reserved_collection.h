// The cluster's own collections: names starting with "shopsync_" (the users
// of the built-in login, users.h; grants, replication/grant.h). They
// replicate between nodes like any other collection, but the gateway never
// shows them to devices or lets devices write them: /api/sync/* leaves them
// out of pulls and pending counts and refuses pushes to them, and /v1 and the
// web console list and read them as if they did not exist.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace shopsync::gateway {

inline constexpr std::string_view kReservedCollectionPrefix = "shopsync_";

bool is_reserved_collection(std::string_view name);

// validate_collection_name, then invalid_argument for a reserved name.
Status validate_device_collection(std::string_view name);

// `names` without the reserved ones.
std::vector<std::string> device_collections(std::vector<std::string> names);

}  // namespace shopsync::gateway
