#include "replication/strategy_table.h"

#include <cstdio>
#include <set>

namespace shopsync {

namespace {

constexpr std::string_view kDefaultKey = "*";
constexpr std::string_view kToleranceKey = "*tolerance_ms";

std::optional<std::uint64_t> parse_uint(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

std::string to_text(const StrategyTable& table) {
  std::string out = std::string(kDefaultKey) + "=" + std::string(to_string(table.default_kind)) + " " +
                    std::string(kToleranceKey) + "=" + std::to_string(table.tolerance_ms);
  for (const auto& [collection, kind] : table.collections) {
    if (kind != table.default_kind) out += " " + collection + "=" + std::string(to_string(kind));
  }
  return out;
}

std::optional<StrategyTable> parse_strategy_table(std::string_view text) {
  StrategyTable table;
  bool have_default = false, have_tolerance = false;
  while (!text.empty()) {
    const std::size_t end = text.find(' ');
    const std::string_view item = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    const std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key == kToleranceKey) {
      auto ms = parse_uint(value);
      if (!ms || have_tolerance) return std::nullopt;
      table.tolerance_ms = *ms;
      have_tolerance = true;
      continue;
    }
    auto kind = parse_strategy(value);
    if (!kind) return std::nullopt;
    if (key == kDefaultKey) {
      if (have_default) return std::nullopt;
      table.default_kind = *kind;
      have_default = true;
    } else if (key.front() == '*' || !table.collections.emplace(std::string(key), *kind).second) {
      return std::nullopt;
    }
  }
  if (!have_default || !have_tolerance) return std::nullopt;
  return table;
}

std::string strategy_digest(const StrategyTable& table) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : to_text(table)) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

std::string strategy_difference(const StrategyTable& a, const StrategyTable& b, std::string_view a_name,
                                std::string_view b_name) {
  std::string out;
  auto add = [&](std::string_view what, std::string_view in_a, std::string_view in_b) {
    out += (out.empty() ? "" : "; ") + std::string(what) + ": " + std::string(in_a) + " on " + std::string(a_name) +
           ", " + std::string(in_b) + " on " + std::string(b_name);
  };
  std::set<std::string, std::less<>> names;
  for (const auto& [c, k] : a.collections) names.insert(c);
  for (const auto& [c, k] : b.collections) names.insert(c);
  for (const auto& name : names) {
    auto ia = a.collections.find(name);
    auto ib = b.collections.find(name);
    const StrategyKind ka = ia == a.collections.end() ? a.default_kind : ia->second;
    const StrategyKind kb = ib == b.collections.end() ? b.default_kind : ib->second;
    if (ka != kb) add(name, to_string(ka), to_string(kb));
  }
  if (a.default_kind != b.default_kind) add("other collections", to_string(a.default_kind), to_string(b.default_kind));
  if (a.tolerance_ms != b.tolerance_ms) {
    add("newest_wins tolerance", std::to_string(a.tolerance_ms) + " ms", std::to_string(b.tolerance_ms) + " ms");
  }
  return out;
}

}  // namespace shopsync
