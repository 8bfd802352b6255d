// What a configuration asks of the node beyond its plain settings: the keys
// it trusts, its strategy table, and what a reload cannot change.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "node/config.h"
#include "node/trusted_keys.h"
#include "replication/strategy_table.h"

namespace shopsync {

// The keys a configuration names (--trust, --peer KEY@..., --uplink KEY@...),
// each with the note it is stored under in the trusted-key list.
std::vector<TrustedKeyRow> configured_keys(const NodeConfig& config, std::uint64_t now_ms);
// The keys of `rows`.
std::set<std::string> keys_of(const std::vector<TrustedKeyRow>& rows);
// The strategy table a configuration asks for; invalid_argument for an
// unknown strategy.
Result<StrategyTable> strategy_table_of(const NodeConfig& config);
// The options that differ between `running` and `fresh` but take effect at
// the next restart only ("peer", "listen", ...).
std::vector<std::string> restart_only_changes(const NodeConfig& running, const NodeConfig& fresh);

}  // namespace shopsync
