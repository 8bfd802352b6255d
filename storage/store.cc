#include "storage/store.h"

#include "storage/packed_record.h"

namespace shopsync {

Result<std::optional<PackedRecord>> StoreReader::packed_record(const RecordKey& key) {
  auto state = record(key);
  if (!state) return state.status();
  if (!state->has_value()) return std::optional<PackedRecord>();
  return std::optional<PackedRecord>(PackedRecord(**state));
}

Status StoreWriter::put_packed_record(const RecordKey& key, const PackedRecord& record) {
  return put_record(key, record.decode());
}

}  // namespace shopsync
