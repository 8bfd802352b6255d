// What zstd does to the sync's batches of these records: bytes per record
// and the CPU to compress and decompress them, per level and with a
// dictionary, for `shopsync-bench sync` to print next to the end-to-end
// ceiling with and without compression (sync_ceiling.h).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace shopsync::bench {

struct CompressionFigure {
  std::string method;  // "none", "zstd 1", "zstd 1 + 16 KiB dictionary", ...
  double bytes_per_record = 0;
  double compress_us = 0;    // CPU per record, one thread
  double decompress_us = 0;  // CPU per record, one thread
};

// Packs the first `records` records of the data directory `source` 1000 to a
// message as the ceiling does and times each method on them. nullopt after a
// line on stderr naming the failing step.
std::optional<std::vector<CompressionFigure>> measure_compression(const std::filesystem::path& source,
                                                                  std::size_t records);

}  // namespace shopsync::bench
