#include "replication/sibling_set.h"

#include <algorithm>
#include <string>
#include <tuple>

namespace shopsync {

namespace {

bool has_dot(const std::vector<Version>& siblings, const Dot& dot) {
  // Siblings are sorted by dot in a well-formed state.
  auto it = std::lower_bound(siblings.begin(), siblings.end(), dot,
                             [](const Version& v, const Dot& d) { return v.dot < d; });
  return it != siblings.end() && it->dot == dot;
}

// A total order on versions with the same dot, used only to stay
// deterministic should two nodes ever disagree on what one dot holds.
bool version_less(const Version& x, const Version& y) {
  if (x.updated_at != y.updated_at) return x.updated_at < y.updated_at;
  if (x.deleted != y.deleted) return x.deleted < y.deleted;
  if (x.uplink_origin != y.uplink_origin) return x.uplink_origin < y.uplink_origin;
  return std::lexicographical_compare(
      x.fields.begin(), x.fields.end(), y.fields.begin(), y.fields.end(), [](const auto& f, const auto& g) {
        return std::tie(f.first, f.second.packed, f.second.stamp) < std::tie(g.first, g.second.packed, g.second.stamp);
      });
}

}  // namespace

void normalize(RecordState& state) {
  std::sort(state.siblings.begin(), state.siblings.end(),
            [](const Version& a, const Version& b) { return a.dot < b.dot; });
}

RecordState merge_states(const RecordState& a, const RecordState& b) {
  // A sibling of `a` is dropped only when `b` has seen its dot (b.context
  // covers it) and no longer holds it: then some write known to `b` superseded
  // it. Holding the same dot on both sides keeps one copy (a dot names one
  // write, so both copies are equal). The result does not depend on which side
  // is `a`: each surviving dot is either in both, or in one side and not
  // covered by the other, and the contexts are joined with a max.
  RecordState out;
  out.siblings.reserve(a.siblings.size() + b.siblings.size());
  auto ia = a.siblings.begin();
  auto ib = b.siblings.begin();
  while (ia != a.siblings.end() || ib != b.siblings.end()) {
    if (ib == b.siblings.end() || (ia != a.siblings.end() && ia->dot < ib->dot)) {
      if (!b.context.covers(ia->dot)) out.siblings.push_back(*ia);
      ++ia;
    } else if (ia == a.siblings.end() || ib->dot < ia->dot) {
      if (!a.context.covers(ib->dot)) out.siblings.push_back(*ib);
      ++ib;
    } else {
      // Same dot on both sides. Should the bytes differ (they cannot for a
      // well-behaved cluster), keep the smaller one so the merge stays
      // commutative.
      out.siblings.push_back(version_less(*ib, *ia) ? *ib : *ia);
      ++ia;
      ++ib;
    }
  }
  out.context = a.context;
  out.context.join(b.context);
  return out;
}

RecordState supersede(const RecordState& current, Version version) {
  RecordState out;
  out.context = current.context;
  out.context.advance(version.dot);
  out.siblings.push_back(std::move(version));
  return out;
}

Status validate_state(const RecordState& state) {
  if (state.siblings.empty()) return Status::invalid("record state has no siblings");
  for (std::size_t i = 0; i < state.siblings.size(); ++i) {
    const Dot& dot = state.siblings[i].dot;
    if (dot.counter == 0 || dot.origin == 0) {
      return Status::invalid("sibling with an invalid dot (node id and counter must be non-zero)");
    }
    if (i > 0 && !(state.siblings[i - 1].dot < dot)) {
      return Status::invalid("siblings not in strictly increasing dot order (duplicate or unsorted)");
    }
    if (!state.context.covers(dot)) {
      return Status::invalid("causal context does not cover sibling " + std::to_string(dot.origin) + ":" +
                             std::to_string(dot.counter));
    }
  }
  return Status::ok();
}

bool gained_sibling(const RecordState& before, const RecordState& after) {
  return std::any_of(after.siblings.begin(), after.siblings.end(),
                     [&](const Version& v) { return !has_dot(before.siblings, v.dot); });
}

RecordState unreadable_state(const std::vector<Dot>& dots) {
  RecordState out;
  for (const Dot& dot : dots) {
    if (out.context.covers(dot)) continue;  // a stored state never repeats a dot; stay canonical anyway
    Version v;
    v.dot = dot;
    out.siblings.push_back(std::move(v));
    out.context.advance(dot);
  }
  normalize(out);
  return out;
}

std::vector<Dot> dropped_dots(const RecordState& before, const RecordState& after) {
  std::vector<Dot> out;
  for (const Version& v : before.siblings) {
    const bool kept =
        std::any_of(after.siblings.begin(), after.siblings.end(), [&](const Version& a) { return a.dot == v.dot; });
    if (!kept) out.push_back(v.dot);
  }
  return out;
}

}  // namespace shopsync
