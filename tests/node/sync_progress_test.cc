#include "node/sync_progress.h"

#include <boost/test/unit_test.hpp>

namespace shopsync {
namespace {

BOOST_AUTO_TEST_SUITE(node_sync_progress)

BOOST_AUTO_TEST_CASE(a_sync_counts_what_came_and_estimates_the_rest) {
  SyncProgress p(5000);
  BOOST_TEST(!p.active());
  BOOST_TEST((p.view(0) == api::SyncProgress{}));
  p.batch(1000, 1000, 100'000, 9000, true);  // 1000 records of 100 bytes, 9000 to go
  BOOST_TEST(p.active());
  auto v = p.view(1000);
  BOOST_TEST(v.records_received == 1000u);
  BOOST_TEST(v.records_total == 10'000u);
  BOOST_TEST(v.bytes_received == 100'000u);
  BOOST_TEST(v.bytes_total == 1'000'000u);
  BOOST_TEST(v.rate == 0u);  // one batch: no rate yet, no ETA
  BOOST_TEST(v.eta_ms == 0u);
  p.batch(2000, 1000, 100'000, 8000, true);
  v = p.view(2000);
  BOOST_TEST(v.records_received == 2000u);
  BOOST_TEST(v.rate == 1000u);     // 1000 records in the second since the first batch
  BOOST_TEST(v.eta_ms == 8000u);   // 8000 to go at 1000/s
  BOOST_TEST(p.view(4000).rate == 333u);  // nothing came since: the rate falls
}

BOOST_AUTO_TEST_CASE(the_rate_is_over_the_last_ten_seconds) {
  SyncProgress p(5000);
  p.batch(0, 1000, 1, 100'000, true);
  for (std::uint64_t s = 1; s <= 20; ++s) p.batch(s * 1000, s <= 10 ? 1000 : 100, 1, 100'000, true);
  // The last 10 s brought 100 records a second, whatever came before.
  BOOST_TEST(p.view(20'000).rate == 100u);
}

BOOST_AUTO_TEST_CASE(the_last_batch_of_an_answer_ends_the_sync) {
  SyncProgress p(5000);
  p.batch(0, 1000, 1, 5, true);
  p.batch(10, 5, 1, 0, false);
  BOOST_TEST(!p.active());
  BOOST_TEST((p.view(10) == api::SyncProgress{}));
  p.batch(20, 3, 1, 0, false);  // a small answer in one batch is no sync to show
  BOOST_TEST(!p.active());
  p.batch(30, 1000, 1, 5, true);  // the next one starts from zero
  BOOST_TEST(p.view(30).records_received == 1000u);
  p.stop();
  BOOST_TEST(!p.active());
}

BOOST_AUTO_TEST_CASE(a_log_line_is_due_every_interval_of_a_running_sync) {
  SyncProgress p(5000);
  BOOST_TEST(!p.log_due(0));
  p.batch(0, 1, 1, 5, true);
  BOOST_TEST(!p.log_due(4999));
  BOOST_TEST(p.log_due(5000));
  BOOST_TEST(!p.log_due(5001));
  BOOST_TEST(p.log_due(10'000));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync
