// Where the replication core puts what it wants done outside itself: messages
// to peers, and notices for the node (changes feed, conflicts, metrics).
//
// The core calls these synchronously from inside its own calls, after the
// store transaction they follow has committed. Implementations must not call
// back into the Replica from them (queue and act later instead).
#pragma once

#include "replication/messages.h"
#include <string>

#include "storage/record.h"
#include "storage/store.h"

namespace shopsync {

struct VisibleRecord;

class Outbox {
 public:
  virtual ~Outbox() = default;

  // Queues `message` for peer `to`. The core never assumes delivery: lost,
  // duplicated or reordered messages are repaired by later pulls.
  virtual void send(NodeId to, Message message) = 0;

  // A record's stored state changed (local write, received batch, snapshot
  // purge or tombstone removal). `now` is null when the record was erased,
  // and may be null for a received record when reads_records() is false.
  virtual void changed(const RecordKey& key, const VisibleRecord* now) {
    (void)key;
    (void)now;
  }
  // Whether changed() looks at `now`. An outbox that only needs to know that
  // records changed says false, and a sync then decodes no fields for it.
  virtual bool reads_records() const { return true; }

  // A conflict was appended to the log (already committed).
  virtual void conflict(const ConflictEntry& entry) { (void)entry; }

  // A record of a batch from `from` was refused: a version outside that
  // peer's write scope (docs/replication.md, "Partial replication"). Nothing
  // of it was applied. `why` names the version and the rule.
  virtual void refused(NodeId from, const RecordKey& key, const std::string& why) {
    (void)from;
    (void)key;
    (void)why;
  }
};

// An Outbox that keeps the messages in a vector, for tests and simple drivers.
class VectorOutbox : public Outbox {
 public:
  void send(NodeId to, Message message) override { messages.emplace_back(to, std::move(message)); }
  std::vector<std::pair<NodeId, Message>> messages;
};

}  // namespace shopsync
