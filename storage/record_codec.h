// MessagePack encoding of the data model (record states, versions, node meta,
// conflict entries), on disk and on the wire. The layout is documented in
// docs/storage-format.md ("Value encodings"); change both together.
//
// Two forms:
//   - a *body* is one MessagePack object (pack_* / read_*). The wire codec embeds
//     bodies in its own messages, whose protocol version covers them.
//   - a *standalone value* (encode_* / decode_*) is one format byte
//     (kRecordFormat) followed by a body, with nothing after it. The store keeps
//     standalone values.
//
// Bodies only grow: a decoder accepts arrays with more elements than it knows
// and ignores the extra ones, so a newer writer's additions do not break an
// older reader.
//
// Decoding treats its input as hostile: lengths are checked against the bytes
// present before anything is allocated, nesting is limited, trailing bytes are
// rejected, and every failure is a Status with Errc::corrupt naming what and
// where. Nothing here throws (msgpack-c's packer only throws std::bad_alloc).
//
// Encoding REQUIRES a state that passes validate_record_state (the packed field
// bytes are copied verbatim); the store checks that before it encodes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <msgpack/pack.hpp>
#include <msgpack/sbuffer.hpp>

#include "core/status.h"
#include "storage/msgpack_reader.h"
#include "storage/record.h"
#include "storage/store.h"

namespace shopsync {

// The first byte of every standalone value. Version 1 is the only one so far.
inline constexpr std::uint8_t kRecordFormat = 1;

using Packer = msgpack::packer<msgpack::sbuffer>;

// What a conflict entry adds to the siblings it copies (key, strategy,
// numbers), with room to spare: the decoder's size limit is the record limit
// plus this, so that a stored record's conflict entry reads back too.
inline constexpr std::size_t kConflictEntryOverhead = 64 * 1024;

// The decoder's limits. The write path checks the same ones
// (validate_record_state), so whatever is stored reads back.
struct DecodeLimits {
  std::size_t max_bytes = kDefaultMaxRecordBytes + kConflictEntryOverhead;  // whole input
  int max_value_depth = kMaxValueDepth;                        // nesting in one field value
  std::size_t max_siblings = 4096;                             // per record
  std::size_t max_fields = 65536;                              // per version
};

// ---- bodies -------------------------------------------------------------

void pack_version_vector(Packer& pk, const VersionVector& vv);
void pack_version(Packer& pk, const Version& version);
void pack_record_state(Packer& pk, const RecordState& state);
void pack_node_meta(Packer& pk, const NodeMeta& meta);
void pack_conflict_entry(Packer& pk, const ConflictEntry& entry);

// Each reads one body at the reader's position into `out` (which it
// overwrites). On failure returns corrupt and leaves `out` unspecified.
Status read_version_vector(MsgpackReader& in, VersionVector& out);
Status read_version(MsgpackReader& in, Version& out, const DecodeLimits& limits = {});
Status read_record_state(MsgpackReader& in, RecordState& out, const DecodeLimits& limits = {});
Status read_node_meta(MsgpackReader& in, NodeMeta& out);
Status read_conflict_entry(MsgpackReader& in, ConflictEntry& out, const DecodeLimits& limits = {});

// ---- standalone values ----------------------------------------------------

// Appends the format byte and the body to `out` (not cleared first).
void encode_record_state(const RecordState& state, msgpack::sbuffer& out);
std::string encode_record_state(const RecordState& state);
std::string encode_version(const Version& version);
std::string encode_node_meta(const NodeMeta& meta);
std::string encode_conflict_entry(const ConflictEntry& entry);

Result<RecordState> decode_record_state(std::string_view bytes, const DecodeLimits& limits = {});
Result<Version> decode_version(std::string_view bytes, const DecodeLimits& limits = {});
Result<NodeMeta> decode_node_meta(std::string_view bytes);
Result<ConflictEntry> decode_conflict_entry(std::string_view bytes, const DecodeLimits& limits = {});

// The dots of a stored record state's siblings, appended to `out`, without
// copying any field (the store needs them to keep the change index exact).
Status decode_sibling_dots(std::string_view bytes, std::vector<Dot>& out);

// How many siblings a stored record state holds, read from its first bytes
// alone; 0 when they do not read.
std::size_t count_siblings(std::string_view bytes);

// The heads of a stored record state (each sibling without its fields, and
// the context), read without checking the fields beyond their framing (every
// length against the bytes present, nesting): for scans of this node's own
// store that look at versions, not fields. Bytes it accepts may still be
// refused by decode_record_state (a string that is not UTF-8, say): whoever
// acts on a record reads it whole first.
Status decode_record_heads(std::string_view bytes, RecordState& heads);

// What decode_record_state(bytes, limits) checks, without copying any field:
// on success `heads` holds the siblings without their fields, and the
// context. `plain` says whether the bytes are laid out as this version
// writes them (no elements appended by a newer writer, field names in
// order); a decoder of this version reads plain bytes back as they are.
Status scan_record_state(std::string_view bytes, RecordState& heads, bool& plain, const DecodeLimits& limits = {});

// ---- validation -----------------------------------------------------------

// `packed` is exactly one MessagePack object of the data model (nil, bool,
// integer, float, UTF-8 string, binary, array, map), at most `max_depth`
// deep. invalid_argument naming the problem otherwise.
Status validate_packed_value(std::string_view packed, int max_depth = kMaxValueDepth);

// Every rule a state must follow to be stored or sent: no more siblings, and
// no more fields per sibling, than `limits` lets the decoder read back
// (too_large otherwise); field names UTF-8, field values valid (or empty =
// removed), every sibling with a dot (counter >= 1), no two siblings with the
// same dot, and a context covering every sibling's dot (invalid_argument
// naming the sibling/field otherwise). The encoded size is the store's check.
Status validate_record_state(const RecordState& state, const DecodeLimits& limits = {});

// validate_record_state and encode_record_state(state, out) in one pass over
// the fields (the store's write path). On failure `out` may hold a partial
// encoding: the caller discards it.
Status encode_valid_record_state(const RecordState& state, msgpack::sbuffer& out, const DecodeLimits& limits = {});

}  // namespace shopsync
