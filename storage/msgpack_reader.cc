#include "storage/msgpack_reader.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#include "storage/record.h"

namespace shopsync {

bool MsgpackReader::fail(std::string_view what) {
  if (error_.empty()) {
    error_.assign(what);
    error_ += " at byte ";
    error_ += std::to_string(pos_);
  }
  pos_ = data_.size();  // every later read fails too
  return false;
}

bool MsgpackReader::need(std::size_t n) {
  if (!error_.empty()) return false;
  if (data_.size() - pos_ < n) return fail("truncated input");
  return true;
}

namespace {

// A big-endian unsigned of sizeof(T) bytes at `p`.
template <class T>
std::uint64_t load_be(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::little) {
    if constexpr (sizeof v == 2) v = __builtin_bswap16(v);
    if constexpr (sizeof v == 4) v = __builtin_bswap32(v);
    if constexpr (sizeof v == 8) v = __builtin_bswap64(v);
  }
  return v;
}

}  // namespace

// REQUIRES: need(n) succeeded.
std::uint64_t MsgpackReader::take_be(std::size_t n) {
  const char* p = data_.data() + pos_;
  pos_ += n;
  switch (n) {
    case 2: return load_be<std::uint16_t>(p);
    case 4: return load_be<std::uint32_t>(p);
    case 8: return load_be<std::uint64_t>(p);
    default: {
      std::uint64_t v = 0;
      for (std::size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
      return v;
    }
  }
}

bool MsgpackReader::read_length(std::uint8_t tag, std::uint32_t& count, std::uint8_t fix_base,
                                std::uint8_t fix_mask, std::uint8_t tag16, std::uint8_t tag32,
                                const char* what) {
  if ((tag & static_cast<std::uint8_t>(~fix_mask)) == fix_base) {
    count = tag & fix_mask;
  } else if (tag == tag16) {
    if (!need(2)) return false;
    count = static_cast<std::uint32_t>(take_be(2));
  } else if (tag == tag32) {
    if (!need(4)) return false;
    count = static_cast<std::uint32_t>(take_be(4));
  } else {
    --pos_;  // report the offset of the tag
    return fail(std::string("expected ") + what);
  }
  // Every element takes at least one byte: a count beyond the remaining bytes
  // is a lie, caught here before any caller reserves memory for it.
  if (count > remaining()) return fail(std::string(what) + " longer than the input");
  return true;
}

bool MsgpackReader::read_array_general(std::uint32_t& count) {
  if (!need(1)) return false;
  const auto tag = static_cast<std::uint8_t>(data_[pos_++]);
  return read_length(tag, count, 0x90, 0x0f, 0xdc, 0xdd, "an array");
}

bool MsgpackReader::read_map(std::uint32_t& count) {
  if (!need(1)) return false;
  const auto tag = static_cast<std::uint8_t>(data_[pos_++]);
  if (!read_length(tag, count, 0x80, 0x0f, 0xde, 0xdf, "a map")) return false;
  if (count > remaining() / 2) return fail("a map longer than the input");
  return true;
}

bool MsgpackReader::read_uint_general(std::uint64_t& value) {
  if (!need(1)) return false;
  const auto tag = static_cast<std::uint8_t>(data_[pos_]);
  if (tag <= 0x7f) {
    ++pos_;
    value = tag;
    return true;
  }
  std::size_t width = 0;
  bool is_signed = false;
  switch (tag) {
    case 0xcc: width = 1; break;
    case 0xcd: width = 2; break;
    case 0xce: width = 4; break;
    case 0xcf: width = 8; break;
    case 0xd0: width = 1; is_signed = true; break;
    case 0xd1: width = 2; is_signed = true; break;
    case 0xd2: width = 4; is_signed = true; break;
    case 0xd3: width = 8; is_signed = true; break;
    default: return fail("expected an unsigned integer");
  }
  ++pos_;
  if (!need(width)) return false;
  const std::uint64_t raw = take_be(width);
  // A signed encoding is accepted when its value is not negative (some
  // encoders use them for small numbers).
  if (is_signed && ((raw >> (width * 8 - 1)) & 1U) != 0) {
    pos_ -= width + 1;
    return fail("expected an unsigned integer, got a negative one");
  }
  value = raw;
  return true;
}

bool MsgpackReader::read_bool(bool& value) {
  if (!need(1)) return false;
  const auto tag = static_cast<std::uint8_t>(data_[pos_]);
  if (tag != 0xc2 && tag != 0xc3) return fail("expected a boolean");
  ++pos_;
  value = tag == 0xc3;
  return true;
}

bool MsgpackReader::read_str_general(std::string_view& value) {
  if (!need(1)) return false;
  const auto tag = static_cast<std::uint8_t>(data_[pos_]);
  std::size_t len = 0;
  if ((tag & 0xe0) == 0xa0) {
    ++pos_;
    len = tag & 0x1f;
  } else if (tag == 0xd9 || tag == 0xda || tag == 0xdb) {
    const std::size_t width = tag == 0xd9 ? 1 : tag == 0xda ? 2 : 4;
    ++pos_;
    if (!need(width)) return false;
    len = take_be(width);
  } else {
    return fail("expected a string");
  }
  if (!need(len)) return false;
  value = data_.substr(pos_, len);
  pos_ += len;
  return true;
}

bool MsgpackReader::read_bin(std::string_view& value) {
  if (!need(1)) return false;
  const auto tag = static_cast<std::uint8_t>(data_[pos_]);
  if (tag != 0xc4 && tag != 0xc5 && tag != 0xc6) return fail("expected a binary");
  const std::size_t width = tag == 0xc4 ? 1 : tag == 0xc5 ? 2 : 4;
  ++pos_;
  if (!need(width)) return false;
  const std::size_t len = take_be(width);
  if (!need(len)) return false;
  value = data_.substr(pos_, len);
  pos_ += len;
  return true;
}

bool MsgpackReader::skip(int max_depth) { return walk<false>(max_depth); }

bool MsgpackReader::read_value_general(std::string_view& span, int max_depth) {
  const std::size_t start = pos_;
  if (!walk<true>(max_depth)) return false;
  span = data_.substr(start, pos_ - start);
  return true;
}

// Walks one object, `Strict` applying the data model's rules for field
// values. One loop over the bytes, no recursion: left[d] counts the objects
// still to read in the container open at depth d (left[0]: the object
// itself). Callers pass at most kMaxValueDepth + 2 levels.
template <bool Strict>
bool MsgpackReader::walk(int max_depth) {
  if (!error_.empty()) return false;
  std::array<std::uint64_t, kMaxValueDepth + 3> left;
  const int deepest = std::min(max_depth, static_cast<int>(left.size()) - 1);
  int depth = 0;
  left[0] = 1;
  // Skips what follows the tag: `header` bytes, the last `len_width` of them
  // a big-endian length of the data after them.
  auto skip_sized = [&](std::size_t header, std::size_t len_width) {
    ++pos_;
    if (!need(header)) return false;
    const std::size_t len = len_width ? take_be(len_width) : 0;
    pos_ += header - len_width;  // fixed bytes after the length (ext type)
    if (!need(len)) return false;
    pos_ += len;
    return true;
  };
  for (;;) {
    while (left[depth] == 0) {
      if (depth == 0) return true;
      --depth;
    }
    --left[depth];
    if (!need(1)) return false;
    const auto tag = static_cast<std::uint8_t>(data_[pos_]);
    if (const std::size_t size = msgpack_tags::kFixedSize[tag]) {
      ++pos_;
      if (!need(size - 1)) return false;
      pos_ += size - 1;
      continue;
    }
    if ((tag & 0xe0) == 0xa0 || tag == 0xd9 || tag == 0xda || tag == 0xdb) {
      std::string_view text;
      if (!read_str(text)) return false;
      if (Strict && !is_valid_utf8(text)) {
        pos_ -= text.size();
        return fail("string is not valid UTF-8");
      }
      continue;
    }
    const bool array = (tag & 0xf0) == 0x90 || tag == 0xdc || tag == 0xdd;
    if (array || (tag & 0xf0) == 0x80 || tag == 0xde || tag == 0xdf) {
      std::uint32_t n = 0;
      if (!(array ? read_array(n) : read_map(n))) return false;
      if (depth == deepest) return fail("nested deeper than " + std::to_string(kMaxValueDepth) + " levels");
      left[++depth] = array ? std::uint64_t{n} : std::uint64_t{n} * 2;
      continue;
    }
    bool skipped = false;
    switch (tag) {
      case 0xc4: skipped = skip_sized(1, 1); break;  // bin 8
      case 0xc5: skipped = skip_sized(2, 2); break;
      case 0xc6: skipped = skip_sized(4, 4); break;
      case 0xc1: return fail("invalid MessagePack byte 0xc1");
      default:  // the ext types (0xc7-0xc9, 0xd4-0xd8)
        if (Strict) return fail("extension types are not field values");
        switch (tag) {
          case 0xc7: skipped = skip_sized(2, 1); break;
          case 0xc8: skipped = skip_sized(3, 2); break;
          case 0xc9: skipped = skip_sized(5, 4); break;
          case 0xd4: skipped = skip_sized(2, 0); break;
          case 0xd5: skipped = skip_sized(3, 0); break;
          case 0xd6: skipped = skip_sized(5, 0); break;
          case 0xd7: skipped = skip_sized(9, 0); break;
          case 0xd8: skipped = skip_sized(17, 0); break;
          default: return fail("invalid MessagePack byte");
        }
    }
    if (!skipped) return false;
  }
}

}  // namespace shopsync
