// zstd, the only file that includes it (body_compression.cc): the
// compression of sync frame bodies (wire_codec.h, docs/wire-format.md) and
// what `shopsync-bench sync` measures of it.
//
// Thread-safety: the functions are reentrant; the zstd contexts they cache
// are per thread.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace shopsync {

// The level sync frames are compressed with. Measured on CRM-shaped batches
// (docs/wire-format.md, "Compression"): level 1 gives nearly all the
// reduction of higher levels for the least CPU, and compressing costs less
// CPU than moving the uncompressed bytes through CURVE and ZeroMQ, even on
// loopback.
inline constexpr int kWireCompressionLevel = 1;

// A compression dictionary trained on sample bodies (bench only: the wire
// protocol has no dictionaries).
class CompressionDictionary {
 public:
  // nullopt when zstd cannot train one from these samples (too few or too small).
  static std::optional<CompressionDictionary> train(const std::vector<std::string>& samples, std::size_t bytes);
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// `body` as one zstd frame that states its content size, at `level`, with
// `dictionary` when given. Empty when compression does not make it smaller.
std::string compress_body(std::string_view body, int level = kWireCompressionLevel,
                          const CompressionDictionary* dictionary = nullptr);

// The content size a zstd frame states; nullopt when `frame` is not a zstd
// frame or does not state it.
std::optional<std::size_t> compressed_body_size(std::string_view frame);

// `frame` decompressed into exactly `size` bytes (compressed_body_size),
// with the dictionary it was compressed with; nullopt when it does not.
std::optional<std::string> decompress_body(std::string_view frame, std::size_t size,
                                           const CompressionDictionary* dictionary = nullptr);

// The same into `out`, which it must fill exactly: false when it does not.
// For a caller that keeps the bytes no longer than a decode (the wire
// codec): `out` need not be zero-filled first, as a std::string is.
bool decompress_body_into(std::string_view frame, std::span<char> out,
                          const CompressionDictionary* dictionary = nullptr);

}  // namespace shopsync
