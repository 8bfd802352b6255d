#include "tests/faults/write_ledger.h"

#include <algorithm>

#include <msgpack.hpp>

namespace shopsync::test {

std::string packed_string(const std::string& s) {
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer>(b).pack(s);
  return {b.data(), b.size()};
}

std::size_t WriteLedger::record(const Attempt& attempt) {
  std::lock_guard lock(mu_);
  attempts_.push_back(attempt);
  return attempts_.size() - 1;
}

void WriteLedger::settle(std::size_t index, const Dot& dot, Hlc updated_at) {
  std::lock_guard lock(mu_);
  attempts_[index].acked = true;
  attempts_[index].dot = dot;
  attempts_[index].updated_at = updated_at;
}

std::vector<std::string> WriteLedger::live_items(int node) const {
  std::lock_guard lock(mu_);
  std::map<std::string, bool> live;
  for (const auto& a : attempts_) {
    if (a.node != node || a.key.collection != "items") continue;
    if (a.remove) {
      live.erase(a.key.id);
    } else if (a.acked) {
      live[a.key.id] = true;
    }
  }
  std::vector<std::string> out;
  for (const auto& [id, _] : live) out.push_back(id);
  return out;
}

namespace {

std::optional<std::string> visible_v(const NodeView& view, const RecordKey& key) {
  auto it = view.records.find(key);
  if (it == view.records.end() || it->second.deleted) return std::nullopt;
  auto f = it->second.fields.find("v");
  return f == it->second.fields.end() ? std::string("<no v field>") : f->second;
}

std::string show(const RecordKey& k) { return k.collection + "/" + k.id; }

}  // namespace

LedgerReport WriteLedger::check(const NodeView& view, const std::set<Dot>& logged) const {
  std::lock_guard lock(mu_);
  LedgerReport r;
  std::map<RecordKey, std::vector<const Attempt*>> by_key;
  for (const auto& a : attempts_) {
    ++r.attempts;
    if (a.acked) ++r.acknowledged;
    by_key[a.key].push_back(&a);
  }
  auto problem = [&](std::uint64_t& counter, const std::string& what) {
    ++counter;
    if (r.problems.size() < 20) r.problems.push_back(what);
  };

  for (const auto& [key, list] : by_key) {
    const std::optional<std::string> seen = visible_v(view, key);
    if (key.collection == "items") {
      ++r.records_checked;
      const Attempt* put = nullptr;
      const Attempt* del = nullptr;
      for (const Attempt* a : list) (a->remove ? del : put) = a;
      if (put == nullptr) continue;  // cannot happen: a delete follows an acked put
      if (del != nullptr && del->acked) {
        if (seen) problem(r.wrong, show(key) + ": deleted (acknowledged) but visible again");
      } else if (put->acked && del == nullptr) {
        if (!seen) {
          problem(r.lost, show(key) + ": acknowledged put (dot " + std::to_string(put->dot.origin) + ":" +
                              std::to_string(put->dot.counter) + ") is missing");
        } else if (*seen != put->value) {
          problem(r.wrong, show(key) + ": shows a value that was never written to it");
        }
      } else if (seen && *seen != put->value) {
        problem(r.wrong, show(key) + ": shows a value that was never written to it");
      }
    } else if (key.collection == "owned") {
      ++r.records_checked;
      // Attempts of one node, in the order it made them.
      std::size_t last_acked = list.size();
      for (std::size_t i = 0; i < list.size(); ++i) {
        if (list[i]->acked) last_acked = i;
      }
      const std::size_t from = last_acked == list.size() ? 0 : last_acked;
      bool allowed = !seen && last_acked == list.size();
      for (std::size_t i = from; i < list.size() && seen; ++i) allowed = allowed || *seen == list[i]->value;
      if (!allowed) {
        if (!seen) {
          problem(r.lost, show(key) + ": the last acknowledged write is missing");
        } else {
          problem(last_acked == list.size() ? r.wrong : r.lost,
                  show(key) + ": shows an older value than its last acknowledged write (" +
                      std::to_string(list.size() - from) + " candidates)");
        }
      }
    } else if (key.collection == "hot") {
      auto it = view.records.find(key);
      Hlc newest_acked = 0;
      for (const Attempt* a : list) {
        if (a->acked) newest_acked = std::max(newest_acked, a->updated_at);
      }
      for (const Attempt* a : list) {
        if (!a->acked) continue;
        ++r.records_checked;
        if (it != view.records.end() && it->second.dot == a->dot) {
          ++r.hot_visible;
        } else if (it != view.records.end() &&
                   std::any_of(it->second.siblings.begin(), it->second.siblings.end(),
                               [&](const api::SiblingView& s) { return s.dot == a->dot; })) {
          ++r.hot_sibling;
        } else if (logged.count(a->dot) != 0) {
          ++r.hot_logged;
        } else if (std::any_of(list.begin(), list.end(), [&](const Attempt* b) {
                     return b->acked && b->node == a->node && b->updated_at > a->updated_at;
                   })) {
          ++r.hot_superseded;  // by its own node's later write: certainly in its causal past
        } else if (a->updated_at < newest_acked) {
          ++r.hot_superseded_elsewhere;
        } else {
          problem(r.lost, show(key) + ": newest acknowledged write (dot " + std::to_string(a->dot.origin) + ":" +
                              std::to_string(a->dot.counter) + ") is neither visible nor a logged loser");
        }
      }
    }
  }
  return r;
}

}  // namespace shopsync::test
