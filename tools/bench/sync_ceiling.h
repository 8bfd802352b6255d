// What this machine can do for an initial sync, measured with the same
// records, for `shopsync-bench sync` to print its ratio: a sender thread reads
// the records of a node's LMDB environment raw (no decoding), packs them 1000
// to a MessagePack message and sends them over ZeroMQ with CURVE on loopback;
// a receiver thread unpacks each message and writes its records into a fresh
// LMDB environment, one write transaction per message (fsynced or not, as the
// nodes' --durability). No causality, no merge, no change index: the floor of
// work any replication of these bytes must do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

namespace shopsync::bench {

struct CeilingOptions {
  std::filesystem::path source;  // a node's data directory (not written while this runs)
  std::filesystem::path target;  // a new directory for the receiver's environment
  bool sync_each_commit = true;
  std::uint16_t port = 0;         // on 127.0.0.1
  std::size_t records_per_message = 1000;
};

struct CeilingResult {
  std::uint64_t records = 0;
  std::uint64_t value_bytes = 0;  // the stored records' bytes (their keys left out)
  double seconds = 0;  // from the first read to the last commit
  double records_per_s() const { return seconds > 0 ? static_cast<double>(records) / seconds : 0; }
};

// nullopt after a line on stderr naming the failing step.
std::optional<CeilingResult> measure_sync_ceiling(const CeilingOptions& options);

}  // namespace shopsync::bench
