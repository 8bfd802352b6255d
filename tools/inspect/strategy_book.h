// Which conflict strategy the node applies to each collection, as far as the
// inspector can tell from outside the daemon.
//
// The strategies are shopsyncd's configuration, not stored data, so they come,
// in order of precedence, from:
//   "configured"    --strategy flags, then the node's config file (--config)
//   "conflict_log"  the strategy the node wrote in its latest conflict-log
//                   entry for that collection
//   "default"       newest_wins
// Every view that shows a visible value names the source, so an operator knows
// when the value shown is a guess.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "core/status.h"
#include "replication/strategy.h"

namespace shopsync::inspect {

class StrategyBook {
 public:
  // invalid_argument naming an unknown strategy.
  static Result<StrategyBook> make(const std::map<std::string, std::string>& configured);

  // Learns from one conflict-log entry (call in log order: the latest wins).
  void learn(const std::string& collection, std::string_view strategy);

  StrategyKind kind(std::string_view collection) const;
  std::string_view source(std::string_view collection) const;

 private:
  std::map<std::string, StrategyKind, std::less<>> configured_;
  std::map<std::string, StrategyKind, std::less<>> logged_;
};

}  // namespace shopsync::inspect
