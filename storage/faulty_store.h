// A Store wrapper that injects the failures other layers must survive, for
// their tests: a commit that fails (the body's changes are rolled back), a
// disk that is full from some write on, and the replay of a body that a map
// growth causes. Reads pass through untouched.
//
// Writes are counted from 1 in the order write() is called. Faults are set by
// the test between writes (not thread-safe against a concurrent write()).
#pragma once

#include <cstdint>
#include <optional>

#include "storage/store.h"

namespace shopsync {

class FaultyStore final : public Store {
 public:
  // `inner` must outlive this wrapper.
  explicit FaultyStore(Store& inner) : inner_(inner) {}

  // The write numbered `n` (counting every write() so far, from 1) runs its
  // body, then fails with `failure` and commits nothing.
  void fail_write(std::uint64_t n, Status failure = Status::io_error("injected commit failure"));
  // Every write from the one numbered `n` on fails with disk_full, committing
  // nothing, until heal().
  void disk_full_from(std::uint64_t n);
  // Runs every body twice: the first run is rolled back, as when the map grows.
  void replay_bodies(bool on) { replay_ = on; }
  // Clears every fault.
  void heal();

  // How many write() calls were made, and how many of them were failed here.
  std::uint64_t writes() const { return writes_; }
  std::uint64_t injected_failures() const { return injected_; }

  Status read(const std::function<Status(StoreReader&)>& body) override { return inner_.read(body); }
  Status write(const std::function<Status(StoreWriter&)>& body) override;

 private:
  Store& inner_;
  std::uint64_t writes_ = 0;
  std::uint64_t injected_ = 0;
  std::optional<std::uint64_t> fail_at_;
  Status fail_with_;
  std::optional<std::uint64_t> full_from_;
  bool replay_ = false;
};

}  // namespace shopsync
