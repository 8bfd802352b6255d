// Whether text is ASCII: the common case of every text check, taken inline
// before the full UTF-8 check (is_valid_utf8, storage/record.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace shopsync {

// How many of the bytes `s` starts with are surely ASCII: all of them when
// every byte is, otherwise at most up to the first that is not. Read a word
// at a time; field names and most values are short, so the last word
// overlaps the one before it instead of ending byte by byte.
inline std::size_t ascii_prefix(std::string_view s) {
  const char* p = s.data();
  const std::size_t n = s.size();
  if (n >= 8) {
    std::uint64_t word;
    std::size_t i = 0;
    for (; i + 8 < n; i += 8) {
      std::memcpy(&word, p + i, 8);
      if ((word & 0x8080808080808080ULL) != 0) return i;
    }
    std::memcpy(&word, p + n - 8, 8);
    return (word & 0x8080808080808080ULL) == 0 ? n : i;
  }
  if (n >= 4) {
    std::uint32_t head;
    std::uint32_t tail;
    std::memcpy(&head, p, 4);
    std::memcpy(&tail, p + n - 4, 4);
    return ((head | tail) & 0x80808080U) == 0 ? n : 0;
  }
  unsigned bits = 0;
  for (std::size_t i = 0; i < n; ++i) bits |= static_cast<unsigned char>(p[i]);
  return bits < 0x80 ? n : 0;
}

// Every byte below 0x80 (so valid UTF-8 too).
inline bool is_ascii(std::string_view s) { return ascii_prefix(s) == s.size(); }

}  // namespace shopsync
