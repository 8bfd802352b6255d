// A record state as the LMDB store keeps it: sealed with a checksum, so that
// bytes that changed on disk are caught when read instead of replicated
// (docs/storage-format.md, "Records").
//
//   sealed value = 0x02, CRC-32C of the encoding (4 bytes, little-endian),
//                  the encoding (record_codec.h: format byte 0x01, MessagePack)
//
// A value stored before seals existed is the bare encoding (it begins with
// 0x01); it reads as it always did and is sealed when next written.
//
// The checksum is what lets the node read its own records back without the
// full check a peer's records get: sealed bytes were written by this
// version's encoder after that check (LmdbStore), so only the checksum is
// verified (PackedRecord::sealed).
//
// Thread-safety: reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace shopsync {

inline constexpr std::uint8_t kSealedRecordFormat = 0x02;
inline constexpr std::size_t kSealBytes = 5;  // the format byte and the checksum

// `encoding` sealed, into `out` (replacing what it held).
void seal_record(std::string_view encoding, std::string& out);

struct StoredRecord {
  std::string_view encoding;  // the record state's encoding
  bool sealed = false;        // it was sealed, and its checksum matches
};

// A stored value read back: a sealed one checked against its checksum
// (corrupt when they differ), an older bare encoding as it is.
Result<StoredRecord> open_stored_record(std::string_view stored);

// The encoding inside a stored value, its seal unchecked: for reading what
// can be read of a record that is corrupt (which writes it held).
std::string_view stored_encoding(std::string_view stored);

}  // namespace shopsync
