#include "discovery/reconfirm.h"

#include <algorithm>
#include <iterator>

namespace shopsync::discovery {

namespace {

constexpr std::size_t kQueries = std::size(Reconfirmations::kQueryAtMs);

}  // namespace

bool Reconfirmations::failure(NodeId peer, std::uint64_t now_ms) {
  auto it = entries_.find(peer);
  if (it != entries_.end()) {
    const Entry& e = it->second;
    if (e.state != State::answered || now_ms - e.since_ms < kTrustAnswerMs) return false;
  }
  entries_[peer] = Entry{State::asking, now_ms, 0, now_ms + kQueryAtMs[0]};
  return true;
}

std::optional<Reconfirmations::State> Reconfirmations::answered(NodeId peer, std::uint64_t now_ms) {
  auto it = entries_.find(peer);
  if (it == entries_.end() || it->second.state == State::answered) return std::nullopt;
  const State before = it->second.state;
  it->second.state = State::answered;
  it->second.since_ms = now_ms;
  it->second.next_ms = 0;
  return before;
}

bool Reconfirmations::heard_from(NodeId peer, std::uint64_t now_ms) {
  auto it = entries_.find(peer);
  if (it == entries_.end() || it->second.state != State::forgotten) return false;
  it->second = Entry{State::asking, now_ms, 0, now_ms + kQueryAtMs[0]};
  return true;
}

Reconfirmations::Due Reconfirmations::due(std::uint64_t now_ms) {
  Due out;
  for (auto& [peer, e] : entries_) {
    if (e.state == State::answered || now_ms < e.next_ms) continue;
    if (e.state == State::forgotten) {
      out.query.push_back(peer);
      ++e.queries;
      e.next_ms = now_ms + kRecheckMs;
      continue;
    }
    const std::uint64_t deadline = e.since_ms + kWindowMs;
    if (now_ms >= deadline) {
      out.forget.push_back(peer);
      e.state = State::forgotten;
      e.since_ms = now_ms;
      e.next_ms = now_ms + kRecheckMs;
      continue;
    }
    out.query.push_back(peer);
    ++e.queries;
    e.next_ms = e.queries < kQueries ? std::min(e.since_ms + kQueryAtMs[e.queries], deadline) : deadline;
  }
  return out;
}

std::optional<std::uint64_t> Reconfirmations::next_ms() const {
  std::optional<std::uint64_t> out;
  for (const auto& [peer, e] : entries_) {
    if (e.state == State::answered) continue;
    if (!out || e.next_ms < *out) out = e.next_ms;
  }
  return out;
}

std::string_view to_string(Reconfirmations::State state) {
  switch (state) {
    case Reconfirmations::State::asking: return "asking";
    case Reconfirmations::State::forgotten: return "forgotten";
    case Reconfirmations::State::answered: return "answered";
  }
  return "unknown";
}

}  // namespace shopsync::discovery
