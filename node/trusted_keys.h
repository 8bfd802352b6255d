// The trusted-key list (Table::trusted_keys): the CURVE public keys whose
// holders may connect to this node's sync port.
//
// Row key: the public key in Z85 (40 characters). Row value: MessagePack array
// [format = 1, name (str), added_ms (uint)], where name is a note for people.
// Decoders ignore trailing fields (docs/wire-format.md, "Trusted keys table").
//
// Revoked keys: `shopsync trust rm` also remembers the key in Table::settings
// under "trust/revoked/<KEY>" (value: the revocation time, ms, as decimal
// text), so that a key named again on the command line (--trust, --peer
// KEY@..., --uplink KEY@...) stays untrusted after a restart. Only the
// operator's `shopsync trust add` lifts a revocation.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store.h"

namespace shopsync {

struct TrustedKeyRow {
  std::string key;
  std::string name;
  std::uint64_t added_ms = 0;
  bool operator==(const TrustedKeyRow&) const = default;
};

std::string encode_trusted_key_value(const TrustedKeyRow& row);
// A value that does not decode still names a trusted key: name and time are
// then left empty (the row's presence is what grants trust).
TrustedKeyRow decode_trusted_key_row(std::string_view key, std::string_view value);

// invalid_argument when `key` is not 40 Z85 characters. Adding a key that is
// already there keeps its first name and time.
Status add_trusted_key(StoreWriter& writer, const TrustedKeyRow& row);
Result<bool> remove_trusted_key(StoreWriter& writer, std::string_view key);  // false: was not there
Result<std::vector<TrustedKeyRow>> list_trusted_keys(StoreReader& reader);
Result<bool> is_trusted_key(StoreReader& reader, std::string_view key);

// Removes `key` from the list and records it as revoked (when it is a key at
// all). false: it was not trusted.
Result<bool> revoke_trusted_key(StoreWriter& writer, std::string_view key, std::uint64_t now_ms);
// The operator trusts `row.key` (again): adds it and lifts its revocation.
Status trust_key_again(StoreWriter& writer, const TrustedKeyRow& row);
Result<bool> is_revoked_key(StoreReader& reader, std::string_view key);

struct RevokedKeyRow {
  std::string key;
  std::uint64_t revoked_ms = 0;
};
Result<std::vector<RevokedKeyRow>> list_revoked_keys(StoreReader& reader);

}  // namespace shopsync
