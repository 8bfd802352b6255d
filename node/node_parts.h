// Internal to node.cc and reload.cc: the Node's private parts.
#pragma once

#include <set>
#include <string>

#include "node/configured.h"
#include "node/log.h"
#include "node/node.h"
#include "node/trusted_keys.h"

namespace shopsync {

inline constexpr std::uint64_t kFlushMs = 1000;    // --durability interval: disk flush period
inline constexpr std::uint64_t kPersistMs = 2000;  // dirty peers table rows are saved this often

class Node::NodeOutbox final : public peering::QueuedOutbox {
 public:
  explicit NodeOutbox(Node& node) : node_(node) {}
  void changed(const RecordKey& key, const VisibleRecord* now) override {
    node_.records_changed_ = true;
    if (key.collection == kGrantsCollection) node_.grants_->changed();
    if (node_.observer_.changed) node_.observer_.changed(key, now);
  }
  bool reads_records() const override { return static_cast<bool>(node_.observer_.changed); }
  void conflict(const ConflictEntry& entry) override;  // node.cc
  void refused(NodeId from, const RecordKey& key, const std::string& why) override;  // node.cc

 private:
  Node& node_;
};

}  // namespace shopsync
