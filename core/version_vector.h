// A small text form of a version vector, for values the core keeps in the
// store's settings table: "<node hex>:<counter decimal>" entries joined by ','
// in node order ("" for the empty vector), the node as 16 hex digits.
// Example: "0000000000001a2b:17,000000000000ff00:3".
#pragma once

#include <string>
#include <string_view>

#include "storage/record.h"
#include "core/status.h"

namespace shopsync {

std::string knowledge_to_text(const VersionVector& vv);
// corrupt (naming the offending entry) when `text` is not in that form.
Result<VersionVector> knowledge_from_text(std::string_view text);

// The node id as 16 lowercase hex digits (settings keys, logs).
std::string node_hex(NodeId id);

}  // namespace shopsync
