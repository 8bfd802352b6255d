#include "node/wire_codec.h"

#include <cstring>
#include <memory>
#include <msgpack.hpp>

#include "node/body_compression.h"
#include "storage/msgpack_reader.h"
#include "storage/record_codec.h"

namespace shopsync::wire {

namespace {


// ---- encoding -------------------------------------------------------------

void pack_str(Packer& p, std::string_view s) {
  p.pack_str(static_cast<std::uint32_t>(s.size()));
  p.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

void pack_bin(Packer& p, std::string_view s) {
  p.pack_bin(static_cast<std::uint32_t>(s.size()));
  p.pack_bin_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

void pack_bool(Packer& p, bool v) {
  if (v) {
    p.pack_true();
  } else {
    p.pack_false();
  }
}

void pack_vv(Packer& p, const VersionVector& vv) {
  p.pack_map(static_cast<std::uint32_t>(vv.entries().size()));
  for (const auto& [node, counter] : vv.entries()) {
    p.pack_uint64(node);
    p.pack_uint64(counter);
  }
}

struct BodyEncoder {
  Packer& p;
  void operator()(const Hello& m) {
    p.pack_array(12);
    pack_str(p, m.cluster);
    p.pack_uint64(m.node_id);
    pack_str(p, m.name);
    pack_str(p, to_string(m.role));
    p.pack_uint32(m.protocol_min);
    p.pack_uint32(m.protocol_max);
    pack_vv(p, m.knowledge);
    p.pack_uint64(m.clock_ms);
    p.pack_uint16(m.listen_port);
    pack_str(p, m.strategies_digest);
    pack_str(p, m.strategies);
    p.pack_uint64(m.incarnation);
  }
  void operator()(const Heartbeat& m) {
    p.pack_array(1);
    p.pack_uint64(m.clock_ms);
  }
  void operator()(const Goodbye& m) {
    p.pack_array(1);
    pack_str(p, m.reason);
  }
  void operator()(const Error& m) {
    p.pack_array(2);
    p.pack_uint32(m.code);
    pack_str(p, m.text);
  }
  void operator()(const Pull& m) {
    p.pack_array(6);
    pack_vv(p, m.knowledge);
    p.pack_uint32(m.credit);
    pack_bool(p, m.snapshot);
    p.pack_array(static_cast<std::uint32_t>(m.held.size()));
    for (const Dot& d : m.held) {
      p.pack_array(2);
      p.pack_uint64(d.origin);
      p.pack_uint64(d.counter);
    }
    p.pack_uint64(m.answer);
    p.pack_array(static_cast<std::uint32_t>(m.want.size()));
    for (const RecordKey& key : m.want) {
      p.pack_array(2);
      pack_str(p, key.collection);
      pack_str(p, key.id);
    }
  }
  void operator()(const Batch& m) {
    p.pack_array(7);
    p.pack_array(static_cast<std::uint32_t>(m.records.size()));
    for (const auto& [key, record] : m.records) {
      p.pack_array(3);
      pack_str(p, key.collection);
      pack_str(p, key.id);
      pack_bin(p, record.bytes());  // as stored: the same standalone value
    }
    pack_vv(p, m.complete);
    pack_bool(p, m.more);
    pack_vv(p, m.base);
    pack_bool(p, m.snapshot);
    p.pack_array(static_cast<std::uint32_t>(m.left.size()));
    for (const LeftRecord& left : m.left) {
      p.pack_array(4);
      pack_str(p, left.key.collection);
      pack_str(p, left.key.id);
      pack_vv(p, left.context);
      pack_vv(p, left.live);
    }
    p.pack_uint64(m.answer);
  }
  void operator()(const Credit& m) {
    p.pack_array(1);
    p.pack_uint32(m.batches);
  }
  void operator()(const Notify& m) {
    p.pack_array(1);
    pack_vv(p, m.knowledge);
  }
  void operator()(const SnapshotRequired& m) {
    p.pack_array(1);
    pack_vv(p, m.horizon);
  }
};

// ---- decoding -------------------------------------------------------------
//
// Bodies are read in place with MsgpackReader: no tree of objects is built,
// so a BATCH's thousand records are read where they lie. Each value is read
// in the order the encoder wrote it, and every failure throws a Failure that
// names the value (caught once, in decode).

struct Failure {
  ErrorCode code;
  std::string text;
};

[[noreturn]] void bad(const std::string& text) { throw Failure{ErrorCode::malformed, text}; }

// A reader over one frame or body (`what`), within `limits`.
class ValueReader {
 public:
  ValueReader(std::string_view bytes, const WireLimits& limits, std::string_view what)
      : in_(bytes), limits_(limits), what_(what) {}

  // An array that must hold at least `required` fields: how many it holds.
  // Fields past the ones a decoder knows are left to skip_rest.
  std::uint32_t fields(std::size_t required, std::string_view name) {
    std::uint32_t n = 0;
    if (!in_.read_array(n)) refused(std::string(name) + " body is not an array");
    counted(n);
    if (n < required) {
      bad(std::string(name) + " body has " + std::to_string(n) + " fields, needs " + std::to_string(required));
    }
    return n;
  }
  std::uint32_t array(std::string_view name, std::string_view otherwise = " is not an array") {
    std::uint32_t n = 0;
    if (!in_.read_array(n)) refused(std::string(name) + std::string(otherwise));
    return counted(n);
  }
  std::uint64_t uint(std::string_view name, std::uint64_t max = UINT64_MAX) {
    std::uint64_t v = 0;
    if (!in_.read_uint(v)) refused(std::string(name) + " is not an unsigned integer");
    if (v > max) bad(std::string(name) + " is out of range");
    return v;
  }
  // `name` and `part` together name the value in the error, built only then.
  std::string_view str(std::string_view name, std::string_view part = {}) {
    std::string_view v;
    if (!in_.read_str(v)) refused(std::string(name) + std::string(part) + " is not a string");
    return sized(v);
  }
  std::string_view bin(std::string_view name) {
    std::string_view v;
    if (!in_.read_bin(v)) refused(std::string(name) + " is not binary");
    return sized(v);
  }
  bool boolean(std::string_view name) {
    bool v = false;
    if (!in_.read_bool(v)) refused(std::string(name) + " is not a boolean");
    return v;
  }
  VersionVector vv(std::string_view name) {
    std::uint32_t n = 0;
    if (!in_.read_map(n)) refused(std::string(name) + " is not a map");
    counted(n);
    VersionVector vv;
    for (std::uint32_t i = 0; i < n; ++i) {
      const NodeId node = uint(std::string(name) + " node id");
      const std::uint64_t counter = uint(std::string(name) + " counter");
      if (vv.get(node) != 0) bad(std::string(name) + " names a node twice");
      vv.set(node, counter);
    }
    return vv;
  }
  // A record key [collection, id] (the array already open), checked as a
  // stored key is.
  RecordKey key(std::string_view name) {
    RecordKey key{std::string(str(name, " collection")), std::string(str(name, " id"))};
    if (Status s = validate_key(key); !s) bad(std::string(name) + ": " + s.message());
    return key;
  }

  // Skips the fields of an array past the `known` ones a decoder read, at
  // `depth` levels of nesting (the array's own included).
  void skip_rest(std::uint32_t fields, std::uint32_t known, int depth) {
    for (std::uint32_t i = known; i < fields; ++i) {
      if (!in_.skip(static_cast<int>(limits_.max_depth) - depth)) refused(std::string(what_) + " does not decode");
    }
  }
  // Nothing may follow the value read.
  void end() {
    if (!in_.at_end()) bad(std::string(what_) + " has " + std::to_string(in_.remaining()) + " trailing bytes");
  }

 private:
  // A read failed: truncated input, or a value nested too deep, is named as
  // such; otherwise the value was of another type.
  [[noreturn]] void refused(const std::string& wrong_type) {
    const std::string& why = in_.error();
    if (why.starts_with("truncated") || why.find("longer than the input") != std::string::npos) {
      bad(std::string(what_) + " is truncated");
    }
    if (why.starts_with("nested deeper")) {
      throw Failure{ErrorCode::too_large, std::string(what_) + " is nested deeper than " +
                                              std::to_string(limits_.max_depth) + " levels"};
    }
    bad(wrong_type);
  }
  std::uint32_t counted(std::uint32_t n) const {
    if (n > limits_.max_elements) {
      throw Failure{ErrorCode::too_large, std::string(what_) + " has an array or map of " + std::to_string(n) +
                                              " elements, over the limit of " + std::to_string(limits_.max_elements)};
    }
    return n;
  }
  std::string_view sized(std::string_view v) const {
    if (v.size() > limits_.max_string_bytes) {
      throw Failure{ErrorCode::too_large, std::string(what_) + " has a value of " + std::to_string(v.size()) +
                                              " bytes, over the limit of " + std::to_string(limits_.max_string_bytes)};
    }
    return v;
  }

  MsgpackReader in_;
  const WireLimits& limits_;
  std::string_view what_;
};

// An array of [origin, counter] pairs, at most kMaxPullHeld.
std::vector<Dot> read_dots(ValueReader& in, std::string_view name) {
  const std::uint32_t n = in.array(name);
  if (n > kMaxPullHeld) bad(std::string(name) + " has more than " + std::to_string(kMaxPullHeld) + " dots");
  std::vector<Dot> out;
  out.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    constexpr std::string_view kNotADot = ": a dot is not [origin, counter]";
    if (in.array(name, kNotADot) != 2) bad(std::string(name) + std::string(kNotADot));
    const NodeId origin = in.uint(std::string(name) + " origin");
    out.push_back(Dot{origin, in.uint(std::string(name) + " counter")});
  }
  return out;
}

// PULL want: an array of [collection, id], at most kMaxPullWant.
std::vector<RecordKey> read_wanted(ValueReader& in) {
  const std::uint32_t n = in.array("PULL want");
  if (n > kMaxPullWant) bad("PULL want has more than " + std::to_string(kMaxPullWant) + " records");
  std::vector<RecordKey> out;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t fields = in.fields(2, "PULL want");
    out.push_back(in.key("PULL want"));
    in.skip_rest(fields, 2, 3);
  }
  return out;
}

// BATCH left: an array of [collection, id, context (VV), live (VV)].
std::vector<LeftRecord> read_left(ValueReader& in) {
  const std::uint32_t n = in.array("BATCH left");
  std::vector<LeftRecord> out;
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t fields = in.fields(4, "BATCH left");
    RecordKey key = in.key("BATCH left");
    VersionVector context = in.vv("BATCH left context");
    out.push_back(LeftRecord{std::move(key), std::move(context), in.vv("BATCH left live")});
    in.skip_rest(fields, 4, 3);
  }
  return out;
}

Hello read_hello(ValueReader& in) {
  const std::uint32_t fields = in.fields(8, "HELLO");
  Hello m;
  m.cluster = std::string(in.str("HELLO cluster"));
  m.node_id = in.uint("HELLO node id");
  m.name = std::string(in.str("HELLO name"));
  const auto role = parse_role(in.str("HELLO role"));
  if (!role) bad("HELLO: " + role.status().message());
  m.role = *role;
  m.protocol_min = static_cast<std::uint32_t>(in.uint("HELLO protocol min", UINT32_MAX));
  m.protocol_max = static_cast<std::uint32_t>(in.uint("HELLO protocol max", UINT32_MAX));
  if (m.protocol_min > m.protocol_max) bad("HELLO protocol range is empty");
  m.knowledge = in.vv("HELLO knowledge");
  m.clock_ms = in.uint("HELLO clock");
  if (fields > 8) m.listen_port = static_cast<std::uint16_t>(in.uint("HELLO listen port", 65535));
  if (fields > 9) m.strategies_digest = std::string(in.str("HELLO strategies digest"));
  if (fields > 10) m.strategies = std::string(in.str("HELLO strategies"));
  if (fields > 11) m.incarnation = in.uint("HELLO incarnation");
  in.skip_rest(fields, 12, 1);
  if (m.strategies_digest.size() > 64) bad("HELLO strategies digest is longer than 64 bytes");
  if (m.strategies.size() > kMaxStrategiesText) bad("HELLO strategies is longer than " + std::to_string(kMaxStrategiesText) + " bytes");
  if (m.node_id == 0) bad("HELLO node id is 0");
  return m;
}

Pull read_pull(ValueReader& in) {
  const std::uint32_t fields = in.fields(2, "PULL");
  Pull m;
  m.knowledge = in.vv("PULL knowledge");
  m.credit = static_cast<std::uint32_t>(in.uint("PULL credit", UINT32_MAX));
  if (fields > 2) m.snapshot = in.boolean("PULL snapshot");
  if (fields > 3) m.held = read_dots(in, "PULL held");
  if (fields > 4) m.answer = in.uint("PULL answer");
  if (fields > 5) m.want = read_wanted(in);
  in.skip_rest(fields, 6, 1);
  return m;
}

// The records keep views into `body`, the buffer the reader reads.
Batch read_batch(ValueReader& in, const std::shared_ptr<const char[]>& body) {
  const std::uint32_t fields = in.fields(3, "BATCH");
  Batch m;
  const std::uint32_t n = in.array("BATCH records");
  m.records.reserve(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    // Which record broke a rule is named only when one did: no string is
    // built for the thousands that do not.
    try {
      const std::uint32_t record_fields = in.fields(3, "BATCH record");
      RecordKey key = in.key("BATCH record");
      auto state = PackedRecord::parse_within(body, in.bin("BATCH record state"));
      if (!state) bad("BATCH record: " + state.status().message());
      in.skip_rest(record_fields, 3, 3);
      m.records.emplace_back(std::move(key), std::move(*state));
    } catch (Failure& failure) {
      constexpr std::string_view kWhat = "BATCH record";  // how each error above begins
      if (failure.text.starts_with(kWhat)) failure.text.insert(kWhat.size(), " " + std::to_string(i));
      throw;
    }
  }
  m.complete = in.vv("BATCH complete");
  m.more = in.boolean("BATCH more");
  if (fields > 3) m.base = in.vv("BATCH base");
  if (fields > 4) m.snapshot = in.boolean("BATCH snapshot");
  if (fields > 5) m.left = read_left(in);
  if (fields > 6) m.answer = in.uint("BATCH answer");
  in.skip_rest(fields, 7, 1);
  return m;
}

// A body of one field or more, `read` taking its first: the rest skipped.
template <class Read>
auto read_fields(ValueReader& in, std::size_t required, std::string_view name, Read&& read) {
  const std::uint32_t fields = in.fields(required, name);
  auto m = read(fields);
  in.skip_rest(fields, 1, 1);
  return m;
}

WireMessage read_body(MessageType type, ValueReader& in, const std::shared_ptr<const char[]>& buffer) {
  switch (type) {
    case MessageType::hello: return read_hello(in);
    case MessageType::heartbeat:
      return read_fields(in, 1, "HEARTBEAT", [&](std::uint32_t) { return Heartbeat{in.uint("HEARTBEAT clock")}; });
    case MessageType::goodbye:
      return read_fields(in, 1, "GOODBYE", [&](std::uint32_t) { return Goodbye{std::string(in.str("GOODBYE reason"))}; });
    case MessageType::error: {
      const std::uint32_t fields = in.fields(2, "ERROR");
      Error m;
      m.code = static_cast<std::uint32_t>(in.uint("ERROR code", UINT32_MAX));
      m.text = std::string(in.str("ERROR text"));
      in.skip_rest(fields, 2, 1);
      return m;
    }
    case MessageType::pull: return read_pull(in);
    case MessageType::batch: return read_batch(in, buffer);
    case MessageType::credit:
      return read_fields(in, 1, "CREDIT", [&](std::uint32_t) {
        return Credit{static_cast<std::uint32_t>(in.uint("CREDIT batches", UINT32_MAX))};
      });
    case MessageType::notify:
      return read_fields(in, 1, "NOTIFY", [&](std::uint32_t) { return Notify{in.vv("NOTIFY knowledge")}; });
    case MessageType::snapshot_required: {
      // The horizon was appended in 0.1 (bodies only grow): an older peer's
      // empty body still decodes, with an empty horizon.
      const std::uint32_t fields = in.fields(0, "SNAPSHOT_REQUIRED");
      SnapshotRequired m;
      if (fields > 0) m.horizon = in.vv("SNAPSHOT_REQUIRED horizon");
      in.skip_rest(fields, 1, 1);
      return m;
    }
  }
  bad("unknown message type");
}

bool is_known(std::uint64_t type) { return type >= 1 && type <= 9; }

}  // namespace

