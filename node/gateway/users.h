// Users of the gateway's built-in login (docs/http-gateway.md, "Built-in
// login"), for businesses without an auth server of their own.
//
// A user is kept in this node's settings table under "gateway/user/<NAME>",
// value "v1 <created unix ms> <crypto_pwhash_str>": the password hashed with
// libsodium's Argon2id (its "interactive" cost: about 64 MiB and a tenth of a
// second), never the password. Settings are not replicated: users are made
// on each node that serves logins (usually the uplink, or a shop's one till
// with --http). The key that signs the login's tokens is kept beside them
// ("gateway/login/key", 32 random bytes as hex), made on first use.
//
// Names: 1 to 64 of [A-Za-z0-9._@-]. Passwords: 8 to 1024 bytes.
// Like tokens.h, these open their own transactions: the CLI calls them with
// the daemon running or stopped.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/store.h"

namespace shopsync::gateway {

inline constexpr std::string_view kUserKeyPrefix = "gateway/user/";
inline constexpr std::string_view kLoginKeyName = "gateway/login/key";

struct UserInfo {
  std::string name;
  std::uint64_t created_ms = 0;
};

Status validate_user_name(std::string_view name);

// invalid_argument (bad name or password, or the user exists and `replace`
// is false), the store's errors.
Status add_user(Store& store, std::string_view name, std::string_view password, std::uint64_t now_ms,
                bool replace = false);
Result<std::vector<UserInfo>> list_users(Store& store);
// not_found when there is no such user.
Status remove_user(Store& store, std::string_view name);
// Whether `password` is the user's (false for an unknown user, after the same
// work, so the answer's timing does not say which names exist).
Result<bool> check_password(Store& store, std::string_view name, std::string_view password);

// The key that signs the built-in login's tokens, created on first call.
Result<std::string> login_key(Store& store);

}  // namespace shopsync::gateway
