// A version vector (node id -> counter), and its one text form.
//
// The text form is "<node id>:<counter>" entries (node_id_text, decimal)
// joined by ',' in node order, "" for the empty vector:
// "0000000000001a2b:17,000000000000ff00:3". The settings table keeps peers'
// knowledge in it (docs/storage-format.md) and the local API's change cursors
// are in it (docs/local-api.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/dot.h"
#include "core/node_id.h"
#include "core/status.h"

namespace shopsync {

// node id -> counter. Entries with counter 0 are never stored, so two vectors
// that mean the same compare equal. Kept sorted by node id (few entries).
class VersionVector {
 public:
  using Entry = std::pair<NodeId, std::uint64_t>;

  std::uint64_t get(NodeId node) const;
  bool covers(const Dot& dot) const { return dot.counter <= get(dot.origin); }
  // True when every entry of `other` is <= the matching entry here.
  bool covers(const VersionVector& other) const;
  // Raises the entry of dot.origin to at least dot.counter.
  void advance(const Dot& dot);
  void set(NodeId node, std::uint64_t counter);
  void join(const VersionVector& other);  // pointwise maximum

  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  bool operator==(const VersionVector&) const = default;

 private:
  std::vector<Entry> entries_;
};

std::string version_vector_text(const VersionVector& vv);

// The inverse of version_vector_text. A node named twice, an empty entry or a
// bad one is invalid_argument naming the entry.
Result<VersionVector> parse_version_vector(std::string_view text);

}  // namespace shopsync
