#include "storage/record_codec.h"

#include <algorithm>
#include <limits>

#include "storage/ascii.h"

namespace shopsync {

namespace {

// Version flags (one unsigned integer; unknown bits are ignored on read).
constexpr std::uint64_t kFlagDeleted = 1;
constexpr std::uint64_t kFlagUplinkOrigin = 2;

// Element counts of each body as written by this version. Readers need at
// least these and skip any extra ones a newer writer appended.
constexpr std::uint32_t kVersionElements = 5;
constexpr std::uint32_t kStateElements = 2;
constexpr std::uint32_t kMetaElements = 5;
constexpr std::uint32_t kConflictElements = 10;

void pack_string(Packer& pk, std::string_view s) {
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

Status corrupt(const MsgpackReader& in, std::string_view what) {
  std::string m(what);
  m += ": ";
  m += in.ok() ? "malformed" : in.error();
  return Status::corrupt(std::move(m));
}

// Opens an array of at least `known` elements; `extra` gets how many more
// follow (skipped by skip_extra once the known ones are read).
bool open_array(MsgpackReader& in, std::uint32_t known, std::uint32_t& extra) {
  std::uint32_t n = 0;
  if (!in.read_array(n)) return false;
  if (n < known) return in.fail("array of " + std::to_string(n) + " elements, expected " + std::to_string(known));
  extra = n - known;
  return true;
}

bool skip_extra(MsgpackReader& in, std::uint32_t extra) {
  for (std::uint32_t i = 0; i < extra; ++i) {
    if (!in.skip(kMaxValueDepth)) return false;
  }
  return true;
}

bool read_string(MsgpackReader& in, std::string& out) {
  std::string_view s;
  if (!in.read_str(s)) return false;
  out.assign(s);
  return true;
}

bool read_siblings(MsgpackReader& in, std::vector<Version>& out, const DecodeLimits& limits, Status& st) {
  std::uint32_t n = 0;
  if (!in.read_array(n)) return false;
  if (n > limits.max_siblings) return in.fail("more than " + std::to_string(limits.max_siblings) + " siblings");
  out.clear();
  out.resize(n);
  for (auto& v : out) {
    st = read_version(in, v, limits);
    if (!st) return false;
  }
  return true;
}

void check_size(std::string_view bytes, const DecodeLimits& limits, Status& st) {
  if (bytes.size() > limits.max_bytes) {
    st = Status::corrupt("value of " + std::to_string(bytes.size()) + " bytes exceeds the limit of " +
                         std::to_string(limits.max_bytes));
  }
}

// Runs `body` on a standalone value: format byte, one body, nothing after.
template <class T, class ReadBody>
Result<T> decode_standalone(std::string_view bytes, std::string_view what, ReadBody&& read_body) {
  if (bytes.empty()) return Status::corrupt(std::string(what) + ": empty value");
  if (static_cast<std::uint8_t>(bytes[0]) != kRecordFormat) {
    return Status::corrupt(std::string(what) + ": unknown format byte " +
                           std::to_string(static_cast<unsigned>(static_cast<std::uint8_t>(bytes[0]))));
  }
  MsgpackReader in(bytes.substr(1));
  T out{};
  SHOPSYNC_TRY(read_body(in, out));
  if (!in.at_end()) {
    return Status::corrupt(std::string(what) + ": " + std::to_string(in.remaining()) + " trailing bytes");
  }
  return out;
}

template <class F>
std::string encode_standalone(F&& pack_body) {
  msgpack::sbuffer buf(256);
  buf.write(reinterpret_cast<const char*>(&kRecordFormat), 1);
  Packer pk(buf);
  pack_body(pk);
  return std::string(buf.data(), buf.size());
}

// The common field values (scalars and strings) checked without the general
// walk; false means "not obviously valid": the walk decides and explains.
bool is_plain_valid_scalar(std::string_view p) {
  const auto tag = static_cast<std::uint8_t>(p[0]);
  if (const std::size_t size = msgpack_tags::kFixedSize[tag]) return p.size() == size;
  std::size_t header = 0;
  std::size_t len = 0;
  if ((tag & 0xe0) == 0xa0) {
    header = 1;
    len = tag & 0x1f;
  } else if (tag == 0xd9 && p.size() >= 2) {
    header = 2;
    len = static_cast<std::uint8_t>(p[1]);
  } else {
    return false;
  }
  return p.size() == header + len && is_valid_utf8(p.substr(header));
}

// Messages are built only on failure: these run for every record written.
std::string sibling_name(std::size_t i) { return "sibling " + std::to_string(i); }

// The counts the decoder refuses past (DecodeLimits), checked before a state is
// written: whatever the store accepts it can read back.
Status check_counts(const RecordState& state, const DecodeLimits& limits) {
  if (state.siblings.size() > limits.max_siblings) {
    return Status::too_large(std::to_string(state.siblings.size()) + " siblings, over the limit of " +
                             std::to_string(limits.max_siblings));
  }
  for (std::size_t i = 0; i < state.siblings.size(); ++i) {
    const std::size_t n = state.siblings[i].fields.size();
    if (n > limits.max_fields) {
      return Status::too_large(sibling_name(i) + " has " + std::to_string(n) + " fields (removed ones included)" +
                               ", over the limit of " + std::to_string(limits.max_fields));
    }
  }
  return Status::ok();
}

Status check_dots(const RecordState& state) {
  for (std::size_t i = 0; i < state.siblings.size(); ++i) {
    const Dot& dot = state.siblings[i].dot;
    if (dot.counter == 0) return Status::invalid(sibling_name(i) + " has no dot (counter 0)");
    if (!state.context.covers(dot)) {
      return Status::invalid(sibling_name(i) + "'s dot (" + std::to_string(dot.origin) + ", " +
                             std::to_string(dot.counter) + ") is not covered by the record's context");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (state.siblings[j].dot == dot) {
        return Status::invalid(sibling_name(i) + " repeats the dot of sibling " + std::to_string(j));
      }
    }
  }
  return Status::ok();
}

Status check_field(std::size_t sibling, const std::string& name, const Field& field, int max_depth) {
  if (!is_valid_utf8(name)) return Status::invalid(sibling_name(sibling) + " has a field name that is not valid UTF-8");
  if (field.removed()) return Status::ok();
  if (Status st = validate_packed_value(field.packed, max_depth); !st) {
    return st.context(sibling_name(sibling) + ", field '" + name + "'");
  }
  return Status::ok();
}

}  // namespace

// ---- packing ----------------------------------------------------------------

void pack_version_vector(Packer& pk, const VersionVector& vv) {
  const auto& entries = vv.entries();
  pk.pack_array(static_cast<std::uint32_t>(entries.size() * 2));
  for (const auto& [node, counter] : entries) {
    pk.pack_uint64(node);
    pk.pack_uint64(counter);
  }
}

namespace {

// Packs one version. With `kCheck`, validates each field on the way (the
// store's write path: one pass over the fields instead of two) and stops at
// the first bad one; `sibling` only names it in the error.
template <bool kCheck>
Status pack_version_impl(Packer& pk, const Version& v, std::size_t sibling, int max_depth) {
  pk.pack_array(kVersionElements);
  pk.pack_uint64(v.dot.origin);
  pk.pack_uint64(v.dot.counter);
  pk.pack_uint64(v.updated_at);
  pk.pack_uint64((v.deleted ? kFlagDeleted : 0) | (v.uplink_origin ? kFlagUplinkOrigin : 0));
  pk.pack_map(static_cast<std::uint32_t>(v.fields.size()));
  for (const auto& [name, field] : v.fields) {
    // The common case (an ASCII name and a scalar value) costs no Status.
    if constexpr (kCheck) {
      if (!is_valid_utf8(name) || (!field.removed() && !is_plain_valid_scalar(field.packed))) {
        SHOPSYNC_TRY(check_field(sibling, name, field, max_depth));
      }
    }
    pack_string(pk, name);
    // The stamp is stored as its distance below updated_at, modulo 2^64:
    // usually 0 (one byte instead of nine), exact whatever the values.
    const std::uint64_t stamp_delta = v.updated_at - field.stamp;
    if (field.removed()) {
      pk.pack_array(1);
      pk.pack_uint64(stamp_delta);
    } else {
      pk.pack_array(2);
      pk.pack_uint64(stamp_delta);
      // Already MessagePack (validated): copied as is. pack_str_body writes
      // the bytes verbatim, with no header.
      pk.pack_str_body(field.packed.data(), static_cast<std::uint32_t>(field.packed.size()));
    }
  }
  return Status::ok();
}

}  // namespace

void pack_version(Packer& pk, const Version& v) {
  (void)pack_version_impl<false>(pk, v, 0, kMaxValueDepth);
}

void pack_record_state(Packer& pk, const RecordState& state) {
  pk.pack_array(kStateElements);
  pk.pack_array(static_cast<std::uint32_t>(state.siblings.size()));
  for (const auto& v : state.siblings) pack_version(pk, v);
  pack_version_vector(pk, state.context);
}

void pack_node_meta(Packer& pk, const NodeMeta& meta) {
  pk.pack_array(kMetaElements);
  pk.pack_uint64(meta.node_id);
  pk.pack_uint64(meta.counter);
  pack_version_vector(pk, meta.knowledge);
  pk.pack_uint64(meta.clock);
  pack_string(pk, meta.cluster);
}

void pack_conflict_entry(Packer& pk, const ConflictEntry& e) {
  pk.pack_array(kConflictElements);
  pk.pack_uint64(e.seq);
  pack_string(pk, e.key.collection);
  pack_string(pk, e.key.id);
  pk.pack_array(static_cast<std::uint32_t>(e.siblings.size()));
  for (const auto& v : e.siblings) pack_version(pk, v);
  pack_string(pk, e.strategy);
  pk.pack_uint64(e.winner.origin);
  pk.pack_uint64(e.winner.counter);
  if (e.near_simultaneous) {
    pk.pack_true();
  } else {
    pk.pack_false();
  }
  pk.pack_uint64(e.detected_at);
  pk.pack_uint64(e.detected_by);
}

// ---- reading bodies -------------------------------------------------------

Status read_version_vector(MsgpackReader& in, VersionVector& out) {
  std::uint32_t n = 0;
  if (!in.read_array(n)) return corrupt(in, "version vector");
  if (n % 2 != 0) {
    in.fail("odd number of elements");
    return corrupt(in, "version vector");
  }
  out = VersionVector();
  NodeId previous = 0;
  for (std::uint32_t i = 0; i < n / 2; ++i) {
    std::uint64_t node = 0;
    std::uint64_t counter = 0;
    if (!in.read_uint(node) || !in.read_uint(counter)) return corrupt(in, "version vector");
    // Canonical form only: strictly increasing node ids, no zero counters.
    // Anything else would make equal vectors compare unequal.
    if ((i > 0 && node <= previous) || counter == 0) {
      in.fail(counter == 0 ? "zero counter" : "node ids not strictly increasing");
      return corrupt(in, "version vector");
    }
    out.set(node, counter);  // appends: ids arrive in order
    previous = node;
  }
  return Status::ok();
}

namespace {

// Reads one version: its dot, updated_at and flags into `out` (whose fields
// are left alone), and each field, checked, handed to
// on_field(name, stamp, value) (value empty for a removed field), which
// returns false for a duplicate name. `plain` is cleared when the version
// or one of its fields has more elements than this version writes.
template <class OnField>
Status read_version_with(MsgpackReader& in, Version& out, const DecodeLimits& limits, bool& plain, OnField&& on_field) {
  std::uint32_t extra = 0;
  std::uint64_t flags = 0;
  std::uint32_t nfields = 0;
  if (!open_array(in, kVersionElements, extra) || !in.read_uint(out.dot.origin) ||
      !in.read_uint(out.dot.counter) || !in.read_uint(out.updated_at) || !in.read_uint(flags) ||
      !in.read_map(nfields)) {
    return corrupt(in, "version");
  }
  out.deleted = (flags & kFlagDeleted) != 0;
  out.uplink_origin = (flags & kFlagUplinkOrigin) != 0;
  if (nfields > limits.max_fields) {
    in.fail("more than " + std::to_string(limits.max_fields) + " fields");
    return corrupt(in, "version");
  }
  if (extra != 0) plain = false;
  for (std::uint32_t i = 0; i < nfields; ++i) {
    std::string_view name;
    if (!in.read_str(name)) return corrupt(in, "field name");
    if (!is_ascii(name) && !is_valid_utf8(name)) {
      in.fail("field name is not valid UTF-8");
      return corrupt(in, "field name");
    }
    std::uint32_t n = 0;
    std::uint64_t stamp_delta = 0;
    if (!in.read_array(n) || n < 1 || !in.read_uint(stamp_delta)) {
      if (in.ok()) in.fail("field without a stamp");
      return corrupt(in, "field '" + std::string(name) + "'");
    }
    std::string_view value;
    if (n >= 2 && !in.read_value(value, limits.max_value_depth)) return corrupt(in, "field '" + std::string(name) + "'");
    if (n > 2) plain = false;
    if (!skip_extra(in, n > 2 ? n - 2 : 0)) return corrupt(in, "field '" + std::string(name) + "'");
    if (!on_field(name, out.updated_at - stamp_delta, value)) {
      in.fail("duplicate field name '" + std::string(name) + "'");
      return corrupt(in, "version");
    }
  }
  if (!skip_extra(in, extra)) return corrupt(in, "version");
  return Status::ok();
}

}  // namespace

Status read_version(MsgpackReader& in, Version& out, const DecodeLimits& limits) {
  bool plain = true;
  out.fields.clear();
  return read_version_with(in, out, limits, plain, [&](std::string_view name, Hlc stamp, std::string_view value) {
    // The writer emits names in order, so the hint makes each insert O(1).
    const auto size_before = out.fields.size();
    out.fields.emplace_hint(out.fields.end(), std::string(name), Field{std::string(value), stamp});
    return out.fields.size() != size_before;
  });
}

Status read_record_state(MsgpackReader& in, RecordState& out, const DecodeLimits& limits) {
  std::uint32_t extra = 0;
  Status st;
  if (!open_array(in, kStateElements, extra)) return corrupt(in, "record state");
  if (!read_siblings(in, out.siblings, limits, st)) return st ? corrupt(in, "record state") : st;
  SHOPSYNC_TRY(read_version_vector(in, out.context));
  if (!skip_extra(in, extra)) return corrupt(in, "record state");
  return Status::ok();
}

Status read_node_meta(MsgpackReader& in, NodeMeta& out) {
  std::uint32_t extra = 0;
  if (!open_array(in, kMetaElements, extra) || !in.read_uint(out.node_id) || !in.read_uint(out.counter)) {
    return corrupt(in, "node meta");
  }
  SHOPSYNC_TRY(read_version_vector(in, out.knowledge));
  if (!in.read_uint(out.clock) || !read_string(in, out.cluster) || !skip_extra(in, extra)) {
    return corrupt(in, "node meta");
  }
  return Status::ok();
}

Status read_conflict_entry(MsgpackReader& in, ConflictEntry& out, const DecodeLimits& limits) {
  std::uint32_t extra = 0;
  Status st;
  if (!open_array(in, kConflictElements, extra) || !in.read_uint(out.seq) ||
      !read_string(in, out.key.collection) || !read_string(in, out.key.id)) {
    return corrupt(in, "conflict entry");
  }
  if (!read_siblings(in, out.siblings, limits, st)) return st ? corrupt(in, "conflict entry") : st;
  if (!read_string(in, out.strategy) || !in.read_uint(out.winner.origin) || !in.read_uint(out.winner.counter) ||
      !in.read_bool(out.near_simultaneous) || !in.read_uint(out.detected_at) || !in.read_uint(out.detected_by) ||
      !skip_extra(in, extra)) {
    return corrupt(in, "conflict entry");
  }
  return Status::ok();
}

// ---- standalone values ------------------------------------------------------

void encode_record_state(const RecordState& state, msgpack::sbuffer& out) {
  out.write(reinterpret_cast<const char*>(&kRecordFormat), 1);
  Packer pk(out);
  pack_record_state(pk, state);
}

std::string encode_record_state(const RecordState& state) {
  return encode_standalone([&](Packer& pk) { pack_record_state(pk, state); });
}

std::string encode_version(const Version& version) {
  return encode_standalone([&](Packer& pk) { pack_version(pk, version); });
}

std::string encode_node_meta(const NodeMeta& meta) {
  return encode_standalone([&](Packer& pk) { pack_node_meta(pk, meta); });
}

std::string encode_conflict_entry(const ConflictEntry& entry) {
  return encode_standalone([&](Packer& pk) { pack_conflict_entry(pk, entry); });
}

Result<RecordState> decode_record_state(std::string_view bytes, const DecodeLimits& limits) {
  Status st;
  check_size(bytes, limits, st);
  if (!st) return st;
  return decode_standalone<RecordState>(
      bytes, "record state", [&](MsgpackReader& in, RecordState& out) { return read_record_state(in, out, limits); });
}

Result<Version> decode_version(std::string_view bytes, const DecodeLimits& limits) {
  Status st;
  check_size(bytes, limits, st);
  if (!st) return st;
  return decode_standalone<Version>(
      bytes, "version", [&](MsgpackReader& in, Version& out) { return read_version(in, out, limits); });
}

Result<NodeMeta> decode_node_meta(std::string_view bytes) {
  return decode_standalone<NodeMeta>(bytes, "node meta",
                                     [](MsgpackReader& in, NodeMeta& out) { return read_node_meta(in, out); });
}

Result<ConflictEntry> decode_conflict_entry(std::string_view bytes, const DecodeLimits& limits) {
  Status st;
  check_size(bytes, limits, st);
  if (!st) return st;
  return decode_standalone<ConflictEntry>(
      bytes, "conflict entry",
      [&](MsgpackReader& in, ConflictEntry& out) { return read_conflict_entry(in, out, limits); });
}

namespace {

// previous < name, taken inline where the first bytes differ (most field
// names of a record do).
bool name_precedes(std::string_view previous, std::string_view name) {
  if (!previous.empty() && !name.empty() && previous[0] != name[0]) {
    return static_cast<unsigned char>(previous[0]) < static_cast<unsigned char>(name[0]);
  }
  return previous < name;
}

}  // namespace

Status scan_record_state(std::string_view bytes, RecordState& heads, bool& plain, const DecodeLimits& limits) {
  Status st;
  check_size(bytes, limits, st);
  if (!st) return st;
  plain = true;
  bool names_sorted = true;
  auto scanned = decode_standalone<RecordState>(bytes, "record state", [&](MsgpackReader& in, RecordState& out) {
    std::uint32_t extra = 0;
    std::uint32_t n = 0;
    if (!open_array(in, kStateElements, extra) || !in.read_array(n)) return corrupt(in, "record state");
    if (n > limits.max_siblings) {
      in.fail("more than " + std::to_string(limits.max_siblings) + " siblings");
      return corrupt(in, "record state");
    }
    if (extra != 0) plain = false;
    out.siblings.resize(n);
    for (Version& v : out.siblings) {
      std::string_view previous;
      bool first = true;
      SHOPSYNC_TRY(read_version_with(in, v, limits, plain, [&](std::string_view name, Hlc, std::string_view) {
        if (!first && !name_precedes(previous, name)) names_sorted = false;
        first = false;
        previous = name;
        return true;
      }));
    }
    SHOPSYNC_TRY(read_version_vector(in, out.context));
    if (!skip_extra(in, extra)) return corrupt(in, "record state");
    return Status::ok();
  });
  if (!scanned) return scanned.status();
  if (!names_sorted) {
    // Not as this version writes: whether a name repeats takes the decoder.
    plain = false;
    auto full = decode_record_state(bytes, limits);
    if (!full) return full.status();
  }
  heads = std::move(scanned).value();
  return Status::ok();
}

namespace {

// Checks a stored state's format byte and opens its siblings array: `in`
// then reads the first sibling, `extra` holds the state's elements past the
// known ones and `siblings` the count.
Status open_stored_siblings(std::string_view bytes, MsgpackReader& in, std::uint32_t& extra, std::uint32_t& siblings) {
  if (bytes.empty() || static_cast<std::uint8_t>(bytes[0]) != kRecordFormat) {
    return Status::corrupt("record state: missing or unknown format byte");
  }
  in = MsgpackReader(bytes.substr(1));
  if (!open_array(in, kStateElements, extra) || !in.read_array(siblings)) return corrupt(in, "record state");
  return Status::ok();
}

}  // namespace

Status decode_record_heads(std::string_view bytes, RecordState& heads) {
  MsgpackReader in{std::string_view{}};
  std::uint32_t extra = 0;
  std::uint32_t n = 0;
  SHOPSYNC_TRY(open_stored_siblings(bytes, in, extra, n));
  heads.siblings.resize(n);
  for (Version& v : heads.siblings) {
    std::uint32_t vextra = 0;
    std::uint64_t flags = 0;
    if (!open_array(in, kVersionElements, vextra) || !in.read_uint(v.dot.origin) || !in.read_uint(v.dot.counter) ||
        !in.read_uint(v.updated_at) || !in.read_uint(flags)) {
      return corrupt(in, "version");
    }
    v.deleted = (flags & kFlagDeleted) != 0;
    v.uplink_origin = (flags & kFlagUplinkOrigin) != 0;
    v.fields.clear();
    // The fields map: values sit two levels down (map, [stamp, value]).
    if (!in.skip(kMaxValueDepth + 2) || !skip_extra(in, vextra)) return corrupt(in, "version");
  }
  SHOPSYNC_TRY(read_version_vector(in, heads.context));
  if (!skip_extra(in, extra)) return corrupt(in, "record state");
  if (!in.at_end()) return Status::corrupt("record state: " + std::to_string(in.remaining()) + " trailing bytes");
  return Status::ok();
}

Status decode_sibling_dots(std::string_view bytes, std::vector<Dot>& out) {
  MsgpackReader in{std::string_view{}};
  std::uint32_t extra = 0;
  std::uint32_t n = 0;
  SHOPSYNC_TRY(open_stored_siblings(bytes, in, extra, n));
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t vextra = 0;
    Dot dot;
    if (!open_array(in, kVersionElements, vextra) || !in.read_uint(dot.origin) || !in.read_uint(dot.counter)) {
      return corrupt(in, "record state");
    }
    // The rest of the version is skipped: updated_at and flags, then the
    // fields map, whose values sit two levels down (map, [stamp, value]) and
    // may themselves nest kMaxValueDepth deep, then any extra elements.
    if (!skip_extra(in, 2) || !in.skip(kMaxValueDepth + 2) || !skip_extra(in, vextra)) {
      return corrupt(in, "record state");
    }
    out.push_back(dot);
  }
  return Status::ok();
}

std::size_t count_siblings(std::string_view bytes) {
  MsgpackReader in{std::string_view{}};
  std::uint32_t extra = 0;
  std::uint32_t n = 0;
  return open_stored_siblings(bytes, in, extra, n) ? n : 0;
}

// ---- validation -------------------------------------------------------------

Status validate_packed_value(std::string_view packed, int max_depth) {
  if (packed.empty()) return Status::invalid("field value is empty (not a MessagePack object)");
  if (is_plain_valid_scalar(packed)) return Status::ok();
  MsgpackReader in(packed);
  std::string_view span;
  if (!in.read_value(span, max_depth)) {
    return Status::invalid("field value is not a valid MessagePack value: " + in.error());
  }
  if (!in.at_end()) {
    return Status::invalid("field value has " + std::to_string(in.remaining()) +
                           " trailing bytes after one MessagePack object");
  }
  return Status::ok();
}

Status validate_record_state(const RecordState& state, const DecodeLimits& limits) {
  SHOPSYNC_TRY(check_counts(state, limits));
  SHOPSYNC_TRY(check_dots(state));
  for (std::size_t i = 0; i < state.siblings.size(); ++i) {
    for (const auto& [name, field] : state.siblings[i].fields) {
      if (!is_valid_utf8(name) || (!field.removed() && !is_plain_valid_scalar(field.packed))) {
        SHOPSYNC_TRY(check_field(i, name, field, limits.max_value_depth));
      }
    }
  }
  return Status::ok();
}

Status encode_valid_record_state(const RecordState& state, msgpack::sbuffer& out, const DecodeLimits& limits) {
  SHOPSYNC_TRY(check_counts(state, limits));
  SHOPSYNC_TRY(check_dots(state));
  out.write(reinterpret_cast<const char*>(&kRecordFormat), 1);
  Packer pk(out);
  pk.pack_array(kStateElements);
  pk.pack_array(static_cast<std::uint32_t>(state.siblings.size()));
  for (std::size_t i = 0; i < state.siblings.size(); ++i) {
    SHOPSYNC_TRY(pack_version_impl<true>(pk, state.siblings[i], i, limits.max_value_depth));
  }
  pack_version_vector(pk, state.context);
  return Status::ok();
}

}  // namespace shopsync