std::string_view to_string(MessageType type) {
  switch (type) {
    case MessageType::hello: return "HELLO";
    case MessageType::pull: return "PULL";
    case MessageType::batch: return "BATCH";
    case MessageType::credit: return "CREDIT";
    case MessageType::notify: return "NOTIFY";
    case MessageType::snapshot_required: return "SNAPSHOT_REQUIRED";
    case MessageType::heartbeat: return "HEARTBEAT";
    case MessageType::error: return "ERROR";
    case MessageType::goodbye: return "GOODBYE";
  }
  return "UNKNOWN";
}

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::malformed: return "malformed";
    case ErrorCode::unknown_type: return "unknown_type";
    case ErrorCode::unsupported_version: return "unsupported_version";
    case ErrorCode::wrong_cluster: return "wrong_cluster";
    case ErrorCode::not_ready: return "not_ready";
    case ErrorCode::refused: return "refused";
    case ErrorCode::too_large: return "too_large";
    case ErrorCode::internal: return "internal";
    case ErrorCode::wrong_strategies: return "wrong_strategies";
  }
  return "unknown";
}

MessageType type_of(const WireMessage& message) {
  static constexpr MessageType kTypes[] = {MessageType::hello,  MessageType::heartbeat, MessageType::error,
                                           MessageType::pull,   MessageType::batch,     MessageType::credit,
                                           MessageType::notify, MessageType::snapshot_required,
                                           MessageType::goodbye};
  return kTypes[message.index()];
}

