// A bounds-checked pull reader over MessagePack bytes that may be hostile.
//
// Writing goes through msgpack-c's packer; reading goes through this reader so
// that (a) nothing is allocated per object (no msgpack::zone), (b) the exact
// byte span of a nested object can be taken without re-packing it (Field::packed
// holds such spans), and (c) every length is checked against the bytes that are
// really there before anything is reserved or copied.
//
// Each read_* returns false on failure and remembers the first failure (with
// its byte offset) in error(); after a failure every further read fails too, so
// a decoder may check once at the end of a group of reads.
//
// Returned string_views point into the input and live as long as it does.
// Thread-safety: none (one reader per decode); the input is never modified.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/ascii.h"

namespace shopsync {

// The deepest nesting of arrays and maps accepted in one field value.
inline constexpr int kMaxValueDepth = 32;

namespace msgpack_tags {

// The whole size of an object that `tag` begins when that size is fixed:
// positive and negative fixint, nil, booleans, integers and floats. 0 for
// every other tag (strings, binaries, containers, ext types, 0xc1).
inline constexpr std::array<std::uint8_t, 256> kFixedSize = [] {
  std::array<std::uint8_t, 256> size{};
  for (int tag = 0x00; tag <= 0x7f; ++tag) size[tag] = 1;
  for (int tag = 0xe0; tag <= 0xff; ++tag) size[tag] = 1;
  size[0xc0] = size[0xc2] = size[0xc3] = 1;
  size[0xcc] = size[0xd0] = 2;
  size[0xcd] = size[0xd1] = 3;
  size[0xce] = size[0xd2] = size[0xca] = 5;
  size[0xcf] = size[0xd3] = size[0xcb] = 9;
  return size;
}();

}  // namespace msgpack_tags

class MsgpackReader {
 public:
  explicit MsgpackReader(std::string_view bytes) : data_(bytes) {}

  // The common encodings (fixarray, positive fixint, fixstr) are read here,
  // inline: a record's every field takes several of these calls. Everything
  // else, and every failure, is the out-of-line reader's. (After a failure
  // pos_ is at the end, so no fast path applies.)
  [[gnu::always_inline]] bool read_array(std::uint32_t& count) {
    if (pos_ < data_.size()) {
      const auto tag = static_cast<std::uint8_t>(data_[pos_]);
      if ((tag & 0xf0) == 0x90 && std::size_t{tag & 0x0fU} < data_.size() - pos_) {
        ++pos_;
        count = tag & 0x0fU;
        return true;
      }
    }
    return read_array_general(count);
  }
  bool read_map(std::uint32_t& count);
  // Any non-negative integer encoding.
  [[gnu::always_inline]] bool read_uint(std::uint64_t& value) {
    if (pos_ < data_.size() && static_cast<std::uint8_t>(data_[pos_]) <= 0x7f) {
      value = static_cast<std::uint8_t>(data_[pos_++]);
      return true;
    }
    return read_uint_general(value);
  }
  bool read_bool(bool& value);
  // bin only.
  bool read_bin(std::string_view& value);
  // str only; not checked for UTF-8.
  [[gnu::always_inline]] bool read_str(std::string_view& value) {
    if (pos_ < data_.size()) {
      const auto tag = static_cast<std::uint8_t>(data_[pos_]);
      const std::size_t len = tag & 0x1fU;
      if ((tag & 0xe0) == 0xa0 && len < data_.size() - pos_) {
        value = std::string_view(data_.data() + pos_ + 1, len);
        pos_ += len + 1;
        return true;
      }
    }
    return read_str_general(value);
  }

  // Skips one whole object whatever its type, up to `max_depth` levels of
  // arrays/maps; fails on truncation or deeper nesting.
  bool skip(int max_depth);

  // Reads one object that must be a field value of the data model (nil, bool,
  // integer, float, UTF-8 string, binary, array, map; no ext types), at most
  // `max_depth` levels deep, and returns its exact bytes. Most values (a
  // number, a boolean, nil, a short ASCII string) are taken here, inline.
  [[gnu::always_inline]] bool read_value(std::string_view& span, int max_depth = kMaxValueDepth) {
    if (pos_ < data_.size()) {
      const auto tag = static_cast<std::uint8_t>(data_[pos_]);
      const std::size_t left = data_.size() - pos_;
      std::size_t size = msgpack_tags::kFixedSize[tag];
      if ((tag & 0xe0) == 0xa0 && (tag & 0x1fU) < left && is_ascii({data_.data() + pos_ + 1, tag & 0x1fU})) {
        size = 1 + (tag & 0x1fU);
      }
      if (size != 0 && size <= left) {
        span = std::string_view(data_.data() + pos_, size);
        pos_ += size;
        return true;
      }
    }
    return read_value_general(span, max_depth);
  }

  bool ok() const { return error_.empty(); }
  bool at_end() const { return pos_ == data_.size(); }
  std::size_t offset() const { return pos_; }
  std::size_t remaining() const { return data_.size() - pos_; }

  // The first failure, "expected an array at byte 12", or "" when none.
  const std::string& error() const { return error_; }
  // Records a failure found by the caller (e.g. a bad value in a good shape).
  bool fail(std::string_view what);

 private:
  bool read_array_general(std::uint32_t& count);
  bool read_uint_general(std::uint64_t& value);
  bool read_str_general(std::string_view& value);
  bool need(std::size_t n);
  std::uint64_t take_be(std::size_t n);
  bool read_length(std::uint8_t tag, std::uint32_t& count, std::uint8_t fix_base, std::uint8_t fix_mask,
                   std::uint8_t tag16, std::uint8_t tag32, const char* what);
  bool read_value_general(std::string_view& span, int max_depth);
  template <bool Strict>
  bool walk(int max_depth);

  std::string_view data_;
  std::size_t pos_ = 0;
  std::string error_;
};

}  // namespace shopsync
