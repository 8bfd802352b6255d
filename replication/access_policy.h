// Who may read and write what, as the replication core asks it
// (docs/replication.md, "Partial replication").
//
// The core asks by node id: its own (what this node holds and may write
// locally) and its peers' (what it sends them, what it accepts from them).
// The daemon answers from the grants collection and its key table; the
// simulator and tests from a fixed table (FixedAccess). A Replica without an
// AccessPolicy restricts nothing, exactly as before grants existed.
//
// The core reads this node's own read scope once, at Replica::open: a change of
// it takes effect at the next open (docs/replication.md, "Scope changes").
// Peers' scopes are asked at each Pull and batch.
//
// Thread-safety: called from the Replica's thread only. Must outlive it.
#pragma once

#include <map>

#include "replication/grant.h"

namespace shopsync {

class AccessPolicy {
 public:
  virtual ~AccessPolicy() = default;
  virtual Scope read_scope(NodeId node) const = 0;
  virtual Scope write_scope(NodeId node) const = 0;
};

// A fixed table of grants; a node not in it is unrestricted.
class FixedAccess : public AccessPolicy {
 public:
  void set(NodeId node, const Grant& grant) { grants_[node] = grant; }
  Scope read_scope(NodeId node) const override {
    auto it = grants_.find(node);
    return it == grants_.end() ? Scope::everything() : Scope::read_scope(it->second);
  }
  Scope write_scope(NodeId node) const override {
    auto it = grants_.find(node);
    return it == grants_.end() ? Scope::everything() : Scope::write_scope(it->second);
  }

 private:
  std::map<NodeId, Grant> grants_;
};

}  // namespace shopsync
