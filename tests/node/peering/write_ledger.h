// What the writes of a simulated run must come to when data directories go
// back to older copies or leave (docs/replication.md, "What a restore
// loses"): every write is seen at the end, held or superseded by a write that
// saw it, unless its only copy went; and no version that a kept write
// superseded shows again (no deleted record comes back).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "storage/record.h"

namespace shopsync::peering_sim {

class WriteLedger {
 public:
  struct Write {
    RecordKey key;
    Dot dot;
    VersionVector superseded;  // the record's context where it was written
    bool deleted = false;
    bool discarded = false;    // only a store restored or gone for good held it
  };
  // The state of a record in a store, if it holds one.
  using Lookup = std::function<std::optional<RecordState>(const RecordKey&)>;

  void add(Write w) { writes_.push_back(std::move(w)); }

  // A store goes back to an older copy, or leaves with its node for good: a
  // write that no store the cluster keeps has seen (`kept`: the copy and
  // every other node's store) is gone for good. Returns how many went.
  std::uint64_t drop_store(const std::vector<Lookup>& kept) {
    std::uint64_t gone = 0;
    for (Write& w : writes_) {
      if (w.discarded) continue;
      bool seen = false;
      for (const Lookup& store : kept) {
        const auto state = store(w.key);
        if (state && state->context.covers(w.dot)) seen = true;
      }
      if (!seen) {
        w.discarded = true;
        ++gone;
      }
    }
    return gone;
  }

  // "" or what broke, given the state all nodes agree on at the end.
  std::string check(const Lookup& final_state) const {
    for (const Write& w : writes_) {
      if (w.discarded) continue;
      const auto state = final_state(w.key);
      if (!state || !state->context.covers(w.dot)) return describe(w) + " is lost";
      for (const Version& v : state->siblings) {
        if (w.superseded.covers(v.dot)) {
          return "version " + dot_text(v.dot) + (v.deleted ? " (a tombstone)" : "") + " of " + w.key.id +
                 " shows again, though " + describe(w) + " superseded it";
        }
      }
    }
    return {};
  }

  std::uint64_t discarded() const {
    std::uint64_t n = 0;
    for (const Write& w : writes_) n += w.discarded ? 1 : 0;
    return n;
  }

 private:
  static std::string dot_text(const Dot& d) { return std::to_string(d.origin) + ":" + std::to_string(d.counter); }
  static std::string describe(const Write& w) {
    return std::string(w.deleted ? "the delete " : "the write ") + dot_text(w.dot) + " of " + w.key.id;
  }

  std::vector<Write> writes_;
};

}  // namespace shopsync::peering_sim
