#include "replication/hlc.h"

#include <boost/test/unit_test.hpp>

namespace shopsync::test {
namespace {

BOOST_AUTO_TEST_SUITE(hlc)

BOOST_AUTO_TEST_CASE(follows_the_wall_clock_when_it_moves_forward) {
  ManualClock wall(1000);
  HybridClock clock(wall);
  const Hlc a = clock.now();
  BOOST_TEST(HybridClock::wall_ms(a) == 1000u);
  BOOST_TEST(HybridClock::logical(a) == 0u);
  wall.set(2000);
  const Hlc b = clock.now();
  BOOST_TEST(HybridClock::wall_ms(b) == 2000u);
  BOOST_TEST(HybridClock::logical(b) == 0u);
}

BOOST_AUTO_TEST_CASE(never_goes_backwards_when_the_wall_clock_does) {
  ManualClock wall(5000);
  HybridClock clock(wall);
  Hlc last = clock.now();
  wall.set(1000);
  for (int i = 0; i < 10; ++i) {
    const Hlc next = clock.now();
    BOOST_TEST(next > last);
    BOOST_TEST(HybridClock::wall_ms(next) == 5000u);
    last = next;
  }
}

BOOST_AUTO_TEST_CASE(orders_local_writes_after_what_it_has_seen) {
  ManualClock wall(1000);
  HybridClock clock(wall);
  const Hlc remote = HybridClock::make(90'000, 7);  // a peer whose clock is ahead
  BOOST_TEST(clock.observe(remote));
  BOOST_TEST(clock.last() == remote);
  const Hlc mine = clock.now();
  BOOST_TEST(mine > remote);
  BOOST_TEST(clock.observe(HybridClock::make(10, 0)));  // an old reading changes nothing
  BOOST_TEST(clock.last() == mine);
}

// Issue #13, bug 2: a node whose clock runs an hour fast does not drag ours.
BOOST_AUTO_TEST_CASE(a_reading_beyond_the_max_offset_is_not_adopted) {
  ManualClock wall(1'700'000'000'000);
  HybridClock clock(wall, 0, /*max_offset_ms=*/5000);
  const Hlc fast = HybridClock::make(wall.now_ms() + 3600'000, 0);
  BOOST_TEST(!clock.observe(fast));
  const Hlc mine = clock.now();
  BOOST_TEST(HybridClock::wall_ms(mine) == wall.now_ms());  // still our own time
  BOOST_TEST(mine < fast);
  // Within the limit, a reading ahead is adopted as before.
  const Hlc near = HybridClock::make(wall.now_ms() + 5000, 3);
  BOOST_TEST(clock.observe(near));
  BOOST_TEST(clock.now() > near);
  // Once our wall clock has caught up, the old fast reading is within reach.
  wall.set(wall.now_ms() + 3600'000);
  BOOST_TEST(clock.observe(fast));
}

BOOST_AUTO_TEST_CASE(resumes_from_the_persisted_reading) {
  ManualClock wall(100);
  HybridClock clock(wall, HybridClock::make(700, 3));
  BOOST_TEST(clock.now() == HybridClock::make(700, 4));
}

BOOST_AUTO_TEST_CASE(logical_overflow_carries_into_milliseconds) {
  ManualClock wall(0);
  HybridClock clock(wall, HybridClock::make(50, HybridClock::kLogicalMask));
  const Hlc next = clock.now();
  BOOST_TEST(next > HybridClock::make(50, HybridClock::kLogicalMask));
  BOOST_TEST(HybridClock::wall_ms(next) == 51u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
