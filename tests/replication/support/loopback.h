// A perfect network for replication unit tests: every message is delivered,
// once, in order, by pump(). Counts what it carries.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <tuple>

#include "replication/replica.h"

namespace shopsync::test {

class Loopback {
 public:
  struct Counts {
    std::uint64_t messages = 0;
    std::uint64_t batches = 0;
    std::uint64_t records = 0;  // records carried in batches
    std::uint64_t pulls = 0;
    std::uint64_t notifies = 0;
    std::uint64_t snapshot_required = 0;
  };

  void add(Replica& r) { replicas_[r.id()] = &r; }

  // An Outbox that queues into this network as node `from`.
  class Port final : public Outbox {
   public:
    Port(Loopback& net, NodeId from) : net_(net), from_(from) {}
    void send(NodeId to, Message m) override { net_.queue_.emplace_back(from_, to, std::move(m)); }

   private:
    Loopback& net_;
    NodeId from_;
  };
  Port port(NodeId id) { return Port(*this, id); }

  // Both sides' HELLO: each learns the other's knowledge.
  void connect(Replica& a, Replica& b) {
    Port pa = port(a.id()), pb = port(b.id());
    a.peer_connected(b.id(), b.knowledge(), pa);
    b.peer_connected(a.id(), a.knowledge(), pb);
  }

  // Delivers until nothing is in flight (at most `limit` messages). Returns
  // false if the limit was hit.
  bool pump(std::uint64_t limit = 1'000'000) {
    while (!queue_.empty()) {
      if (limit-- == 0) return false;
      auto [from, to, m] = std::move(queue_.front());
      queue_.pop_front();
      ++counts.messages;
      if (auto* b = std::get_if<Batch>(&m)) {
        ++counts.batches;
        counts.records += b->records.size();
      }
      if (std::holds_alternative<Pull>(m)) ++counts.pulls;
      if (std::holds_alternative<Notify>(m)) ++counts.notifies;
      if (std::holds_alternative<SnapshotRequired>(m)) ++counts.snapshot_required;
      auto it = replicas_.find(to);
      if (it == replicas_.end()) continue;
      Port p = port(to);
      last_status = it->second->receive(from, m, p);
      if (!last_status) return false;
    }
    return true;
  }

  Counts counts;
  Status last_status;

 private:
  std::map<NodeId, Replica*> replicas_;
  std::deque<std::tuple<NodeId, NodeId, Message>> queue_;
};

}  // namespace shopsync::test
