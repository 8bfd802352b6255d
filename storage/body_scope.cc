#include "storage/body_scope.h"

namespace shopsync {

namespace {
thread_local BodyScope* t_innermost = nullptr;
}

// The scopes of one thread form a stack through outer_; walked to find the
// innermost one of a given store (stacks are a few entries deep at most).
BodyScope::BodyScope(const void* store, Kind kind) : store_(store), kind_(kind), outer_(t_innermost) {
  t_innermost = this;
}

BodyScope::~BodyScope() {
  t_innermost = outer_;
}

std::optional<BodyScope::Kind> BodyScope::active(const void* store) {
  for (const BodyScope* s = t_innermost; s != nullptr; s = s->outer_) {
    if (s->store_ == store) return s->kind_;
  }
  return std::nullopt;
}

}  // namespace shopsync
