// CRC-32C (Castagnoli, as iSCSI, ext4 and LevelDB use it): the checksum that
// seals each record this node stores (storage/sealed_record.h).
//
// Uses the CPU's crc32 instruction where there is one (x86-64 with SSE 4.2,
// checked once at run time), a table otherwise: the same values either way.
//
// Thread-safety: reentrant.
#pragma once

#include <cstdint>
#include <string_view>

namespace shopsync {

std::uint32_t crc32c(std::string_view bytes);

// The same by the table alone, whatever the CPU: what crc32c falls back to
// (and what tests hold the instruction to).
std::uint32_t crc32c_by_table(std::string_view bytes);

}  // namespace shopsync
