// Conflict strategies: what each shows, and that the result does not depend
// on the order of the siblings (property test).
#include "replication/strategy.h"

#include <algorithm>
#include <random>

#include <boost/test/unit_test.hpp>

#include "replication/hlc.h"
#include "tests/replication/support/values.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

constexpr std::uint64_t kSecond = 1000;

Hlc at_ms(std::uint64_t ms, std::uint64_t logical = 0) { return HybridClock::make(ms, logical); }

Version v(NodeId node, std::uint64_t counter, Hlc updated_at, bool uplink = false) {
  Version out;
  out.dot = Dot{node, counter};
  out.updated_at = updated_at;
  out.uplink_origin = uplink;
  out.fields["who"] = Field{packed(static_cast<std::uint64_t>(node)), updated_at};
  return out;
}

BOOST_AUTO_TEST_SUITE(strategy)

BOOST_AUTO_TEST_CASE(names_round_trip) {
  for (auto k : {StrategyKind::newest_wins, StrategyKind::server_wins, StrategyKind::client_wins, StrategyKind::merge,
                 StrategyKind::manual}) {
    BOOST_TEST((parse_strategy(to_string(k)) == k));
  }
  BOOST_TEST(!parse_strategy("oldest_wins").has_value());
}

BOOST_AUTO_TEST_CASE(newest_wins_takes_the_highest_timestamp) {
  const auto o = choose_visible({v(1, 1, at_ms(10 * kSecond)), v(2, 1, at_ms(20 * kSecond))}, StrategyKind::newest_wins);
  BOOST_TEST(o.winner.origin == 2u);
  BOOST_TEST(!o.near_simultaneous);
  BOOST_TEST(!o.conflicted);
}

BOOST_AUTO_TEST_CASE(newest_wins_within_tolerance_is_flagged_and_tie_broken_deterministically) {
  // 400 ms apart: near-simultaneous; the later HLC still wins.
  auto o = choose_visible({v(9, 1, at_ms(1000)), v(2, 1, at_ms(1400))}, StrategyKind::newest_wins);
  BOOST_TEST(o.winner.origin == 2u);
  BOOST_TEST(o.near_simultaneous);
  // Same HLC: the higher node id wins.
  o = choose_visible({v(9, 1, at_ms(1000)), v(2, 1, at_ms(1000))}, StrategyKind::newest_wins);
  BOOST_TEST(o.winner.origin == 9u);
  BOOST_TEST(o.near_simultaneous);
  // A custom tolerance.
  o = choose_visible({v(9, 1, at_ms(1000)), v(2, 1, at_ms(1400))}, StrategyKind::newest_wins, 100);
  BOOST_TEST(!o.near_simultaneous);
}

