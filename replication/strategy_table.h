// A node's strategy table: the conflict strategy of each collection named,
// the default for the others and the newest_wins tolerance. The visible value
// of a record depends on it, so every node of a cluster must apply the same
// table: nodes compare tables at HELLO and refuse a peer whose table differs
// (docs/wire-format.md, "HELLO"), and the inspector's diff compares the tables
// two nodes last ran with (docs/inspector.md).
//
// The text form is canonical (one table, one text) and readable:
//   "*=newest_wins *tolerance_ms=1000 orders=manual stock=merge"
// space-separated KEY=VALUE, `*` the default strategy, `*tolerance_ms` the
// tolerance, then the collections whose strategy is not the default, in name
// order. A collection name never starts with `*`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "replication/strategy.h"

namespace shopsync {

struct StrategyTable {
  std::map<std::string, StrategyKind, std::less<>> collections;
  StrategyKind default_kind = StrategyKind::newest_wins;
  std::uint64_t tolerance_ms = kDefaultToleranceMs;
};

// The canonical text. A collection given the default strategy is left out:
// tables that choose alike have one text (compare tables by it).
std::string to_text(const StrategyTable& table);

// The settings key (storage Table::settings) under which a node keeps the
// text of the table it runs with, for the inspector.
inline constexpr std::string_view kStrategiesSetting = "replication/strategies";
// nullopt when `text` is not a table's text form.
std::optional<StrategyTable> parse_strategy_table(std::string_view text);
// 16 lower-case hex digits (FNV-1a 64 of the text form): equal tables have
// equal digests; it identifies a table, it does not protect anything.
std::string strategy_digest(const StrategyTable& table);
// What differs, for people: "stock: merge on A, newest_wins on B; default:
// ..." naming each side; "" when the tables are equal.
std::string strategy_difference(const StrategyTable& a, const StrategyTable& b, std::string_view a_name,
                                std::string_view b_name);

}  // namespace shopsync
