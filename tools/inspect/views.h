// The inspector's views. Each one gathers what it shows into a JSON document
// whose shape is stable and documented (docs/inspector.md); the text and
// --watch renderings (render.h) are drawn from that same document, so a
// script and an operator always see the same facts.
//
// Every view can be built from a data directory (read-only, one read
// transaction per view: a consistent snapshot) or from a running node's local
// API (what the node tells; fields the API does not carry are null). The
// `source` member of each document says which.
//
// Errors: the store's or the API's Status (not_found for an unknown record,
// unavailable for a node that does not answer, corrupt for undecodable data).
// Thread-safety: none; one view at a time per DataDir / ApiClient.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "api/api_client.h"
#include "core/status.h"
#include "tools/inspect/data_dir.h"
#include "tools/inspect/strategy_book.h"
#include "tools/inspect/values.h"

namespace shopsync::inspect {

// Progress of a long operation: (done, total); total 0 when unknown.
using ProgressFn = std::function<void(std::string_view phase, std::uint64_t done, std::uint64_t total)>;

// What the inspector knows of the node beyond its store (from --config).
struct NodeFacts {
  std::optional<std::string> name;
  std::optional<std::string> role;  // "peer" | "uplink"
};

struct ViewContext {
  StrategyBook strategies;
  NodeFacts facts;
  std::uint64_t now_ms = 0;                              // the time ages are measured against
  std::uint64_t retention_ms = 7ull * 24 * 3600 * 1000;  // the node's tombstone retention
  std::uint64_t tolerance_ms = 1000;                     // newest_wins tolerance
  std::uint32_t limit = 100;                             // rows per listed section
  ProgressFn progress;                                   // may be empty
};

// A node to read from: a data dir or a local API client (exactly one set).
struct NodeRef {
  DataDir* dir = nullptr;
  api::ApiClient* api = nullptr;
  json source_json() const;  // {"kind": "data_dir", "path": ...} | {"kind": "api", "address": ...}
};

Result<json> summary_view(NodeRef node, const ViewContext& ctx);
Result<json> peers_view(NodeRef node, const ViewContext& ctx);
Result<json> record_view(NodeRef node, const RecordKey& key, const ViewContext& ctx);
Result<json> conflicts_view(NodeRef node, const ViewContext& ctx);
// Compares two nodes. `identical` in the result is true when both hold the
// same live versions and the same knowledge.
Result<json> diff_view(NodeRef a, NodeRef b, const ViewContext& ctx);

// Shared by the views: a sibling as JSON.
json version_json(const Version& v, const Dot* winner);

}  // namespace shopsync::inspect
