// Everything a store holds, as copying a stopped node's data directory keeps
// it: the simulators' backups, restored later in place of a node's store.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "storage/memory_store.h"
#include "storage/store.h"

namespace shopsync::test {

struct StoreCopy {
  std::vector<std::pair<RecordKey, RecordState>> records;
  std::optional<NodeMeta> meta;
  std::vector<ConflictEntry> conflicts;
  std::vector<std::tuple<Table, std::string, std::string>> rows;

  Status read_from(StoreReader& r) {
    auto names = r.collections();
    if (!names) return names.status();
    for (const std::string& name : *names) {
      Status s = r.for_each_record(name, "", [&](const RecordKey& k, const RecordState& v) {
        records.emplace_back(k, v);
        return Scan::next;
      });
      if (!s) return s;
    }
    auto m = r.node_meta();
    if (!m) return m.status();
    meta = std::move(*m);
    SHOPSYNC_TRY(r.for_each_conflict(0, [&](const ConflictEntry& e) {
      conflicts.push_back(e);
      return Scan::next;
    }));
    for (Table t : {Table::peers, Table::trusted_keys, Table::settings}) {
      Status s = r.for_each(t, [&](std::string_view k, std::string_view v) {
        rows.emplace_back(t, std::string(k), std::string(v));
        return Scan::next;
      });
      if (!s) return s;
    }
    return Status::ok();
  }

  Status write_to(StoreWriter& w) const {
    for (const auto& [k, v] : records) SHOPSYNC_TRY(w.put_record(k, v));
    if (meta) SHOPSYNC_TRY(w.put_node_meta(*meta));
    for (const ConflictEntry& e : conflicts) {
      auto seq = w.append_conflict(e);
      if (!seq) return seq.status();
    }
    for (const auto& [t, k, v] : rows) SHOPSYNC_TRY(w.put(t, k, v));
    return Status::ok();
  }
};

inline Result<std::unique_ptr<MemoryStore>> copy_store(Store& from) {
  StoreCopy data;
  SHOPSYNC_TRY(from.read([&](StoreReader& r) { return data.read_from(r); }));
  auto copy = std::make_unique<MemoryStore>();
  SHOPSYNC_TRY(copy->write([&](StoreWriter& w) { return data.write_to(w); }));
  return copy;
}

}  // namespace shopsync::test
