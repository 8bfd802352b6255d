// The text forms of a node's CURVE public key.
//
// Inside shopsync a public key is always its Z85 text (40 characters): in the
// data directory (curve.public), the trusted-key table, ZAP, mDNS TXT records
// and the local API. Z85 is full of shell characters ($ ! > ( & ...) and one
// key in 85 starts with '-', so people get another form, the *spoken* form:
//
//   akyb-m979-694s-d4rp-zdgq-s1sb-p30x-3zrm-g022-fhcm-sfxc-y6y2-ts93-7qpq
//
// It is the 32 key bytes followed by a CRC-24 of them (CRC-24/OpenPGP, 3
// bytes), written in Crockford's base32 (0-9 and a-z without i l o u), 56
// symbols, lower case, in dash-separated groups of four. The CRC catches every
// mistyped symbol, every swap of two neighbouring symbols and every error
// confined to four neighbouring symbols; anything else gets through with a
// chance of 1 in 16 million. It never starts with '-', and a shell leaves it
// alone quoted or not.
//
// Reading accepts both forms: the spoken one in any case, with or without the
// dashes or with spaces instead, o/O read as 0 and i/I/l/L as 1 (as Crockford
// says); or the 40-character Z85 text. Surrounding white space is ignored.
// docs/operations.md ("Keys") says the same for operators.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace shopsync {

// The key in Z85 (the internal form), from either text form. invalid_argument
// naming the problem (length, a character that is in neither form, a
// checksum that does not match) otherwise.
Result<std::string> parse_public_key(std::string_view text);

// The spoken form of a Z85 public key. A text that is not a Z85 key (the empty
// key of an --insecure node, say) is returned as it is.
std::string format_public_key(std::string_view z85);

// The spoken form of 32 raw key bytes (REQUIRES: raw.size() == 32).
std::string format_raw_public_key(std::string_view raw);

// 40 characters of the Z85 alphabet.
bool is_z85_public_key(std::string_view text);

// Z85 of 32 raw key bytes (the ZAP credentials frame) and back; nullopt when
// `z85` is not a Z85 key.
std::string z85_from_raw_public_key(std::string_view raw32);
std::optional<std::string> raw_from_z85_public_key(std::string_view z85);

}  // namespace shopsync
