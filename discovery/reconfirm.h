// Cache flush on failure indication (RFC 6762 section 10.4): when the sync link
// to a peer dies without a goodbye, or a dial to it fails, its mDNS records
// may be stale for up to their TTL (120 s by default). Discovery then asks the
// LAN for them again with queries of its own; a peer that answers none within
// the window is forgotten at once (as if its records had expired), one that
// answers is kept. A forgotten peer is asked again now and then until its
// records expire, so that one that returns unchanged (which avahi's cache
// does not report) is found again.
//
// This is the rule alone: no I/O, no clock (the caller gives the times, in
// monotonic ms). Thread-safety: none.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>
#include <vector>

#include "discovery/peer_event.h"

namespace shopsync::discovery {

class Reconfirmations {
 public:
  // Queries go out this long after the failure (RFC 6762: a few queries; the
  // record is flushed when none is answered within about ten seconds).
  static constexpr std::uint64_t kQueryAtMs[] = {0, 1000, 3000};
  static constexpr std::uint64_t kWindowMs = 10'000;
  // A forgotten peer is asked again this often (until erase()).
  static constexpr std::uint64_t kRecheckMs = 10'000;
  // A peer that answered is not asked again on a failure within this long
  // (a dial that keeps failing behind a firewall must not flood the LAN).
  static constexpr std::uint64_t kTrustAnswerMs = 60'000;

  enum class State { asking, forgotten, answered };

  struct Entry {
    State state = State::asking;
    std::uint64_t since_ms = 0;  // when the state began
    std::uint32_t queries = 0;   // sent since the failure
    std::uint64_t next_ms = 0;   // next query (asking, forgotten) or the verdict, whichever is first
  };

  // What is due at a time: peers to send a query for, and peers whose window
  // ended without an answer (to forget now).
  struct Due {
    std::vector<NodeId> query;
    std::vector<NodeId> forget;
  };

  // A failure indication about `peer`. Starts asking, unless it is being
  // asked already, is forgotten, or answered less than kTrustAnswerMs ago.
  // Returns whether it started.
  bool failure(NodeId peer, std::uint64_t now_ms);
  // An answer about `peer` arrived. Returns the state it was in before
  // (nullopt when none: the answer changes nothing).
  std::optional<State> answered(NodeId peer, std::uint64_t now_ms);
  // What is due at `now_ms`; call when next_ms() has come.
  Due due(std::uint64_t now_ms);
  // The earliest time something is due, nullopt when nothing is.
  std::optional<std::uint64_t> next_ms() const;
  // `peer` was heard from otherwise (a sync session with it came up): when
  // forgotten, it is asked again as after a failure (at once, then at the
  // same few times: just back, it may still be probing and not answer yet)
  // rather than at the next recheck. Returns whether that changed anything.
  bool heard_from(NodeId peer, std::uint64_t now_ms);
  // `peer` is gone from discovery for good (its records expired), or found
  // again with new data: nothing more to ask.
  void erase(NodeId peer) { entries_.erase(peer); }

  const std::map<NodeId, Entry>& entries() const { return entries_; }

 private:
  std::map<NodeId, Entry> entries_;
};

std::string_view to_string(Reconfirmations::State state);

}  // namespace shopsync::discovery
