// Bearer tokens of the HTTP gateway (docs/http-gateway.md, "Tokens").
//
// A token is "sst_" followed by 64 hex digits (32 random bytes from
// libsodium). It is shown once, when created; the store keeps only its
// SHA-256, in Table::settings under "gateway/token/<NAME>", value
// "v1 <sha256 hex> <created unix ms>" (a token of every record) or
// "v2 <sha256 hex> <created unix ms> <grant>" (a scoped token: the grant's
// text form, replication/grant.h), and an index entry
// "gateway/tokenhash/<sha256 hex>" -> NAME. Verifying hashes the presented
// token, looks the hash up and confirms it against the named entry.
//
// A scoped token reads and writes only what its grant allows (the gateway
// enforces it, docs/http-gateway.md "Token scopes"); a token without one is
// unrestricted, as every token made before scopes existed. A binary older than
// scopes does not read a "v2" entry, so it refuses a scoped token rather than
// letting it through unrestricted.
//
// Names: 1 to 64 of [A-Za-z0-9._-].
//
// The functions take the Store and run their own transactions; the daemon's
// gateway calls verify on its loop thread, the CLI (`shopsync token ...`)
// opens the data directory's store directly (LMDB serialises writers across
// processes, so this is safe while the daemon runs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/api_types.h"
#include "core/status.h"
#include "replication/grant.h"
#include "storage/store.h"

namespace shopsync::app {

inline constexpr std::string_view kTokenKeyPrefix = "gateway/token/";
// Index for verification by one point lookup: "gateway/tokenhash/<sha256 hex>" -> NAME.
inline constexpr std::string_view kTokenHashPrefix = "gateway/tokenhash/";

struct TokenInfo {
  std::string name;
  std::uint64_t created_ms = 0;
  std::optional<Grant> scope;  // none: unrestricted
};

// The token a secret matched.
struct VerifiedToken {
  std::string name;
  std::optional<Grant> scope;  // none: unrestricted
};

// invalid_argument when the name breaks the rule.
Status validate_token_name(std::string_view name);

// The new token's secret. invalid_argument (bad name, or a token of that
// name exists: revoke it first), the store's errors. `scope`: its grant
// (an admin grant is the same as none).
Result<std::string> create_token(Store& store, std::string_view name, std::uint64_t now_ms,
                                 const std::optional<Grant>& scope = std::nullopt);
// Sorted by name.
Result<std::vector<TokenInfo>> list_tokens(Store& store);
// not_found when no token has that name.
Status revoke_token(Store& store, std::string_view name);
// As the local API lists them (token_list): names, creation times, scopes.
api::CredentialList credential_list(const std::vector<TokenInfo>& tokens);
// The token `secret` matches, or nullopt.
Result<std::optional<VerifiedToken>> find_token(Store& store, std::string_view secret);
// Its name only.
Result<std::optional<std::string>> verify_token(Store& store, std::string_view secret);

}  // namespace shopsync::app
