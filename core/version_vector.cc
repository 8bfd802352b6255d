#include "core/version_vector.h"

#include <algorithm>

#include "core/printable.h"

namespace shopsync {

namespace {

// Works on const and mutable vectors alike (advance/set write through it).
template <class Entries>
auto find_entry(Entries& entries, NodeId node) {
  return std::lower_bound(entries.begin(), entries.end(), node,
                          [](const VersionVector::Entry& e, NodeId n) { return e.first < n; });
}

}  // namespace

std::uint64_t VersionVector::get(NodeId node) const {
  auto it = find_entry(entries_, node);
  return it != entries_.end() && it->first == node ? it->second : 0;
}

bool VersionVector::covers(const VersionVector& other) const {
  return std::all_of(other.entries_.begin(), other.entries_.end(),
                     [this](const Entry& e) { return e.second <= get(e.first); });
}

void VersionVector::advance(const Dot& dot) {
  if (dot.counter == 0) return;
  auto it = find_entry(entries_, dot.origin);
  if (it != entries_.end() && it->first == dot.origin) {
    it->second = std::max(it->second, dot.counter);
  } else {
    entries_.insert(it, {dot.origin, dot.counter});
  }
}

void VersionVector::set(NodeId node, std::uint64_t counter) {
  auto it = find_entry(entries_, node);
  const bool present = it != entries_.end() && it->first == node;
  if (counter == 0) {
    if (present) entries_.erase(it);
  } else if (present) {
    it->second = counter;
  } else {
    entries_.insert(it, {node, counter});
  }
}

void VersionVector::join(const VersionVector& other) {
  std::vector<Entry> out;
  out.reserve(entries_.size() + other.entries_.size());
  auto a = entries_.begin();
  auto b = other.entries_.begin();
  while (a != entries_.end() || b != other.entries_.end()) {
    if (b == other.entries_.end() || (a != entries_.end() && a->first < b->first)) {
      out.push_back(*a++);
    } else if (a == entries_.end() || b->first < a->first) {
      out.push_back(*b++);
    } else {
      out.emplace_back(a->first, std::max(a->second, b->second));
      ++a;
      ++b;
    }
  }
  entries_ = std::move(out);
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
