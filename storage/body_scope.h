// Which store bodies the current thread is running, so that a store can refuse
// re-entry with a clear error instead of deadlocking or misreading:
//   - write() inside any body of the same store (it could never commit: the
//     outer body holds what the map growth needs, or the memory store's lock);
//   - read() inside a write() body of the same store (it would not see the
//     body's own changes; use the StoreWriter, which is also a StoreReader).
// Internal to storage/; both stores use it so that they behave alike.
#pragma once

#include <optional>

namespace shopsync {

class BodyScope {
 public:
  enum class Kind { read, write };

  // Marks `store` as running a body of `kind` on this thread until destroyed.
  BodyScope(const void* store, Kind kind);
  ~BodyScope();
  BodyScope(const BodyScope&) = delete;
  BodyScope& operator=(const BodyScope&) = delete;

  // The innermost body of `store` this thread is running, if any.
  static std::optional<Kind> active(const void* store);

 private:
  const void* store_;
  Kind kind_;
  BodyScope* outer_;
};

}  // namespace shopsync
