// Fills a node's data directory with many records at once, for benchmarks and
// tests of large syncs (shopsync-bench sync, tests/node). Not used by the
// daemon itself.
//
// The result is exactly what a node would hold after `count` local writes,
// one new record each: every record has one version with dot (writer, i) under
// a writer id drawn for this call (docs/replication.md, "Writer ids"), the
// change index has every dot, and the node meta's counter, knowledge and clock
// cover them. It is written in large transactions rather than one per write,
// which is what makes a million records take seconds instead of minutes.
//
// REQUIRES: no process has the data directory open.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "core/status.h"
#include "storage/record.h"

namespace shopsync {

struct SeedOptions {
  std::string cluster = "default";
  std::string collection = "bench";
  std::size_t count = 0;
  std::size_t first = 0;              // ids are "<prefix><first + i>", zero-padded to 9 digits
  std::string id_prefix = "R";
  std::size_t records_per_transaction = 20000;
  std::size_t payload_bytes = 64;     // size of the "payload" string field
  // When set, the fields of record `first + i`, each stamped `at`, instead of
  // the "payload" and "n" fields (shopsync-bench sync seeds CRM-shaped records).
  std::function<Fields(std::size_t n, Hlc at)> fields;
};

// Returns the node id of the data directory (created when new).
Result<NodeId> seed_records(const std::filesystem::path& data_dir, const SeedOptions& options);

}  // namespace shopsync
