// Conflict strategies (DESIGN.md, "Strategies"): how the visible value of a
// record is chosen from its sibling set.
//
// The visible value is a pure, deterministic function of the sibling set, the
// collection's strategy and the tolerance: it does not depend on the order of
// the siblings, on the node computing it or on the time, so every node that
// holds the same siblings shows the same value without talking. (uplink_origin
// is stored in each Version at write time for the same reason.)
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "storage/record.h"

namespace shopsync {

enum class StrategyKind {
  newest_wins,  // highest updated_at (HLC), ties by node id then counter
  server_wins,  // a version written at an uplink wins, else newest_wins
  client_wins,  // a version written at a branch wins over an uplink's, else newest_wins
  merge,        // field by field, newest per-field stamp
  manual,       // newest_wins value, marked conflicted until resolved by hand
};

inline constexpr std::uint64_t kDefaultToleranceMs = 1000;

std::string_view to_string(StrategyKind kind);
// "newest_wins", "server_wins", "client_wins", "merge", "manual"; nullopt otherwise.
std::optional<StrategyKind> parse_strategy(std::string_view name);

// What one strategy makes of a sibling set.
struct Outcome {
  Dot winner;                      // the winning sibling (for `merge`: the newest_wins one)
  Fields fields;                   // visible fields (removed-field markers dropped)
  Hlc updated_at = 0;              // of the winner (for `merge`: the newest sibling)
  bool deleted = false;            // the visible state is a tombstone
  bool uplink_origin = false;      // of the winner
  bool near_simultaneous = false;  // the two newest siblings are within the tolerance
  bool conflicted = false;         // is_open_conflict()
  bool operator==(const Outcome&) const = default;
};

// An open conflict: a record left with several siblings for a person to
// choose from, which only `manual` does (every other strategy settles the
// visible value itself; its losing siblings stay until a write supersedes
// them, and the conflict log keeps them). `shopsync status`, `shopsync
// conflicts` and shopsync-inspect all count this (docs/cli.md).
bool is_open_conflict(StrategyKind kind, std::size_t sibling_count);

// REQUIRES: !siblings.empty(). Any order of the siblings gives the same Outcome.
Outcome choose_visible(const std::vector<Version>& siblings, StrategyKind kind,
                       std::uint64_t tolerance_ms = kDefaultToleranceMs);

// The fields a local write starts from: what choose_visible shows, but with
// the removed-field markers kept (so a later field-by-field merge still knows
// a field was removed, and when). Empty when the visible state is a tombstone.
Fields base_fields(const std::vector<Version>& siblings, StrategyKind kind,
                   std::uint64_t tolerance_ms = kDefaultToleranceMs);

}  // namespace shopsync
