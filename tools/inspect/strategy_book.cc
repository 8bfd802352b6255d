#include "tools/inspect/strategy_book.h"

namespace shopsync::inspect {

Result<StrategyBook> StrategyBook::make(const std::map<std::string, std::string>& configured) {
  StrategyBook book;
  for (const auto& [collection, name] : configured) {
    auto kind = parse_strategy(name);
    if (!kind) {
      return Status::invalid("unknown strategy '" + name + "' for collection '" + collection +
                             "' (newest_wins, server_wins, client_wins, merge, manual)");
    }
    book.configured_[collection] = *kind;
  }
  return book;
}

void StrategyBook::learn(const std::string& collection, std::string_view strategy) {
  if (auto kind = parse_strategy(strategy)) logged_[collection] = *kind;
}

StrategyKind StrategyBook::kind(std::string_view collection) const {
  if (auto it = configured_.find(collection); it != configured_.end()) return it->second;
  if (auto it = logged_.find(collection); it != logged_.end()) return it->second;
  return StrategyKind::newest_wins;
}

std::string_view StrategyBook::source(std::string_view collection) const {
  if (configured_.count(collection)) return "configured";
  if (logged_.count(collection)) return "conflict_log";
  return "default";
}

}  // namespace shopsync::inspect
