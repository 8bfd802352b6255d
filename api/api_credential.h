// The local API's credential (docs/local-api.md, "Authentication"): a secret
// in the data directory, DATA/api.token, that a node started with --api-auth
// asks of every request (the `auth` key of its envelope). Whoever may read the
// file may use the API: the node's user, and the members of its group (the
// package's `shopsync`), since the file is made with mode 0640; another
// account on a shared till is refused. The shopsync CLI and the inspector
// read it from the data directory they find (node_location.h), so they need
// no flag on the node's machine.
//
// The secret is "sak_" and 64 hex digits from /dev/urandom, made when the
// node first starts with --api-auth and kept across restarts; deleting the
// file and restarting the node makes a new one.
//
// Thread-safety: plain functions.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace shopsync::api {

inline constexpr const char* kApiCredentialFile = "api.token";
inline constexpr std::string_view kNoCredential =
    "this node's local API needs its credential (it runs with --api-auth): run as a user who may read DATA/api.token "
    "(the node's user or its group), or send that file's content as `auth`";
inline constexpr std::string_view kWrongCredential = "wrong local API credential (see DATA/api.token)";

// The node's credential, made (mode 0640) when absent. io_error naming the file.
Result<std::string> ensure_api_credential(const std::filesystem::path& data_dir);
// The credential, or nullopt when the file is absent or not readable by us.
std::optional<std::string> read_api_credential(const std::filesystem::path& data_dir);
// Compares two secrets in time independent of where they differ.
bool same_secret(std::string_view a, std::string_view b);

}  // namespace shopsync::api
