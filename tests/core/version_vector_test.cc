// VersionVector against a plain map of node -> counter, through every
// operation, as it grows past the entries it holds without an allocation and
// shrinks back: the same entries, sorted, zeros never kept, and vectors that
// mean the same compare equal however they were built.
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "core/version_vector.h"

namespace shopsync::test {
namespace {

using Model = std::map<NodeId, std::uint64_t>;

std::vector<VersionVector::Entry> as_entries(const Model& m) { return {m.begin(), m.end()}; }

void check_same(const VersionVector& vv, const Model& m) {
  const auto got = vv.entries();
  const auto want = as_entries(m);
  BOOST_REQUIRE_EQUAL(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    BOOST_TEST(got[i].first == want[i].first);
    BOOST_TEST(got[i].second == want[i].second);
  }
  BOOST_TEST(vv.empty() == m.empty());
}

VersionVector built_from(const Model& m) {
  VersionVector vv;
  for (auto it = m.rbegin(); it != m.rend(); ++it) vv.set(it->first, it->second);  // inserted at the front
  return vv;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(version_vector)

BOOST_AUTO_TEST_CASE(every_operation_matches_a_map_as_it_grows_and_shrinks) {
  std::mt19937_64 rng(20261207);
  for (int round = 0; round < 300; ++round) {
    VersionVector vv;
    Model m;
    for (int step = 0; step < 60; ++step) {
      const NodeId node = 1 + rng() % 6;  // few nodes: sizes 0..6 over and over
      const std::uint64_t counter = rng() % 4 == 0 ? 0 : 1 + rng() % 100;
      switch (rng() % 4) {
        case 0:
          vv.set(node, counter);
          if (counter == 0) {
            m.erase(node);
          } else {
            m[node] = counter;
          }
          break;
        case 1:
          vv.advance({node, counter});
          if (counter != 0) m[node] = std::max(m[node], counter);
          break;
        case 2: {
          Model other;
          for (int i = 0; i < static_cast<int>(rng() % 4); ++i) other[1 + rng() % 6] = 1 + rng() % 100;
          vv.join(built_from(other));
          for (const auto& [n, c] : other) m[n] = std::max(m[n], c);
          break;
        }
        default: {
          const VersionVector copy = vv;  // copies and moves keep the entries
          VersionVector moved = std::move(vv);
          vv = copy;
          BOOST_TEST((moved == copy));
        }
      }
      check_same(vv, m);
      BOOST_TEST(vv.get(node) == (m.count(node) ? m.at(node) : 0u));
      // Built another way (shrunk or grown to the same entries): equal.
      BOOST_TEST((vv == built_from(m)));
      BOOST_TEST(vv.covers(built_from(m)));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_vector_shrunk_back_to_few_entries_equals_one_that_never_grew) {
  VersionVector grown;
  for (NodeId n : {5, 1, 3, 2}) grown.set(n, 10 * n);
  grown.set(3, 0);
  grown.set(5, 0);
  VersionVector small;
  small.advance({2, 20});
  small.advance({1, 10});
  BOOST_TEST((grown == small));
  BOOST_TEST(version_vector_text(grown) == version_vector_text(small));
  BOOST_TEST(!(grown == VersionVector{}));
  grown.set(1, 0);
  grown.set(2, 0);
  BOOST_TEST(grown.empty());
  BOOST_TEST((grown == VersionVector{}));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace shopsync::test
