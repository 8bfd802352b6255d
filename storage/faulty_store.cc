#include "storage/faulty_store.h"

namespace shopsync {

void FaultyStore::fail_write(std::uint64_t n, Status failure) {
  fail_at_ = n;
  fail_with_ = failure ? Status::io_error("injected commit failure") : std::move(failure);
}

void FaultyStore::disk_full_from(std::uint64_t n) {
  full_from_ = n;
}

void FaultyStore::heal() {
  fail_at_.reset();
  full_from_.reset();
  replay_ = false;
}

Status FaultyStore::write(const std::function<Status(StoreWriter&)>& body) {
  const std::uint64_t n = ++writes_;
  std::optional<Status> injected;
  if (fail_at_ && *fail_at_ == n) injected = fail_with_;
  if (full_from_ && n >= *full_from_) injected = Status(Errc::disk_full, "injected: no space left on device");

  if (replay_) {
    // A first run that is thrown away, as a growing LmdbStore does.
    static const Status kDiscard = Status::io_error("FaultyStore: discarded first run");
    Status first = inner_.write([&](StoreWriter& w) -> Status {
      SHOPSYNC_TRY(body(w));
      return kDiscard;
    });
    if (first.code() != kDiscard.code() || first.message() != kDiscard.message()) return first;
  }
  if (!injected) return inner_.write(body);
  ++injected_;
  Status st = inner_.write([&](StoreWriter& w) -> Status {
    SHOPSYNC_TRY(body(w));
    return *injected;  // rolls back what the body did
  });
  return st;
}

}  // namespace shopsync
