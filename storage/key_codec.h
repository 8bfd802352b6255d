// Byte encodings of the store's keys (docs/storage-format.md, "Key encodings").
// Big-endian integers so that LMDB's byte order is numeric order.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "storage/record.h"

namespace shopsync::keys {

inline void put_be64(char* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

inline std::uint64_t get_be64(const char* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

using U64Key = std::array<char, 8>;
using ChangeKey = std::array<char, 16>;

inline U64Key u64(std::uint64_t v) {
  U64Key k;
  put_be64(k.data(), v);
  return k;
}

inline std::string_view view(const U64Key& k) { return {k.data(), k.size()}; }
inline std::string_view view(const ChangeKey& k) { return {k.data(), k.size()}; }

// changes: origin (8 bytes BE) then counter (8 bytes BE).
inline ChangeKey change(std::uint64_t origin, std::uint64_t counter) {
  ChangeKey k;
  put_be64(k.data(), origin);
  put_be64(k.data() + 8, counter);
  return k;
}

// records: collection, one 0 byte, id. Collection names never hold a 0 byte,
// so the first 0 splits the key, and all records of a collection are
// contiguous and in id byte order.
inline void record(std::string& out, std::string_view collection, std::string_view id) {
  out.clear();
  out.reserve(collection.size() + 1 + id.size());
  out.append(collection);
  out.push_back('\0');
  out.append(id);
}

inline std::string record(const RecordKey& key) {
  std::string out;
  record(out, key.collection, key.id);
  return out;
}

// False when `bytes` has no 0 byte (not a record key).
inline bool split_record(std::string_view bytes, RecordKey& out) {
  const auto zero = bytes.find('\0');
  if (zero == std::string_view::npos) return false;
  out.collection.assign(bytes.substr(0, zero));
  out.id.assign(bytes.substr(zero + 1));
  return true;
}

// "customers/CUST_001", for error messages.
inline std::string describe(const RecordKey& key) { return key.collection + "/" + key.id; }

}  // namespace shopsync::keys
