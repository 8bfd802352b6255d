#include "storage/store.h"

#include "storage/packed_record.h"

namespace shopsync {

Result<std::optional<PackedRecord>> StoreReader::packed_record(const RecordKey& key) {
  auto state = record(key);
  if (!state) return state.status();
  if (!state->has_value()) return std::optional<PackedRecord>();
  return std::optional<PackedRecord>(PackedRecord(**state));
}

Status StoreReader::for_each_record_heads(std::string_view collection, std::string_view after_id,
                                          const std::function<Scan(const RecordKey&, const RecordState&)>& visit) {
  RecordState heads;
  return for_each_record(collection, after_id, [&](const RecordKey& key, const RecordState& state) {
    heads.context = state.context;
    heads.siblings.assign(state.siblings.size(), Version{});
    for (std::size_t i = 0; i < state.siblings.size(); ++i) {
      Version& head = heads.siblings[i];
      const Version& v = state.siblings[i];
      head.dot = v.dot;
      head.updated_at = v.updated_at;
      head.deleted = v.deleted;
      head.uplink_origin = v.uplink_origin;
    }
    return visit(key, heads);
  });
}

Result<std::uint64_t> StoreReader::changes_run_from(NodeId origin, std::uint64_t after) {
  std::uint64_t last = after;
  SHOPSYNC_TRY(for_each_change(origin, after, [&](std::uint64_t counter, const RecordKey&) {
    if (counter != last + 1) return Scan::stop;
    last = counter;
    return Scan::next;
  }));
  return last;
}

Status StoreWriter::put_packed_record(const RecordKey& key, const PackedRecord& record) {
  return put_record(key, record.decode());
}

}  // namespace shopsync
