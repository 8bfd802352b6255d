#include "storage/sealed_record.h"

#include "storage/crc32c.h"

namespace shopsync {

namespace {

bool is_sealed(std::string_view stored) {
  return stored.size() >= kSealBytes && static_cast<std::uint8_t>(stored[0]) == kSealedRecordFormat;
}

}  // namespace

void seal_record(std::string_view encoding, std::string& out) {
  const std::uint32_t crc = crc32c(encoding);
  out.clear();
  out.reserve(kSealBytes + encoding.size());
  out.push_back(static_cast<char>(kSealedRecordFormat));
  for (std::size_t i = 0; i < 4; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xffU));
  out.append(encoding);
}

Result<StoredRecord> open_stored_record(std::string_view stored) {
  if (!is_sealed(stored)) {
    if (!stored.empty() && static_cast<std::uint8_t>(stored[0]) == kSealedRecordFormat) {
      return Status::corrupt("record state: a sealed value of " + std::to_string(stored.size()) +
                             " bytes, too short for its seal");
    }
    return StoredRecord{stored, false};
  }
  std::uint32_t kept = 0;
  for (std::size_t i = 0; i < 4; ++i) kept |= std::uint32_t{static_cast<std::uint8_t>(stored[1 + i])} << (8 * i);
  const std::string_view encoding = stored.substr(kSealBytes);
  if (crc32c(encoding) != kept) {
    return Status::corrupt("record state: the stored bytes changed since they were written (checksum mismatch)");
  }
  return StoredRecord{encoding, true};
}

std::string_view stored_encoding(std::string_view stored) {
  return is_sealed(stored) ? stored.substr(kSealBytes) : stored;
}

}  // namespace shopsync
