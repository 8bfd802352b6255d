#include "node/body_compression.h"

#include <zdict.h>
#include <zstd.h>

#include <memory>

namespace shopsync {

namespace {

struct ZstdContexts {
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> c{ZSTD_createCCtx(), &ZSTD_freeCCtx};
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> d{ZSTD_createDCtx(), &ZSTD_freeDCtx};
};

ZstdContexts& zstd() {
  thread_local ZstdContexts contexts;
  return contexts;
}

}  // namespace

std::optional<CompressionDictionary> CompressionDictionary::train(const std::vector<std::string>& samples,
                                                                  std::size_t bytes) {
  std::string joined;
  std::vector<std::size_t> sizes;
  for (const auto& s : samples) {
    joined += s;
    sizes.push_back(s.size());
  }
  CompressionDictionary d;
  d.bytes_.resize(bytes);
  const std::size_t n = ZDICT_trainFromBuffer(d.bytes_.data(), d.bytes_.size(), joined.data(), sizes.data(),
                                              static_cast<unsigned>(sizes.size()));
  if (ZDICT_isError(n)) return std::nullopt;
  d.bytes_.resize(n);
  return d;
}

std::string compress_body(std::string_view body, int level, const CompressionDictionary* dictionary) {
  std::string out(ZSTD_compressBound(body.size()), '\0');
  const std::size_t n =
      dictionary == nullptr
          ? ZSTD_compressCCtx(zstd().c.get(), out.data(), out.size(), body.data(), body.size(), level)
          : ZSTD_compress_usingDict(zstd().c.get(), out.data(), out.size(), body.data(), body.size(),
                                    dictionary->bytes().data(), dictionary->bytes().size(), level);
  if (ZSTD_isError(n) || n >= body.size()) return {};
  out.resize(n);
  return out;
}

std::optional<std::size_t> compressed_body_size(std::string_view frame) {
  const unsigned long long size = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) return std::nullopt;
  return static_cast<std::size_t>(size);
}

std::optional<std::string> decompress_body(std::string_view frame, std::size_t size,
                                           const CompressionDictionary* dictionary) {
  std::string out(size, '\0');
  if (!decompress_body_into(frame, out, dictionary)) return std::nullopt;
  return out;
}

bool decompress_body_into(std::string_view frame, std::span<char> out, const CompressionDictionary* dictionary) {
  const std::size_t n =
      dictionary == nullptr
          ? ZSTD_decompressDCtx(zstd().d.get(), out.data(), out.size(), frame.data(), frame.size())
          : ZSTD_decompress_usingDict(zstd().d.get(), out.data(), out.size(), frame.data(), frame.size(),
                                      dictionary->bytes().data(), dictionary->bytes().size());
  return !ZSTD_isError(n) && n == out.size();
}

}  // namespace shopsync
