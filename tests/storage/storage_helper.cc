// The other process of the storage tests.
//
//   storage_helper write DIR FIRST_BATCH MAP_BYTES
//       writes batches FIRST_BATCH, FIRST_BATCH+1, ... (tests/storage/batches.h),
//       printing "committed <b>" after each commit, until killed (or 100000).
//   storage_helper read DIR LAST_BATCH SECONDS
//       opens DIR read-only (waiting for it to exist) and checks snapshot after
//       snapshot until it sees LAST_BATCH; prints "snapshots <n> batches <seen>".
//       Exit 0: every snapshot consistent; 1: one was not (printed); 2: timeout.
//   storage_helper hold-read DIR
//       opens DIR read-only, prints "reading" from inside a read transaction
//       and waits there (at most 60 s) to be killed.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "storage/lmdb_store.h"
#include "tests/storage/batches.h"

namespace {

using namespace shopsync;

int write_batches(const char* dir, std::uint64_t first, std::size_t map_bytes) {
  StoreOptions o;
  o.initial_map_size = map_bytes;
  auto store = LmdbStore::open(dir, o);
  if (!store) {
    std::printf("error %s\n", store.status().to_string().c_str());
    return 1;
  }
  for (std::uint64_t b = first; b < first + 100000; ++b) {
    Status st = (*store)->write([&](StoreWriter& w) { return test::write_batch(w, b); });
    if (!st) {
      std::printf("error %s\n", st.to_string().c_str());
      return 1;
    }
    std::printf("committed %llu\n", static_cast<unsigned long long>(b));
    std::fflush(stdout);
  }
  return 0;
}

int read_batches(const char* dir, std::uint64_t last, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  StoreOptions o;
  o.read_only = true;
  std::unique_ptr<LmdbStore> store;
  while (!store) {
    auto opened = LmdbStore::open(dir, o);
    if (opened) {
      store = std::move(opened).value();
    } else if (opened.status().code() != Errc::not_found) {
      std::printf("error opening: %s\n", opened.status().to_string().c_str());
      return 1;
    }
    if (std::chrono::steady_clock::now() > deadline) return 2;
    if (!store) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::uint64_t snapshots = 0;
  std::uint64_t distinct = 0;
  std::optional<std::uint64_t> previous;
  while (std::chrono::steady_clock::now() < deadline) {
    std::optional<std::uint64_t> seen;
    Status st = store->read([&](StoreReader& r) {
      auto got = test::check_batches(r);
      if (!got) return got.status();
      seen = *got;
      return Status::ok();
    });
    if (!st) {
      std::printf("inconsistent snapshot: %s\n", st.to_string().c_str());
      return 1;
    }
    ++snapshots;
    if (seen != previous) ++distinct;
    if (previous && (!seen || *seen < *previous)) {
      std::printf("went back in time: batch %llu after %llu\n", static_cast<unsigned long long>(seen.value_or(0)),
                  static_cast<unsigned long long>(*previous));
      return 1;
    }
    previous = seen;
    if (seen && *seen == last) {
      std::printf("snapshots %llu batches %llu\n", static_cast<unsigned long long>(snapshots),
                  static_cast<unsigned long long>(distinct));
      return 0;
    }
  }
  std::printf("timeout after %llu snapshots\n", static_cast<unsigned long long>(snapshots));
  return 2;
}

int hold_read(const char* dir) {
  StoreOptions o;
  o.read_only = true;
  auto store = LmdbStore::open(dir, o);
  if (!store) {
    std::printf("error %s\n", store.status().to_string().c_str());
    return 1;
  }
  Status st = (*store)->read([](StoreReader&) {
    std::printf("reading\n");
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(60));
    return Status::ok();
  });
  return st ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "write") {
    return write_batches(argv[2], std::strtoull(argv[3], nullptr, 10), std::strtoull(argv[4], nullptr, 10));
  }
  if (argc == 5 && std::string(argv[1]) == "read") {
    return read_batches(argv[2], std::strtoull(argv[3], nullptr, 10), std::atoi(argv[4]));
  }
  if (argc == 3 && std::string(argv[1]) == "hold-read") return hold_read(argv[2]);
  std::fprintf(stderr, "usage: storage_helper write DIR FIRST_BATCH MAP_BYTES | read DIR LAST_BATCH SECONDS | hold-read DIR\n");
  return 64;
}
