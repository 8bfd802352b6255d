// Numbered batches of records, written by one process and checked by another
// (the crash test and the concurrent-reader test). Batch b holds
// batch_size(b) records "b<b>-<i>" in collection "batch", each with its own
// dot (origin kBatchOrigin, a global counter), and sets settings/last_batch to
// b, all in one transaction. So a snapshot is consistent exactly when it holds
// every record of batches 0..last_batch and nothing else.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "storage/key_codec.h"
#include "storage/store.h"
#include "tests/storage/samples.h"

namespace shopsync::test {

inline constexpr NodeId kBatchOrigin = 0xBA7C;
inline constexpr std::string_view kBatchCollection = "batch";
inline constexpr std::string_view kLastBatchKey = "last_batch";

inline std::uint64_t batch_size(std::uint64_t b) { return 1 + (b * 7919) % 97; }

// Records in batches 0..b-1.
inline std::uint64_t records_before(std::uint64_t b) {
  std::uint64_t n = 0;
  for (std::uint64_t i = 0; i < b; ++i) n += batch_size(i);
  return n;
}

inline std::string batch_record_id(std::uint64_t b, std::uint64_t i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "b%08llu-%04llu", static_cast<unsigned long long>(b),
                static_cast<unsigned long long>(i));
  return buf;
}

inline Status write_batch(StoreWriter& w, std::uint64_t b) {
  const std::uint64_t first = records_before(b);
  for (std::uint64_t i = 0; i < batch_size(b); ++i) {
    const std::string id = batch_record_id(b, i);
    SHOPSYNC_TRY(w.put_record({std::string(kBatchCollection), id},
                              simple_state({kBatchOrigin, first + i + 1}, id + std::string(200, '.'))));
  }
  return w.put(Table::settings, kLastBatchKey, keys::view(keys::u64(b)));
}

// The last batch a snapshot holds (nullopt: none), or a failure describing
// how the snapshot breaks the all-or-nothing rule.
inline Result<std::optional<std::uint64_t>> check_batches(StoreReader& r) {
  auto last = r.get(Table::settings, kLastBatchKey);
  if (!last) return last.status();
  std::optional<std::uint64_t> l;
  if (last->has_value()) l = keys::get_be64((*last)->data());
  const std::uint64_t batches = l ? *l + 1 : 0;
  std::uint64_t b = 0;
  std::uint64_t i = 0;
  std::uint64_t base = 0;  // records_before(b), kept incrementally
  std::uint64_t seen = 0;
  std::string problem;
  Status st = r.for_each_record(kBatchCollection, "", [&](const RecordKey& key, const RecordState& state) {
    while (b < batches && i == batch_size(b)) {
      base += batch_size(b);
      ++b;
      i = 0;
    }
    if (b >= batches || key.id != batch_record_id(b, i) || state.siblings.size() != 1 ||
        state.siblings[0].dot.counter != base + i + 1) {
      problem = "unexpected record " + key.id + " (expected batch " + std::to_string(b) + " item " +
                std::to_string(i) + " of " + std::to_string(batches) + " batches)";
      return Scan::stop;
    }
    ++i;
    ++seen;
    return Scan::next;
  });
  if (!st) return st;
  if (!problem.empty()) return Status::corrupt(problem);
  if (const std::uint64_t expected = records_before(batches); seen != expected) {
    return Status::corrupt("holds " + std::to_string(seen) + " records, batches 0.." + std::to_string(batches) +
                           " have " + std::to_string(expected));
  }
  std::uint64_t indexed = 0;
  SHOPSYNC_TRY(r.for_each_change(kBatchOrigin, 0, [&](std::uint64_t, const RecordKey&) {
    ++indexed;
    return Scan::next;
  }));
  if (indexed != seen) {
    return Status::corrupt("change index has " + std::to_string(indexed) + " entries for " + std::to_string(seen) +
                           " records");
  }
  return l;
}

}  // namespace shopsync::test
