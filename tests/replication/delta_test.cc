// Delta selection: the sender's cursor over the change index and the puller's
// use of base/complete.
#include "replication/delta.h"

#include <boost/test/unit_test.hpp>

#include "core/version_vector.h"
#include "storage/memory_store.h"
#include "tests/replication/support/values.h"

namespace shopsync::test {
namespace {

// Stores one single-version record per dot given.
void put_versions(Store& store, const std::vector<std::pair<std::string, Dot>>& records) {
  BOOST_REQUIRE(store.write([&](StoreWriter& w) -> Status {
    for (const auto& [id, dot] : records) {
      RecordState s;
      Version v;
      v.dot = dot;
      v.fields["n"] = Field{packed(dot.counter), 1};
      s.siblings.push_back(v);
      s.context.advance(dot);
      SHOPSYNC_TRY(w.put_record({"items", id}, s));
    }
    return Status::ok();
  }));
}

std::vector<Batch> drain(Store& store, DeltaCursor& cursor, BatchLimits limits) {
  std::vector<Batch> out;
  for (int guard = 0; guard < 10'000; ++guard) {
    std::optional<Batch> b;
    BOOST_REQUIRE(store.read([&](StoreReader& r) -> Status {
      auto next = cursor.next(r, limits);
      if (!next) return next.status();
      b = std::move(*next);
      return Status::ok();
    }));
    out.push_back(*b);
    if (!b->more) break;
  }
  return out;
}

VersionVector vv(std::vector<std::pair<NodeId, std::uint64_t>> entries) {
  VersionVector out;
  for (auto [n, c] : entries) out.set(n, c);
  return out;
}

BOOST_AUTO_TEST_SUITE(delta)

BOOST_AUTO_TEST_CASE(sends_what_the_puller_lacks_per_origin_in_counter_order) {
  MemoryStore store;
  put_versions(store, {{"a1", {1, 1}}, {"a2", {1, 2}}, {"a3", {1, 3}}, {"b1", {2, 1}}, {"b2", {2, 2}}});
  DeltaCursor cursor(vv({{1, 1}}), vv({{1, 3}, {2, 2}}), false);
  const auto batches = drain(store, cursor, BatchLimits{2, 1 << 20});
  BOOST_REQUIRE(batches.size() == 2u);
  BOOST_TEST(batches[0].records.size() == 2u);
  BOOST_TEST(batches[0].records[0].first.id == "a2");
  BOOST_TEST(batches[0].records[1].first.id == "a3");
  BOOST_TEST(batches[0].base.get(1) == 1u);
  BOOST_TEST(batches[0].complete.get(1) == 3u);  // origin 1 done up to its target
  BOOST_TEST(batches[0].complete.get(2) == 0u);
  BOOST_TEST(batches[0].more);
  BOOST_TEST(batches[1].records.size() == 2u);
  BOOST_TEST(batches[1].complete.get(2) == 2u);
  BOOST_TEST(!batches[1].more);
}

// A puller whose answer was cut after a gap (batches that overtook others on
// a new link, then a restart) holds versions above its knowledge: the Pull
// lists them, and they are not sent again even where the sender knows them.
BOOST_AUTO_TEST_CASE(versions_the_pull_says_it_holds_are_not_sent_again) {
  MemoryStore store;
  put_versions(store, {{"a1", {1, 1}}, {"a2", {1, 2}}, {"a3", {1, 3}}, {"a4", {1, 4}}, {"a5", {1, 5}}});
  DeltaCursor cursor(vv({{1, 1}}), vv({{1, 5}}), VersionVector{}, {Dot{1, 3}, Dot{1, 4}}, false);
  const auto batches = drain(store, cursor, {});
  BOOST_REQUIRE(batches.size() == 1u);
  std::vector<std::string> sent;
  for (const auto& [key, record] : batches[0].records) sent.push_back(key.id);
  BOOST_TEST(sent == (std::vector<std::string>{"a2", "a5"}), boost::test_tools::per_element());
  BOOST_TEST(batches[0].base.get(1) == 1u);
  BOOST_TEST(batches[0].complete.get(1) == 5u);  // the puller has 3 and 4: it now knows up to 5
  BOOST_TEST(!batches[0].more);
}

BOOST_AUTO_TEST_CASE(an_up_to_date_puller_gets_one_empty_final_batch) {
  MemoryStore store;
  put_versions(store, {{"a1", {1, 1}}});
  DeltaCursor cursor(vv({{1, 1}}), vv({{1, 1}}), false);
  const auto batches = drain(store, cursor, {});
  BOOST_REQUIRE(batches.size() == 1u);
  BOOST_TEST(batches[0].records.empty());
  BOOST_TEST(!batches[0].more);
}

BOOST_AUTO_TEST_CASE(batches_respect_the_byte_limit_but_always_carry_a_record) {
  MemoryStore store;
  std::vector<std::pair<std::string, Dot>> many;
  for (std::uint64_t i = 1; i <= 20; ++i) many.emplace_back("r" + std::to_string(i), Dot{1, i});
  put_versions(store, many);
  DeltaCursor cursor(VersionVector{}, vv({{1, 20}}), false);
  const auto batches = drain(store, cursor, BatchLimits{1000, 1});  // every record is "too big"
  BOOST_TEST(batches.size() == 20u);
  for (const auto& b : batches) BOOST_TEST(b.records.size() == 1u);
}

BOOST_AUTO_TEST_CASE(completeness_applies_only_after_the_batches_before_it) {
  Batch second;
  second.base = vv({{1, 10}});
  second.complete = vv({{1, 20}});
  // The puller missed the first batch (it knows only up to 5): nothing moves.
  BOOST_TEST(apply_completeness(vv({{1, 5}}), second).get(1) == 5u);
  // It had it: knowledge moves to 20.
  BOOST_TEST(apply_completeness(vv({{1, 10}}), second).get(1) == 20u);
  // Knowledge never goes down.
  BOOST_TEST(apply_completeness(vv({{1, 30}}), second).get(1) == 30u);
}

BOOST_AUTO_TEST_CASE(superseded_dots_are_covered_by_completeness) {
  MemoryStore store;
  // 1:1 and 1:2 were superseded (no longer in the change index): only 1:3 is live.
  put_versions(store, {{"x", {1, 3}}});
  DeltaCursor cursor(VersionVector{}, vv({{1, 3}}), false);
  const auto batches = drain(store, cursor, {});
  BOOST_REQUIRE(batches.size() == 1u);
  BOOST_TEST(batches[0].records.size() == 1u);
  BOOST_TEST(batches[0].complete.get(1) == 3u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
