// A version vector (node id -> counter), and its one text form.
//
// The text form is "<node id>:<counter>" entries (node_id_text, decimal)
// joined by ',' in node order, "" for the empty vector:
// "0000000000001a2b:17,000000000000ff00:3". The settings table keeps peers'
// knowledge in it (docs/storage-format.md) and the local API's change cursors
// are in it (docs/local-api.md).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
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

  std::span<const Entry> entries() const {
    if (spilled_.empty()) return {inline_.data(), inline_count_};
    return spilled_;
  }
  bool empty() const { return entries().empty(); }
  bool operator==(const VersionVector& other) const { return std::ranges::equal(entries(), other.entries()); }

 private:
  void insert_at(std::size_t index, const Entry& entry);
  void erase_at(std::size_t index);
  Entry& at(std::size_t index) { return spilled_.empty() ? inline_[index] : spilled_[index]; }

  // Most vectors name one or two nodes (a record's context: the nodes that
  // wrote it). Those entries are held here, without an allocation; a third
  // moves them all to spilled_, which holds them from then on.
  static constexpr std::size_t kInline = 2;
  std::array<Entry, kInline> inline_{};
  std::size_t inline_count_ = 0;
  std::vector<Entry> spilled_;
};

std::string version_vector_text(const VersionVector& vv);

// The inverse of version_vector_text. A node named twice, an empty entry or a
// bad one is invalid_argument naming the entry.
Result<VersionVector> parse_version_vector(std::string_view text);

}  // namespace shopsync
