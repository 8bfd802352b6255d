// What this machine can do for an initial sync, measured with the same
// records, for `shopsync-bench sync` to print its ratio: a sender thread reads
// the records of a node's LMDB environment raw (no decoding), packs them 1000
// to a MessagePack message and sends them over ZeroMQ with CURVE on loopback;
// a receiver thread unpacks each message and writes its records into a fresh
// LMDB environment, one write transaction per message (fsynced or not, as the
// nodes' --durability). No causality, no merge, no change index: the floor of
// work any replication of these bytes must do. With compression_level, each
// message is compressed with zstd as a node compresses a frame body and
// decompressed by the receiver: what compression costs or saves end to end.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "storage/lmdb.h"

namespace shopsync::bench {

struct CeilingOptions {
  std::filesystem::path source;  // a node's data directory (not written while this runs)
  std::filesystem::path target;  // a new directory for the receiver's environment
  bool sync_each_commit = true;
  std::uint16_t port = 0;         // on 127.0.0.1
  std::size_t records_per_message = 1000;
  int compression_level = 0;  // 0: messages travel as packed; else zstd at this level
};

struct CeilingResult {
  std::uint64_t records = 0;
  std::uint64_t value_bytes = 0;  // the stored records' bytes (their keys left out)
  std::uint64_t message_bytes = 0;  // the messages sent, compressed when they were
  double seconds = 0;  // from the first read to the last commit
  double cpu_seconds = 0;  // this process's CPU (every thread) meanwhile
  double records_per_s() const { return seconds > 0 ? static_cast<double>(records) / seconds : 0; }
};

// Reads the records of the data directory `source` raw, in key order, and
// calls `take` with each run of `per_message` of them (the last one shorter)
// and the message packing them as the ceiling sends it: an array of
// [key bin, value bin]. Stops early when `take` returns false. The entries
// are valid during the call only.
using TakeMessage = std::function<bool(const std::vector<lmdb::Entry>& records, std::string_view message)>;
Status for_each_record_message(const std::filesystem::path& source, std::size_t per_message, const TakeMessage& take);

// nullopt after a line on stderr naming the failing step.
std::optional<CeilingResult> measure_sync_ceiling(const CeilingOptions& options);

}  // namespace shopsync::bench