BOOST_AUTO_TEST_CASE(server_wins_prefers_the_uplink_version) {
  auto o = choose_visible({v(1, 1, at_ms(1000), true), v(2, 1, at_ms(90'000))}, StrategyKind::server_wins);
  BOOST_TEST(o.winner.origin == 1u);
  BOOST_TEST(o.uplink_origin);
  // No uplink version: newest wins.
  o = choose_visible({v(1, 1, at_ms(1000)), v(2, 1, at_ms(90'000))}, StrategyKind::server_wins);
  BOOST_TEST(o.winner.origin == 2u);
}

BOOST_AUTO_TEST_CASE(client_wins_prefers_the_branch_version) {
  auto o = choose_visible({v(1, 1, at_ms(1000)), v(2, 1, at_ms(90'000), true)}, StrategyKind::client_wins);
  BOOST_TEST(o.winner.origin == 1u);
  o = choose_visible({v(1, 1, at_ms(1000), true), v(2, 1, at_ms(90'000), true)}, StrategyKind::client_wins);
  BOOST_TEST(o.winner.origin == 2u);
}

BOOST_AUTO_TEST_CASE(merge_takes_each_field_from_its_newest_change) {
  // Common ancestor had name@1, city@1, tier@1. a changed city@5 and tier@5;
  // b changed name@7 and tier@8 and removed note@8.
  Version a = v(1, 2, at_ms(5000));
  a.fields = {{"name", {packed("Ana"), at_ms(1000)}},
              {"city", {packed("Paris"), at_ms(5000)}},
              {"tier", {packed(2), at_ms(5000)}},
              {"note", {packed("x"), at_ms(1000)}}};
  Version b = v(2, 1, at_ms(8000));
  b.fields = {{"name", {packed("Anna"), at_ms(7000)}},
              {"city", {packed("Lyon"), at_ms(1000)}},
              {"tier", {packed(3), at_ms(8000)}},
              {"note", {"", at_ms(8000)}}};
  const auto o = choose_visible({a, b}, StrategyKind::merge);
  BOOST_TEST(o.fields.at("name").packed == packed("Anna"));
  BOOST_TEST(o.fields.at("city").packed == packed("Paris"));
  BOOST_TEST(o.fields.at("tier").packed == packed(3));
  BOOST_TEST(o.fields.count("note") == 0u);
  // base_fields keeps the removal marker for the next local write.
  const Fields base = base_fields({a, b}, StrategyKind::merge);
  BOOST_TEST(base.at("note").removed());
}

BOOST_AUTO_TEST_CASE(a_newer_delete_wins_even_under_merge) {
  Version del = v(2, 1, at_ms(9000));
  del.deleted = true;
  del.fields.clear();
  for (auto kind : {StrategyKind::merge, StrategyKind::newest_wins, StrategyKind::manual}) {
    const auto o = choose_visible({v(1, 1, at_ms(1000)), del}, kind);
    BOOST_TEST(o.deleted);
    BOOST_TEST(o.fields.empty());
  }
  const auto o = choose_visible({v(1, 1, at_ms(10'000)), del}, StrategyKind::merge);
  BOOST_TEST(!o.deleted);
}

BOOST_AUTO_TEST_CASE(manual_shows_newest_and_marks_conflicted) {
  auto o = choose_visible({v(1, 1, at_ms(1000)), v(2, 1, at_ms(5000))}, StrategyKind::manual);
  BOOST_TEST(o.conflicted);
  BOOST_TEST(o.winner.origin == 2u);
  o = choose_visible({v(1, 1, at_ms(1000))}, StrategyKind::manual);
  BOOST_TEST(!o.conflicted);
}

// Random sibling sets with frequent ties (same timestamps, same stamps,
// uplink flags, tombstones, removed fields): every order gives one Outcome.
BOOST_AUTO_TEST_CASE(every_strategy_ignores_sibling_order) {
  const auto seed = test_seed();
  std::mt19937_64 rng(seed);
  int checked = 0;
  for (int round = 0; round < 2000; ++round) {
    std::vector<Version> siblings;
    const int n = 2 + static_cast<int>(rng() % 5);
    for (int i = 0; i < n; ++i) {
      Version s;
      s.dot = Dot{1 + rng() % 4, 1 + static_cast<std::uint64_t>(i)};
      s.updated_at = at_ms(rng() % 3000, rng() % 2);
      s.uplink_origin = rng() % 3 == 0;
      s.deleted = rng() % 5 == 0;
      if (!s.deleted) {
        for (const char* f : {"a", "b", "c"}) {
          if (rng() % 2) s.fields[f] = Field{rng() % 4 == 0 ? std::string() : packed(static_cast<std::uint64_t>(rng() % 9)), at_ms(rng() % 3000)};
        }
      }
      siblings.push_back(s);
    }
    for (auto kind : {StrategyKind::newest_wins, StrategyKind::server_wins, StrategyKind::client_wins,
                      StrategyKind::merge, StrategyKind::manual}) {
      const Outcome first = choose_visible(siblings, kind);
      const Fields base = base_fields(siblings, kind);
      for (int k = 0; k < 6; ++k) {
        std::vector<Version> shuffled = siblings;
        std::shuffle(shuffled.begin(), shuffled.end(), rng);
        BOOST_REQUIRE_MESSAGE(choose_visible(shuffled, kind) == first,
                              to_string(kind) << " depends on sibling order (seed " << seed << ")");
        BOOST_REQUIRE_MESSAGE(base_fields(shuffled, kind) == base,
                              to_string(kind) << " base fields depend on order (seed " << seed << ")");
        ++checked;
      }
    }
  }
  BOOST_TEST_MESSAGE("strategy order-independence held on " << checked << " shuffles");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