std::string encode(const WireMessage& message, std::uint32_t version) {
  msgpack::sbuffer body;
  {
    Packer p(body);
    std::visit(BodyEncoder{p}, message);
  }
  std::uint32_t flags = 0;
  std::string compressed;
  if (body.size() >= kCompressMinBytes) {
    compressed = compress_body({body.data(), body.size()});
    if (!compressed.empty()) flags |= kFlagZstd;
  }
  const std::string_view payload = (flags & kFlagZstd) ? std::string_view(compressed)
                                                       : std::string_view(body.data(), body.size());
  msgpack::sbuffer frame(payload.size() + 16);
  Packer p(frame);
  p.pack_array(4);
  p.pack_uint32(version);
  p.pack_uint32(static_cast<std::uint32_t>(type_of(message)));
  p.pack_uint32(flags);
  pack_bin(p, payload);
  return std::string(frame.data(), frame.size());
}

DecodeResult decode(std::string_view bytes, const WireLimits& limits) {
  std::uint32_t type = 0;
  try {
    if (bytes.size() > limits.max_frame_bytes) {
      return DecodeError{ErrorCode::too_large, "frame of " + std::to_string(bytes.size()) + " bytes exceeds the limit", 0};
    }
    // The header never nests: [version, type, flags, body, ...].
    WireLimits header_limits = limits;
    header_limits.max_depth = 1;
    header_limits.max_elements = 64;
    header_limits.max_string_bytes = limits.max_frame_bytes;
    ValueReader header(bytes, header_limits, "frame");
    const std::uint32_t fields = header.fields(4, "frame");
    const std::uint64_t version = header.uint("frame version", UINT32_MAX);
    const std::uint64_t raw_type = header.uint("frame type", UINT32_MAX);
    type = static_cast<std::uint32_t>(raw_type);
    const std::uint64_t flags = header.uint("frame flags", UINT32_MAX);
    std::string_view body = header.bin("frame body");
    header.skip_rest(fields, 4, 1);
    header.end();
    if (version < kProtocolMin || version > kProtocolMax) {
      return DecodeError{ErrorCode::unsupported_version,
                         "protocol version " + std::to_string(version) + " is not in " + std::to_string(kProtocolMin) +
                             ".." + std::to_string(kProtocolMax),
                         type};
    }
    if (!is_known(raw_type)) {
      return DecodeError{ErrorCode::unknown_type, "unknown message type " + std::to_string(raw_type), type};
    }
    if ((flags & ~std::uint64_t{kFlagZstd}) != 0) bad("frame has unknown flags " + std::to_string(flags));
    // The body's own buffer: the decompressed bytes, or for a BATCH a copy
    // of the frame's, whose records keep views into it (one buffer, not a
    // copy per record). zstd fills it exactly (or the frame is refused): it
    // is not zero-filled first.
    std::shared_ptr<char[]> buffer;
    const auto t = static_cast<MessageType>(raw_type);
    if (flags & kFlagZstd) {
      const auto size = compressed_body_size(body);
      if (!size) bad("compressed body is not a sized zstd frame");
      if (*size > limits.max_body_bytes) {
        return DecodeError{ErrorCode::too_large, "body of " + std::to_string(*size) + " bytes exceeds the limit", type};
      }
      buffer = std::make_shared_for_overwrite<char[]>(*size);
      if (!decompress_body_into(body, {buffer.get(), *size})) bad("compressed body does not decompress");
      body = std::string_view(buffer.get(), *size);
    } else if (t == MessageType::batch) {
      buffer = std::make_shared_for_overwrite<char[]>(body.size());
      std::memcpy(buffer.get(), body.data(), body.size());
      body = std::string_view(buffer.get(), body.size());
    }
    ValueReader in(body, limits, "body");
    WireMessage message = read_body(t, in, buffer);
    in.end();
    return Decoded{static_cast<std::uint32_t>(version), std::move(message)};
  } catch (const Failure& f) {
    return DecodeError{f.code, f.text, type};
  } catch (const std::bad_alloc&) {
    return DecodeError{ErrorCode::too_large, "frame too large to decode", type};
  } catch (const std::exception& e) {
    return DecodeError{ErrorCode::malformed, std::string("frame does not decode: ") + e.what(), type};
  }
}

}  // namespace shopsync::wire
