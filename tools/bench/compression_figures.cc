#include "tools/bench/compression_figures.h"

#include <time.h>

#include <algorithm>
#include <cstdio>

#include <msgpack.hpp>

#include "node/body_compression.h"
#include "tools/bench/sync_ceiling.h"

namespace shopsync::bench {

namespace {

constexpr std::size_t kPerMessage = 1000;
constexpr std::size_t kDictionaryBytes = 16 << 10;

// CPU seconds of this thread: on a shared machine, what the work costs
// whatever share of a core it gets.
double thread_cpu_seconds() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// One method on every message: nullopt when a message does not come back.
std::optional<CompressionFigure> measure(const std::string& method, const std::vector<std::string>& messages,
                                         std::size_t records, int level, const CompressionDictionary* dictionary) {
  CompressionFigure f;
  f.method = method;
  std::vector<std::string> compressed;
  compressed.reserve(messages.size());
  double bytes = 0;
  double t0 = thread_cpu_seconds();
  for (const auto& m : messages) {
    compressed.push_back(level == 0 && dictionary == nullptr ? std::string() : compress_body(m, level, dictionary));
  }
  f.compress_us = (thread_cpu_seconds() - t0) * 1e6 / static_cast<double>(records);
  t0 = thread_cpu_seconds();
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (compressed[i].empty()) {  // goes as packed
      bytes += static_cast<double>(messages[i].size());
      continue;
    }
    bytes += static_cast<double>(compressed[i].size());
    auto back = decompress_body(compressed[i], messages[i].size(), dictionary);
    if (!back || *back != messages[i]) return std::nullopt;
  }
  f.decompress_us = (thread_cpu_seconds() - t0) * 1e6 / static_cast<double>(records);
  f.bytes_per_record = bytes / static_cast<double>(records);
  return f;
}

}  // namespace

std::optional<std::vector<CompressionFigure>> measure_compression(const std::filesystem::path& source,
                                                                  std::size_t records) {
  // The messages measured, then as many records again, one to a message, to
  // train the dictionary on (records it is not measured on).
  std::vector<std::string> messages, samples;
  std::size_t measured = 0;
  records = std::max<std::size_t>(1, records);
  msgpack::sbuffer one;
  Status read = for_each_record_message(source, kPerMessage, [&](const std::vector<lmdb::Entry>& batch,
                                                                 std::string_view message) {
    if (measured < records) {
      messages.emplace_back(message);
      measured += batch.size();
      return true;
    }
    for (const auto& e : batch) {
      one.clear();
      msgpack::packer<msgpack::sbuffer> pk(one);
      pk.pack_array(1);
      pk.pack_array(2);
      pk.pack_bin(static_cast<std::uint32_t>(e.key.size()));
      pk.pack_bin_body(e.key.data(), static_cast<std::uint32_t>(e.key.size()));
      pk.pack_bin(static_cast<std::uint32_t>(e.value.size()));
      pk.pack_bin_body(e.value.data(), static_cast<std::uint32_t>(e.value.size()));
      samples.emplace_back(one.data(), one.size());
    }
    return samples.size() < records;
  });
  if (!read) {
    std::fprintf(stderr, "compression: reading the records: %s\n", read.to_string().c_str());
    return std::nullopt;
  }
  if (measured == 0) return std::vector<CompressionFigure>{};
  const auto dictionary = CompressionDictionary::train(samples, kDictionaryBytes);
  struct Method {
    std::string name;
    int level;
    bool with_dictionary;
  };
  std::vector<Method> methods = {{"none", 0, false}, {"zstd -1", -1, false}, {"zstd 1", 1, false}, {"zstd 3", 3, false}};
  if (dictionary) methods.push_back({"zstd 1 + 16 KiB dictionary", 1, true});
  std::vector<CompressionFigure> out;
  for (const auto& m : methods) {
    auto f = measure(m.name, messages, measured, m.level, m.with_dictionary ? &*dictionary : nullptr);
    if (!f) {
      std::fprintf(stderr, "compression: %s: a message did not decompress to itself\n", m.name.c_str());
      return std::nullopt;
    }
    out.push_back(std::move(*f));
  }
  return out;
}

}  // namespace shopsync::bench
