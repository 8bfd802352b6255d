// A record state in its stored encoding (a standalone value of
// record_codec.h): what a batch carries from one store to another without
// building a map of fields for every record. The sender reads it from its
// store, the wire carries its bytes as they are, and the receiver stores them
// as they are when nothing needs merging; fields are decoded only where
// something needs them (a merge with a local state, a conflict entry, the
// changes feed).
//
// Every PackedRecord has been checked as the decoder checks (parse), so its
// heads (each sibling's dot, updated_at and flags, and the context) are read
// once and decode() cannot fail; or it is one this node's store sealed
// (sealed), whose checksum matched: written after that check by this
// version's encoder, it is not checked again, and its heads are read only
// when asked for. One made from a RecordState (tests, tools) says in check()
// what the decoder would refuse in its encoding.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "storage/record.h"
#include "storage/record_codec.h"

namespace shopsync {

class PackedRecord {
 public:
  PackedRecord() = default;
  // `state` encoded as is, whatever it holds (a state that breaks the rules
  // stays that way: receivers refuse it).
  PackedRecord(const RecordState& state);  // NOLINT(google-explicit-constructor): batches are built from states

  // Checks `bytes` as decode_record_state(bytes, limits) does; corrupt
  // naming the problem otherwise.
  static Result<PackedRecord> parse(std::string bytes, const DecodeLimits& limits = {});
  // The same for `bytes` inside a buffer that `buffer` keeps alive (a
  // received batch's body): the records of a batch share it instead of each
  // holding a copy.
  static Result<PackedRecord> parse_within(std::shared_ptr<const char[]> buffer, std::string_view bytes,
                                           const DecodeLimits& limits = {});
  // The encoding inside a value this node's store sealed, whose checksum
  // matched (storage/sealed_record.h).
  static PackedRecord sealed(std::string bytes);

  // ok, or why the decoder refuses these bytes (only for one made from a state).
  const Status& check() const { return check_; }
  std::string_view bytes() const { return buffer_ ? shared_bytes_ : std::string_view(bytes_); }
  // The siblings without their fields (sorted as encoded), and the context.
  const RecordState& heads() const;
  // heads().siblings.size(), without reading the heads.
  std::size_t sibling_count() const;
  // Laid out as this version writes (record_codec.h, scan_record_state).
  bool plain() const { return plain_; }

  // The whole state. REQUIRES check() ok.
  RecordState decode() const;

  bool operator==(const PackedRecord& other) const { return bytes() == other.bytes(); }

 private:
  Status scan(const DecodeLimits& limits);

  // The bytes: its own, or a view into a buffer shared with other records.
  std::string bytes_;
  std::shared_ptr<const char[]> buffer_;
  std::string_view shared_bytes_;
  mutable RecordState heads_;
  mutable bool heads_read_ = true;
  bool plain_ = false;
  Status check_;
};

}  // namespace shopsync
