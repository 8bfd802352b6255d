// Records whose stored bytes do not decode: written by an older build with
// looser limits, or damaged on disk. One such record must never stop anything
// else, so a scan skips it and notes it here, and a write over it replaces it
// (StoreReader::stored_dots). The node logs each one once, counts them in
// /metrics and lists them in its status (doctor, inspector).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "storage/record.h"

namespace shopsync {

class UnreadableRecords {
 public:
  struct Entry {
    RecordKey key;
    std::string reason;            // what the decoder said
    std::vector<NodeId> origins;   // the nodes whose writes it holds (empty when even the dots are unreadable)
  };

  // Remembers at most this many records; more are only counted.
  static constexpr std::size_t kMaxRemembered = 10'000;

  // A record was found unreadable. The first sighting of a key queues it for
  // take_new(); later ones change nothing.
  void note(Entry entry);
  // The record was overwritten or deleted.
  void forget(const RecordKey& key);

  std::vector<Entry> list() const;  // in key order
  // Unreadable records seen and not since replaced (remembered or not).
  std::size_t count() const;
  // The records noted for the first time since the last call.
  std::vector<Entry> take_new();

 private:
  mutable std::mutex mutex_;
  std::map<RecordKey, Entry> entries_;
  std::vector<RecordKey> new_;
  std::size_t not_remembered_ = 0;
};

}  // namespace shopsync
