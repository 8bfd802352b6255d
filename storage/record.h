// The data model that shopsync stores and replicates (DESIGN.md, "Data model").
//
// These are plain value types: the on-disk and on-wire shape of a record and its
// causal history (node ids, dots and version vectors come from core/). The
// algorithms over them (merge, strategies, clocks) live in replication/; the
// codec in storage/record_codec.h. They sit in the bottom layer because both
// the store and the wire carry them.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/dot.h"
#include "core/node_id.h"
#include "core/status.h"
#include "core/version_vector.h"

namespace shopsync {

// Hybrid logical clock reading: wall-clock milliseconds since the Unix epoch in
// the high 48 bits, a logical counter in the low 16. Totally ordered.
using Hlc = std::uint64_t;

// One field of a version: its MessagePack-encoded value and the HLC at which it
// was last changed (the per-field stamp the `merge` strategy uses). An empty
// `packed` marks a field removed at `stamp`.
struct Field {
  std::string packed;
  Hlc stamp = 0;
  bool removed() const { return packed.empty(); }
  bool operator==(const Field&) const = default;
};

using Fields = std::map<std::string, Field, std::less<>>;

// One state of a record, written at one node.
struct Version {
  Dot dot;
  Hlc updated_at = 0;
  bool deleted = false;        // a tombstone
  bool uplink_origin = false;  // written at a node whose role is uplink
  Fields fields;
  bool operator==(const Version&) const = default;
};

// What a node holds for one record: its siblings (usually one) and the causal
// context, which covers every sibling's dot.
struct RecordState {
  std::vector<Version> siblings;
  VersionVector context;
  bool operator==(const RecordState&) const = default;
};

struct RecordKey {
  std::string collection;
  std::string id;
  auto operator<=>(const RecordKey&) const = default;
};

// Limits of DESIGN.md. Each returns an invalid_argument naming the rule broken.
inline constexpr std::size_t kMaxCollectionName = 64;
inline constexpr std::size_t kMaxRecordId = 256;
inline constexpr std::size_t kDefaultMaxRecordBytes = 1 << 20;

Status validate_collection_name(std::string_view name);  // [a-z][a-z0-9_]{0,63}
Status validate_record_id(std::string_view id);          // 1..256 bytes of UTF-8
Status validate_key(const RecordKey& key);

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view s);

}  // namespace shopsync
