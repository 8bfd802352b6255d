// Dotted version vector sets: unit tests and property tests of the merge.
#include "replication/sibling_set.h"

#include <random>

#include <boost/test/unit_test.hpp>

#include "tests/replication/support/values.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

Version version(NodeId node, std::uint64_t counter, Hlc at = 0) {
  Version v;
  v.dot = Dot{node, counter};
  v.updated_at = at ? at : counter;
  v.fields["v"] = Field{std::to_string(node) + ":" + std::to_string(counter), v.updated_at};
  return v;
}

// A well-formed state: `siblings` with the context `ctx` (which must cover them).
RecordState state(std::vector<Version> siblings, std::vector<std::pair<NodeId, std::uint64_t>> ctx) {
  RecordState s;
  s.siblings = std::move(siblings);
  for (auto [n, c] : ctx) s.context.set(n, c);
  normalize(s);
  return s;
}

BOOST_AUTO_TEST_SUITE(sibling_set)

BOOST_AUTO_TEST_CASE(concurrent_versions_are_both_kept) {
  const RecordState a = state({version(1, 1)}, {{1, 1}});
  const RecordState b = state({version(2, 1)}, {{2, 1}});
  const RecordState m = merge_states(a, b);
  BOOST_TEST(m.siblings.size() == 2u);
  BOOST_TEST(m.context.get(1) == 1u);
  BOOST_TEST(m.context.get(2) == 1u);
  BOOST_TEST(validate_state(m).is_ok());
}

BOOST_AUTO_TEST_CASE(a_version_the_other_side_superseded_is_dropped) {
  // b saw 1:1 and wrote 2:1 over it.
  const RecordState a = state({version(1, 1)}, {{1, 1}});
  const RecordState b = state({version(2, 1)}, {{1, 1}, {2, 1}});
  const RecordState m = merge_states(a, b);
  BOOST_REQUIRE(m.siblings.size() == 1u);
  BOOST_TEST(m.siblings[0].dot.origin == 2u);
}

BOOST_AUTO_TEST_CASE(a_version_newer_than_the_other_context_survives) {
  // a wrote 1:2 after 1:1; b only saw 1:1 and superseded it.
  const RecordState a = state({version(1, 2)}, {{1, 2}});
  const RecordState b = state({version(2, 1)}, {{1, 1}, {2, 1}});
  const RecordState m = merge_states(a, b);
  BOOST_TEST(m.siblings.size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_local_write_supersedes_every_sibling) {
  const RecordState conflicted = state({version(1, 1), version(2, 1)}, {{1, 1}, {2, 1}});
  const RecordState w = supersede(conflicted, version(3, 1));
  BOOST_REQUIRE(w.siblings.size() == 1u);
  BOOST_TEST(w.context.covers(Dot{1, 1}));
  BOOST_TEST(w.context.covers(Dot{2, 1}));
  BOOST_TEST(w.context.covers(Dot{3, 1}));
  BOOST_TEST((merge_states(conflicted, w) == w));
}

BOOST_AUTO_TEST_CASE(malformed_states_are_named) {
  BOOST_TEST(validate_state(RecordState{}).code() == Errc::invalid_argument);
  BOOST_TEST(!validate_state(state({version(1, 2)}, {{1, 1}})).is_ok());  // context misses the dot
  RecordState dup = state({version(1, 1)}, {{1, 1}});
  dup.siblings.push_back(version(1, 1));
  BOOST_TEST(!validate_state(dup).is_ok());
  BOOST_TEST(!validate_state(state({version(1, 0)}, {{1, 1}})).is_ok());
  BOOST_TEST(validate_state(state({version(1, 1), version(2, 3)}, {{1, 1}, {2, 3}})).is_ok());
}

BOOST_AUTO_TEST_CASE(gained_sibling_sees_only_new_dots) {
  const RecordState a = state({version(1, 1)}, {{1, 1}});
  const RecordState ab = state({version(1, 1), version(2, 1)}, {{1, 1}, {2, 1}});
  BOOST_TEST(gained_sibling(a, ab));
  BOOST_TEST(!gained_sibling(ab, a));
  BOOST_TEST(!gained_sibling(ab, ab));
}

// Random but realistic states of one record: a few nodes write (superseding
// what they hold) and merge each other's states; every state seen is kept.
std::vector<RecordState> random_states(std::mt19937_64& rng, int nodes, int steps) {
  std::vector<RecordState> held(static_cast<std::size_t>(nodes));
  std::vector<std::uint64_t> counter(static_cast<std::size_t>(nodes), 0);
  std::vector<RecordState> pool;
  for (int s = 0; s < steps; ++s) {
    const std::size_t i = rng() % static_cast<std::size_t>(nodes);
    if (rng() % 3 == 0 || held[i].siblings.empty()) {
      held[i] = supersede(held[i], version(i + 1, ++counter[i], rng() % 50 + 1));
    } else {
      const std::size_t j = rng() % static_cast<std::size_t>(nodes);
      if (!held[j].siblings.empty()) held[i] = merge_states(held[i], held[j]);
    }
    if (!held[i].siblings.empty()) pool.push_back(held[i]);
  }
  return pool;
}

BOOST_AUTO_TEST_CASE(merge_is_commutative_associative_and_idempotent) {
  const auto seed = test_seed();
  std::mt19937_64 rng(seed);
  int checked = 0;
  for (int round = 0; round < 200; ++round) {
    const auto pool = random_states(rng, 2 + static_cast<int>(rng() % 4), 40);
    for (int k = 0; k < 50; ++k) {
      const RecordState& a = pool[rng() % pool.size()];
      const RecordState& b = pool[rng() % pool.size()];
      const RecordState& c = pool[rng() % pool.size()];
      const RecordState ab = merge_states(a, b);
      BOOST_REQUIRE_MESSAGE(ab == merge_states(b, a), "not commutative (seed " << seed << ")");
      BOOST_REQUIRE_MESSAGE(merge_states(ab, c) == merge_states(a, merge_states(b, c)),
                            "not associative (seed " << seed << ")");
      BOOST_REQUIRE_MESSAGE(merge_states(a, a) == a, "not idempotent (seed " << seed << ")");
      BOOST_REQUIRE_MESSAGE(merge_states(ab, b) == ab, "re-merging a part changed the result (seed " << seed << ")");
      BOOST_REQUIRE_MESSAGE(validate_state(ab).is_ok(), "merge made a malformed state (seed " << seed << ")");
      ++checked;
    }
  }
  BOOST_TEST_MESSAGE("merge properties held on " << checked << " random triples");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
