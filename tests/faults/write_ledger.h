// The fault harness's account of every write it attempted, and the final
// check against what the healed nodes show.
//
// Three kinds of record, so that each write has a property to check:
//   items/<id>   written once by one node (and maybe deleted by it later):
//                an acknowledged put must be visible with its value, an
//                acknowledged delete must leave the record absent.
//   owned/<id>   updated again and again by one node only: the visible value
//                is the node's last acknowledged write, or a later write whose
//                answer was lost (the node may have committed it).
//   hot/<id>     written by every node concurrently: each acknowledged write
//                is visible, a sibling, a loser in some node's conflict log,
//                or superseded by a later acknowledged write of that record.
// An unacknowledged write (timeout, node killed) may or may not have
// happened; both outcomes pass.
//
// Thread-safety: record() and settle() may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/api_types.h"

namespace shopsync::test {

struct Attempt {
  int node = 0;
  RecordKey key;
  std::string value;  // the "v" field written (packed MessagePack string); "" for a delete
  bool remove = false;
  bool acked = false;
  Dot dot;            // when acked
  Hlc updated_at = 0;
};

// What one healed node shows: every record of the three collections (live
// ones from list, plus get for hot records to see their siblings).
struct NodeView {
  std::map<RecordKey, api::RecordView> records;
  std::set<Dot> logged_losers;  // every sibling dot in the node's conflict log
};

struct LedgerReport {
  std::uint64_t attempts = 0;
  std::uint64_t acknowledged = 0;
  std::uint64_t records_checked = 0;  // keys of items + owned, acknowledged hot writes
  std::uint64_t lost = 0;             // acknowledged writes not accounted for
  std::uint64_t wrong = 0;            // a value or a presence no write explains
  std::uint64_t hot_visible = 0, hot_sibling = 0, hot_logged = 0;
  std::uint64_t hot_superseded = 0;            // by a later write of the same node
  std::uint64_t hot_superseded_elsewhere = 0;  // by a later write of another node that had seen it
  std::vector<std::string> problems;  // the first few, for the log
};

class WriteLedger {
 public:
  // Returns the attempt's index, for settle().
  std::size_t record(const Attempt& attempt);
  void settle(std::size_t index, const Dot& dot, Hlc updated_at);

  // Items of `node` acknowledged and not yet deleted (delete candidates).
  std::vector<std::string> live_items(int node) const;

  // Checks the view of one node (all nodes must already be identical).
  LedgerReport check(const NodeView& view, const std::set<Dot>& all_logged_losers) const;

 private:
  mutable std::mutex mu_;
  std::vector<Attempt> attempts_;
};

// The packed MessagePack string the harness writes as field "v".
std::string packed_string(const std::string& s);

}  // namespace shopsync::test
