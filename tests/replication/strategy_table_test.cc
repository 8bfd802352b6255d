// The strategy table nodes compare at HELLO: one text per table, a digest
// that tells tables apart, and a difference that names what differs.
#include <boost/test/unit_test.hpp>

#include "replication/strategy_table.h"

namespace shopsync {
namespace {

StrategyTable table(std::map<std::string, StrategyKind, std::less<>> collections) {
  StrategyTable t;
  t.collections = std::move(collections);
  return t;
}

BOOST_AUTO_TEST_SUITE(strategy_table)

BOOST_AUTO_TEST_CASE(the_text_is_canonical_and_parses_back) {
  const auto t = table({{"stock", StrategyKind::merge}, {"orders", StrategyKind::manual}});
  BOOST_TEST(to_text(t) == "*=newest_wins *tolerance_ms=1000 orders=manual stock=merge");
  auto back = parse_strategy_table(to_text(t));
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(to_text(*back) == to_text(t));
  // Naming a collection with the default strategy changes nothing: same text, same digest.
  const auto same = table({{"stock", StrategyKind::merge}, {"orders", StrategyKind::manual},
                           {"customers", StrategyKind::newest_wins}});
  BOOST_TEST(to_text(same) == to_text(t));
  BOOST_TEST(strategy_digest(same) == strategy_digest(t));
}

BOOST_AUTO_TEST_CASE(different_tables_have_different_digests_and_a_named_difference) {
  const auto a = table({{"stock", StrategyKind::merge}});
  const auto b = table({});
  BOOST_TEST(strategy_digest(a) != strategy_digest(b));
  BOOST_TEST(strategy_digest(a).size() == 16u);
  BOOST_TEST(strategy_difference(a, b, "'till-1'", "'till-2'") == "stock: merge on 'till-1', newest_wins on 'till-2'");
  BOOST_TEST(strategy_difference(a, a, "x", "y").empty());
  StrategyTable c = b;
  c.default_kind = StrategyKind::server_wins;
  c.tolerance_ms = 2000;
  BOOST_TEST(strategy_difference(b, c, "A", "B") ==
             "other collections: newest_wins on A, server_wins on B; newest_wins tolerance: 1000 ms on A, 2000 ms on B");
}

BOOST_AUTO_TEST_CASE(text_that_is_not_a_table_is_refused) {
  for (const char* bad : {"", "stock=merge", "*=newest_wins", "*=nope *tolerance_ms=1", "*=merge *tolerance_ms=x",
                          "*=merge *tolerance_ms=1 stock", "*=merge *tolerance_ms=1 *x=merge",
                          "*=merge *tolerance_ms=1 a=merge a=manual", "*=merge  *tolerance_ms=1"}) {
    BOOST_TEST(!parse_strategy_table(bad).has_value(), "'" << bad << "'");
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync
