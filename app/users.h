// Users of the gateway's built-in login (docs/http-gateway.md, "Built-in
// login"), for businesses without an auth server of their own.
//
// Users are stored in the cluster: a user is a record of the reserved
// collection kUsersCollection ("shopsync_users"), id = the user name, field
// "password" = the password hashed with libsodium's Argon2id
// (crypto_pwhash_str at its "interactive" cost: about 64 MiB and a tenth of a
// second), never the password. The records replicate between nodes like any
// other, with their causality, so a user added at one node logs in at every
// node that serves logins; `shopsync user` writes them through the node's
// local API. The gateway never shows a reserved collection to devices
// (reserved_collection.h).
//
// The key that signs the login's tokens stays in this node's settings
// ("gateway/login/key", 32 random bytes as hex, made on first use): a token
// is accepted by the node that issued it.
//
// Names: 1 to 64 of [A-Za-z0-9._@-]. Passwords: 8 to 1024 bytes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "storage/record.h"
#include "storage/store.h"

namespace shopsync::app {

inline constexpr std::string_view kUsersCollection = "shopsync_users";
inline constexpr std::string_view kPasswordField = "password";
inline constexpr std::string_view kLoginKeyName = "gateway/login/key";

Status validate_user_name(std::string_view name);

// The Argon2id hash of `password` (what the "password" field holds).
// invalid_argument for a password outside 8 to 1024 bytes.
Result<std::string> hash_password(std::string_view password);

// Whether `password` is the one `stored_hash` was made from; false for a user
// that does not exist (nullopt), after the same work, so the answer's timing
// does not say which names exist.
Result<bool> password_matches(const std::optional<std::string>& stored_hash, std::string_view password);

// The packed value of a user record's "password" field for `hash`, and the
// hash a record's visible fields hold (nullopt when missing or not a string).
std::string packed_password(std::string_view hash);
std::optional<std::string> password_hash_of(const Fields& fields);

// The key that signs the built-in login's tokens, created on first call.
Result<std::string> login_key(Store& store);

}  // namespace shopsync::app
