// A node's identity and its one text form.
//
// The text form is 16 lowercase hex digits ("00000000deadbeef"): logs, the
// settings keys of the store, the peers table, the local API, JSON, metrics
// and DNS-SD TXT records all write it, and parse_node_id is the one reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace shopsync {

// A node's stable identity: 64 random bits chosen at first start.
using NodeId = std::uint64_t;

inline constexpr std::size_t kNodeIdTextLength = 16;

// 16 lowercase hex digits, zero-padded.
std::string node_id_text(NodeId id);

// The inverse of node_id_text: exactly 16 hex digits, lowercase. Anything else
// is invalid_argument quoting the text ("not a node id (16 lowercase hex
// digits): 'A1'").
Result<NodeId> parse_node_id(std::string_view text);

}  // namespace shopsync
