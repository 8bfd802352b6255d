#include "core/version_vector.h"

#include <algorithm>

#include "core/printable.h"

namespace shopsync {

namespace {

// Where `node` is or would go in `entries` (sorted by node id).
std::size_t position_of(std::span<const VersionVector::Entry> entries, NodeId node) {
  const auto it = std::lower_bound(entries.begin(), entries.end(), node,
                                   [](const VersionVector::Entry& e, NodeId n) { return e.first < n; });
  return static_cast<std::size_t>(it - entries.begin());
}

}  // namespace

std::uint64_t VersionVector::get(NodeId node) const {
  const auto all = entries();
  const std::size_t i = position_of(all, node);
  return i < all.size() && all[i].first == node ? all[i].second : 0;
}

bool VersionVector::covers(const VersionVector& other) const {
  const auto theirs = other.entries();
  return std::all_of(theirs.begin(), theirs.end(), [this](const Entry& e) { return e.second <= get(e.first); });
}

void VersionVector::advance(const Dot& dot) {
  if (dot.counter == 0) return;
  const auto all = entries();
  const std::size_t i = position_of(all, dot.origin);
  if (i < all.size() && all[i].first == dot.origin) {
    at(i).second = std::max(all[i].second, dot.counter);
  } else {
    insert_at(i, {dot.origin, dot.counter});
  }
}

void VersionVector::set(NodeId node, std::uint64_t counter) {
  const auto all = entries();
  const std::size_t i = position_of(all, node);
  const bool present = i < all.size() && all[i].first == node;
  if (counter == 0) {
    if (present) erase_at(i);
  } else if (present) {
    at(i).second = counter;
  } else {
    insert_at(i, {node, counter});
  }
}

void VersionVector::join(const VersionVector& other) {
  const auto mine = entries();
  const auto theirs = other.entries();
  VersionVector out;
  auto a = mine.begin();
  auto b = theirs.begin();
  while (a != mine.end() || b != theirs.end()) {
    Entry next;
    if (b == theirs.end() || (a != mine.end() && a->first < b->first)) {
      next = *a++;
    } else if (a == mine.end() || b->first < a->first) {
      next = *b++;
    } else {
      next = {a->first, std::max(a->second, b->second)};
      ++a;
      ++b;
    }
    out.insert_at(out.entries().size(), next);
  }
  *this = std::move(out);
}

void VersionVector::insert_at(std::size_t index, const Entry& entry) {
  if (!spilled_.empty()) {
    spilled_.insert(spilled_.begin() + static_cast<std::ptrdiff_t>(index), entry);
  } else if (inline_count_ < kInline) {
    std::copy_backward(inline_.begin() + index, inline_.begin() + inline_count_, inline_.begin() + inline_count_ + 1);
    inline_[index] = entry;
    ++inline_count_;
  } else {
    spilled_.reserve(2 * kInline);
    spilled_.assign(inline_.begin(), inline_.begin() + inline_count_);
    spilled_.insert(spilled_.begin() + static_cast<std::ptrdiff_t>(index), entry);
    inline_count_ = 0;
  }
}

void VersionVector::erase_at(std::size_t index) {
  if (!spilled_.empty()) {
    spilled_.erase(spilled_.begin() + static_cast<std::ptrdiff_t>(index));
    return;
  }
  std::copy(inline_.begin() + index + 1, inline_.begin() + inline_count_, inline_.begin() + index);
  --inline_count_;
}

std::string version_vector_text(const VersionVector& vv) {
  std::string out;
  for (const auto& [node, counter] : vv.entries()) {
    if (!out.empty()) out += ',';
    out += dot_text(Dot{node, counter});
  }
  return out;
}

Result<VersionVector> parse_version_vector(std::string_view text) {
  VersionVector vv;
  std::vector<NodeId> seen;
  if (text.empty()) return vv;
  for (std::size_t begin = 0;;) {
    const auto comma = text.find(',', begin);
    const std::string_view entry = text.substr(begin, comma == std::string_view::npos ? text.npos : comma - begin);
    auto dot = parse_dot(entry);
    if (!dot) return Status::invalid("version vector '" + printable(text, 64) + "': " + dot.status().message());
    if (std::find(seen.begin(), seen.end(), dot->origin) != seen.end()) {
      return Status::invalid("version vector '" + printable(text, 64) + "' names node " + node_id_text(dot->origin) +
                             " twice");
    }
    seen.push_back(dot->origin);
    vv.set(dot->origin, dot->counter);
    if (comma == std::string_view::npos) return vv;
    begin = comma + 1;
  }
}

}  // namespace shopsync
