#include "replication/strategy.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <tuple>

#include "replication/hlc.h"

namespace shopsync {

namespace {

constexpr std::array<std::pair<StrategyKind, std::string_view>, 5> kNames{{
    {StrategyKind::newest_wins, "newest_wins"},
    {StrategyKind::server_wins, "server_wins"},
    {StrategyKind::client_wins, "client_wins"},
    {StrategyKind::merge, "merge"},
    {StrategyKind::manual, "manual"},
}};

// The total order newest_wins uses: updated_at, then node id, then counter.
// Because it is a total order on dots (a dot names one write), the maximum of
// a set does not depend on the order the set is visited in. The tolerance does
// not enter the order (a "within tolerance" relation is not transitive and
// would make the winner depend on the order); it only flags the result.
bool newer(const Version& a, const Version& b) {
  return std::tie(a.updated_at, a.dot.origin, a.dot.counter) > std::tie(b.updated_at, b.dot.origin, b.dot.counter);
}

struct Pick {
  const Version* winner = nullptr;
  bool near_simultaneous = false;
};

// Newest of the versions for which `eligible` holds; nullptr winner if none.
template <class Pred>
Pick newest(const std::vector<Version>& siblings, std::uint64_t tolerance_ms, Pred eligible) {
  const Version* first = nullptr;
  const Version* second = nullptr;
  for (const Version& v : siblings) {
    if (!eligible(v)) continue;
    if (first == nullptr || newer(v, *first)) {
      second = first;
      first = &v;
    } else if (second == nullptr || newer(v, *second)) {
      second = &v;
    }
  }
  Pick pick{first, false};
  if (first != nullptr && second != nullptr) {
    const std::uint64_t a = HybridClock::wall_ms(first->updated_at);
    const std::uint64_t b = HybridClock::wall_ms(second->updated_at);
    pick.near_simultaneous = (a >= b ? a - b : b - a) <= tolerance_ms;
  }
  return pick;
}

Pick newest_of_all(const std::vector<Version>& siblings, std::uint64_t tolerance_ms) {
  return newest(siblings, tolerance_ms, [](const Version&) { return true; });
}

// Newest among the preferred versions, or among all when none is preferred.
template <class Pred>
Pick prefer(const std::vector<Version>& siblings, std::uint64_t tolerance_ms, Pred preferred) {
  Pick pick = newest(siblings, tolerance_ms, preferred);
  return pick.winner != nullptr ? pick : newest_of_all(siblings, tolerance_ms);
}

Fields visible_fields(const Fields& fields) {
  Fields out;
  for (const auto& [name, field] : fields) {
    if (!field.removed()) out.emplace(name, field);
  }
  return out;
}

// Field by field over the live (non-tombstone) siblings: each field takes the
// value with the newest per-field stamp (ties by dot). A field changed on one
// side only has a newer stamp there than the untouched copy on the other side,
// so it is kept; a field changed on both sides takes the newest change.
Fields merge_fields(const std::vector<Version>& siblings, bool keep_markers) {
  struct Best {
    const Field* field;
    Dot dot;
  };
  std::map<std::string_view, Best> best;
  for (const Version& v : siblings) {
    if (v.deleted) continue;
    for (const auto& [name, field] : v.fields) {
      auto [it, inserted] = best.try_emplace(name, Best{&field, v.dot});
      if (!inserted && std::tie(field.stamp, v.dot) > std::tie(it->second.field->stamp, it->second.dot)) {
        it->second = Best{&field, v.dot};
      }
    }
  }
  Fields out;
  for (const auto& [name, b] : best) {
    if (keep_markers || !b.field->removed()) out.emplace(std::string(name), *b.field);
  }
  return out;
}

}  // namespace

std::string_view to_string(StrategyKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<StrategyKind> parse_strategy(std::string_view name) {
  for (const auto& [k, n] : kNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

bool is_open_conflict(StrategyKind kind, std::size_t sibling_count) {
  return kind == StrategyKind::manual && sibling_count > 1;
}

Outcome choose_visible(const std::vector<Version>& siblings, StrategyKind kind, std::uint64_t tolerance_ms) {
  assert(!siblings.empty());
  Pick pick;
  switch (kind) {
    case StrategyKind::server_wins:
      pick = prefer(siblings, tolerance_ms, [](const Version& v) { return v.uplink_origin; });
      break;
    case StrategyKind::client_wins:
      pick = prefer(siblings, tolerance_ms, [](const Version& v) { return !v.uplink_origin; });
      break;
    case StrategyKind::newest_wins:
    case StrategyKind::merge:
    case StrategyKind::manual:
      pick = newest_of_all(siblings, tolerance_ms);
      break;
  }
  if (pick.winner == nullptr) return {};  // no siblings (excluded by REQUIRES)
  const Version& w = *pick.winner;
  Outcome out;
  out.winner = w.dot;
  out.updated_at = w.updated_at;
  out.deleted = w.deleted;
  out.uplink_origin = w.uplink_origin;
  out.near_simultaneous = pick.near_simultaneous;
  out.conflicted = is_open_conflict(kind, siblings.size());
  if (!w.deleted) {
    // A delete that is the newest version wins under `merge` too: merging the
    // fields of a record someone deleted afterwards would resurrect it.
    out.fields = kind == StrategyKind::merge && siblings.size() > 1 ? merge_fields(siblings, false) : visible_fields(w.fields);
  }
  return out;
}

}  // namespace shopsync

namespace shopsync {

Fields base_fields(const std::vector<Version>& siblings, StrategyKind kind, std::uint64_t tolerance_ms) {
  if (siblings.empty()) return {};
  const Outcome outcome = choose_visible(siblings, kind, tolerance_ms);
  if (outcome.deleted) return {};
  if (kind == StrategyKind::merge && siblings.size() > 1) return merge_fields(siblings, true);
  for (const Version& v : siblings) {
    if (v.dot == outcome.winner) return v.fields;
  }
  return {};
}

}  // namespace shopsync
