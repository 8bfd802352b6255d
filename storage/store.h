// The store: what replication/ and node/ see of persistence.
//
// A Store is a set of tables behind transactions. The LMDB implementation
// (storage/lmdb_store.h) is the real one; storage/memory_store.h is the fake the
// simulator may use for speed. Everything that must be atomic (a batch of
// records with the knowledge it advances; a local write with the node meta)
// goes through one write() call.
//
// Thread-safety: a Store may be read from any thread; write() must be called
// from one thread at a time (the node's event loop is the only writer).
// Bodies must not re-enter their store: write() inside a read() or write()
// body, or read() inside a write() body, returns invalid_argument (a body's
// writer is also a reader). Nested read()s are allowed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "storage/record.h"

namespace shopsync {

class PackedRecord;

// Node meta (DESIGN.md, "Storage"). Written by the replication core.
struct NodeMeta {
  NodeId node_id = 0;
  // Writes made at this node, under all its writer ids (docs/replication.md,
  // "Writer ids"); a statistic, not a dot counter. Stores written before
  // writer ids used the node id as the only origin: there it is that origin's
  // last counter, which is the same number.
  std::uint64_t counter = 0;
  VersionVector knowledge;    // per origin, the counter up to which every dot is known
  Hlc clock = 0;              // last HLC reading issued or seen
  std::string cluster;
  bool operator==(const NodeMeta&) const = default;
};

// One entry of the conflict log: the audit trail of a record left with several
// siblings. Kept for good.
struct ConflictEntry {
  std::uint64_t seq = 0;  // assigned by append_conflict, increasing
  RecordKey key;
  std::vector<Version> siblings;
  std::string strategy;
  Dot winner;
  bool near_simultaneous = false;  // newest_wins tie inside the tolerance
  Hlc detected_at = 0;
  NodeId detected_by = 0;
  bool operator==(const ConflictEntry&) const = default;
};

// Small tables whose values other layers encode themselves.
enum class Table { peers, trusted_keys, settings };

// Continue or stop a scan.
enum class Scan { next, stop };

class StoreReader {
 public:
  virtual ~StoreReader() = default;

  // The record's state, or nullopt when it is unknown here. corrupt (naming
  // the key) when the stored bytes do not decode.
  virtual Result<std::optional<RecordState>> record(const RecordKey& key) = 0;

  // The record as stored, checked as record() decodes it but without
  // building its fields (storage/packed_record.h): nullopt when unknown,
  // corrupt as record(). This default decodes and encodes again.
  virtual Result<std::optional<PackedRecord>> packed_record(const RecordKey& key);

  // Records of one collection in id order, starting after `after_id` ("" =
  // from the first). A record whose stored bytes do not decode is skipped (the
  // LMDB store notes it in its UnreadableRecords): one bad record never stops
  // a scan.
  virtual Status for_each_record(std::string_view collection, std::string_view after_id,
                                 const std::function<Scan(const RecordKey&, const RecordState&)>& visit) = 0;

  // The same scan with each record's heads only (its siblings without their
  // fields, and its context; record_codec.h, decode_record_heads): for scans
  // that look at versions, not fields (tombstone removal, the count at
  // start). It shows exactly the records record() reads: the LMDB store
  // reads a sealed record's heads by its seal alone and checks an older one
  // in full; a record that does not read is skipped (and noted). This
  // default decodes whole records.
  virtual Status for_each_record_heads(std::string_view collection, std::string_view after_id,
                                       const std::function<Scan(const RecordKey&, const RecordState&)>& visit);

  // The dots of the record's stored siblings, read without decoding its
  // fields: what a write over a record that record() finds corrupt supersedes.
  // Empty when the record is unknown or when even its dots do not read.
  virtual Result<std::vector<Dot>> stored_dots(const RecordKey& key) = 0;

  // Names of the collections that hold at least one record, sorted.
  virtual Result<std::vector<std::string>> collections() = 0;

  // The change index: live siblings whose dot is (origin, counter > after), in
  // counter order.
  virtual Status for_each_change(NodeId origin, std::uint64_t after,
                                 const std::function<Scan(std::uint64_t counter, const RecordKey&)>& visit) = 0;
  // How far the change index runs on from `after` without a gap: the
  // highest c such that origin's every counter in after+1..c is there
  // (`after` when after+1 is not). Reads counters only. This default asks
  // for_each_change.
  virtual Result<std::uint64_t> changes_run_from(NodeId origin, std::uint64_t after);

  // nullopt on a store that was never given one.
  virtual Result<std::optional<NodeMeta>> node_meta() = 0;

  // The conflict log from seq > after, oldest first.
  virtual Status for_each_conflict(std::uint64_t after,
                                   const std::function<Scan(const ConflictEntry&)>& visit) = 0;

  virtual Result<std::optional<std::string>> get(Table table, std::string_view key) = 0;
  virtual Status for_each(Table table,
                          const std::function<Scan(std::string_view key, std::string_view value)>& visit) = 0;
};

class StoreWriter : public StoreReader {
 public:
  // Stores the record's new state and keeps the change index exact: the dots
  // of siblings no longer present are removed, the new ones added. A state with
  // no siblings erases the record. Enforces the key rules, the record size
  // limit and the decoder's limits (too_large; validate_record_state), so that
  // whatever it accepts reads back, leaving the store unchanged on error. A
  // stored state that does not decode is replaced.
  virtual Status put_record(const RecordKey& key, const RecordState& state) = 0;

  // put_record of a state kept packed: stored as its bytes when they are
  // laid out as this version writes them (PackedRecord::plain), with the
  // same checks, the same change index and the same errors. This default
  // decodes it and calls put_record. REQUIRES record.check() ok.
  virtual Status put_packed_record(const RecordKey& key, const PackedRecord& record);

  virtual Status put_node_meta(const NodeMeta& meta) = 0;

  // Appends to the conflict log and returns the seq it was given.
  virtual Result<std::uint64_t> append_conflict(const ConflictEntry& entry) = 0;

  virtual Status put(Table table, std::string_view key, std::string_view value) = 0;
  virtual Status erase(Table table, std::string_view key) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Runs `body` in a read transaction: a consistent snapshot.
  virtual Status read(const std::function<Status(StoreReader&)>& body) = 0;

  // Runs `body` in one write transaction, committed when it returns ok and
  // aborted otherwise. When the store runs out of room it grows and runs
  // `body` again, so `body` must change nothing outside the writer (it may run
  // more than once) and must not keep references into it.
  virtual Status write(const std::function<Status(StoreWriter&)>& body) = 0;
};

}  // namespace shopsync
