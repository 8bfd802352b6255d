// The disk flusher (node/disk_flusher.h): with --durability interval the loop
// asks for a flush and goes on at once; the flush runs on its own thread,
// beside the store's writes, and none asked for is dropped.
#include "node/disk_flusher.h"

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "storage/lmdb_store.h"
#include "tests/support/temp_dir.h"

namespace shopsync {
namespace {

// A flush the test holds until it lets it go, counting the flushes begun.
class HeldFlush {
 public:
  Status flush() {
    std::unique_lock lock(mutex_);
    ++begun_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return released_; });
    return result_;
  }
  void wait_begun(int n) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return begun_ >= n; });
  }
  void release(Status result = Status::ok()) {
    std::lock_guard lock(mutex_);
    released_ = true;
    result_ = std::move(result);
    changed_.notify_all();
  }
  int begun() {
    std::lock_guard lock(mutex_);
    return begun_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int begun_ = 0;
  bool released_ = false;
  Status result_;
};

BOOST_AUTO_TEST_SUITE(disk_flusher)

// The loop's requests return while a flush is still on the disk (were they to
// wait for it, this test would never release the flush and hang), and the
// requests made meanwhile are served by one more flush, not dropped.
BOOST_AUTO_TEST_CASE(requests_return_while_a_flush_runs_and_are_served_after_it) {
  HeldFlush held;
  {
    DiskFlusher flusher([&] { return held.flush(); });
    flusher.request();
    held.wait_begun(1);
    for (int i = 0; i < 3; ++i) flusher.request();
    BOOST_TEST(held.begun() == 1);
    held.release();
    held.wait_begun(2);
  }
  BOOST_TEST(held.begun() == 2);
}

BOOST_AUTO_TEST_CASE(a_flush_asked_for_just_before_stopping_is_done) {
  HeldFlush held;
  held.release();
  {
    DiskFlusher flusher([&] { return held.flush(); });
    flusher.request();
  }
  BOOST_TEST(held.begun() == 1);
}

BOOST_AUTO_TEST_CASE(a_failed_flush_is_tried_again_on_the_next_request) {
  std::atomic<int> calls{0};
  {
    DiskFlusher flusher([&]() -> Status {
      return ++calls == 1 ? Status(Errc::io_error, "fdatasync: Input/output error") : Status::ok();
    });
    flusher.request();
    while (calls.load() < 1) std::this_thread::yield();
    flusher.request();
  }
  BOOST_TEST(calls.load() == 2);
}

// A real LMDB store flushed over and over while this thread commits to it,
// growing its map meanwhile (a small first map): every commit is there after.
BOOST_AUTO_TEST_CASE(flushing_beside_commits_keeps_every_commit) {
  test::TempDir dir;
  constexpr int kCommits = 2000;
  {
    StoreOptions options;
    options.sync_each_commit = false;
    options.initial_map_size = 1u << 20;
    auto store = LmdbStore::open(dir.path(), options);
    BOOST_REQUIRE_MESSAGE(store, store.status().to_string());
    DiskFlusher flusher([s = store->get()] { return s->flush(); });
    const std::string value(1000, 'v');
    for (int i = 0; i < kCommits; ++i) {
      Status st = (*store)->write([&](StoreWriter& w) { return w.put(Table::settings, "k" + std::to_string(i), value); });
      BOOST_REQUIRE_MESSAGE(st, "commit " << i << ": " << st.to_string());
      if (i % 20 == 0) flusher.request();
    }
  }
  auto store = LmdbStore::open(dir.path());
  BOOST_REQUIRE_MESSAGE(store, store.status().to_string());
  int found = 0;
  Status st = (*store)->read([&](StoreReader& r) -> Status {
    for (int i = 0; i < kCommits; ++i) {
      auto got = r.get(Table::settings, "k" + std::to_string(i));
      if (!got) return got.status();
      if (*got && (*got)->size() == 1000) ++found;
    }
    return Status::ok();
  });
  BOOST_REQUIRE_MESSAGE(st, st.to_string());
  BOOST_TEST(found == kCommits);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync
