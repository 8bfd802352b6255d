#include "storage/packed_record.h"

#include <algorithm>
#include <utility>

namespace shopsync {

PackedRecord::PackedRecord(const RecordState& state) : bytes_(encode_record_state(state)) {
  check_ = scan_record_state(bytes_, heads_, plain_);
  if (check_) return;
  // Heads as given, so that a receiver names the rule the state breaks.
  heads_.context = state.context;
  heads_.siblings.clear();
  for (const Version& v : state.siblings) {
    Version head = v;
    head.fields.clear();
    heads_.siblings.push_back(std::move(head));
  }
}

Result<PackedRecord> PackedRecord::parse(std::string bytes, const DecodeLimits& limits) {
  PackedRecord out;
  out.bytes_ = std::move(bytes);
  SHOPSYNC_TRY(out.scan(limits));
  return out;
}

Result<PackedRecord> PackedRecord::parse_within(std::shared_ptr<const char[]> buffer, std::string_view bytes,
                                                const DecodeLimits& limits) {
  PackedRecord out;
  out.buffer_ = std::move(buffer);
  out.shared_bytes_ = bytes;
  SHOPSYNC_TRY(out.scan(limits));
  return out;
}

Status PackedRecord::scan(const DecodeLimits& limits) { return scan_record_state(bytes(), heads_, plain_, limits); }

PackedRecord PackedRecord::sealed(std::string bytes) {
  PackedRecord out;
  out.bytes_ = std::move(bytes);
  out.heads_read_ = false;
  out.plain_ = true;  // the store writes nothing else
  return out;
}

std::size_t PackedRecord::sibling_count() const {
  return heads_read_ ? heads_.siblings.size() : count_siblings(bytes());
}

const RecordState& PackedRecord::heads() const {
  if (!heads_read_) {
    // Sealed bytes of this version's encoder: their heads read.
    (void)decode_record_heads(bytes(), heads_);
    heads_read_ = true;
  }
  return heads_;
}

RecordState PackedRecord::decode() const {
  // Already checked, with limits that may have allowed more bytes than the
  // default.
  DecodeLimits limits;
  limits.max_bytes = std::max(limits.max_bytes, bytes().size());
  auto state = decode_record_state(bytes(), limits);
  return state ? std::move(state).value() : RecordState{};
}

}  // namespace shopsync
