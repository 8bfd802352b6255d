#include "storage/record.h"

#include <array>

#include "storage/ascii.h"

namespace shopsync {

bool is_valid_utf8(std::string_view s) {
  // Past the ASCII prefix (usually all of it), code point by code point.
  std::size_t i = ascii_prefix(s);
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t extra = 0;
    char32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;  // truncated sequence
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr char32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

// The characters a collection name may hold after its first: [a-z0-9_].
constexpr auto kNameChars = [] {
  std::array<bool, 256> allowed{};
  for (int c = 'a'; c <= 'z'; ++c) allowed[c] = true;
  for (int c = '0'; c <= '9'; ++c) allowed[c] = true;
  allowed['_'] = true;
  return allowed;
}();

Status validate_collection_name(std::string_view name) {
  auto bad = [&](const char* why) {
    return Status::invalid("collection name '" + std::string(name) + "' " + why +
                           " (rule: [a-z][a-z0-9_]{0,63})");
  };
  if (name.empty()) return Status::invalid("collection name is empty (rule: [a-z][a-z0-9_]{0,63})");
  if (name.size() > kMaxCollectionName) return bad("is longer than 64 characters");
  if (name[0] < 'a' || name[0] > 'z') return bad("must start with a lowercase letter");
  for (char c : name) {
    if (!kNameChars[static_cast<unsigned char>(c)]) return bad("has a character other than a-z, 0-9 and _");
  }
  return Status::ok();
}

Status validate_record_id(std::string_view id) {
  if (id.empty()) return Status::invalid("record id is empty (rule: 1 to 256 bytes of UTF-8)");
  if (id.size() > kMaxRecordId) {
    return Status::invalid("record id is " + std::to_string(id.size()) +
                           " bytes long (rule: 1 to 256 bytes of UTF-8)");
  }
  if (!is_valid_utf8(id)) return Status::invalid("record id is not valid UTF-8");
  return Status::ok();
}

Status validate_key(const RecordKey& key) {
  SHOPSYNC_TRY(validate_collection_name(key.collection));
  return validate_record_id(key.id);
}

}  // namespace shopsync
