#include "node/wire_codec.h"

#include <cstring>
#include <memory>
#include <msgpack.hpp>

#include "node/body_compression.h"
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

struct Failure {
  ErrorCode code;
  std::string text;
};

// Keeps str/bin bodies as references into the input (no copy); the input
// outlives the msgpack object in every use below.
bool reference_everything(msgpack::type::object_type, std::size_t, void*) { return true; }

msgpack::object_handle unpack_exact(std::string_view bytes, const WireLimits& limits, std::string_view what) {
  const msgpack::unpack_limit limit(limits.max_elements, limits.max_elements, limits.max_string_bytes,
                                    limits.max_string_bytes, 0, limits.max_depth);
  std::size_t offset = 0;
  msgpack::object_handle handle;
  try {
    handle = msgpack::unpack(bytes.data(), bytes.size(), offset, &reference_everything, nullptr, limit);
  } catch (const msgpack::insufficient_bytes&) {
    throw Failure{ErrorCode::malformed, std::string(what) + " is truncated"};
  } catch (const msgpack::size_overflow& e) {
    throw Failure{ErrorCode::too_large, std::string(what) + " exceeds a size or depth limit (" + e.what() + ")"};
  } catch (const std::exception& e) {
    throw Failure{ErrorCode::malformed, std::string(what) + " is not MessagePack (" + e.what() + ")"};
  }
  if (offset != bytes.size()) {
    throw Failure{ErrorCode::malformed, std::string(what) + " has " + std::to_string(bytes.size() - offset) +
                                            " trailing bytes"};
  }
  return handle;
}

[[noreturn]] void bad(const std::string& text) { throw Failure{ErrorCode::malformed, text}; }

// The fields of one body: an array, of which the first `required` must exist.
class Fields {
 public:
  Fields(const msgpack::object& o, std::size_t required, std::string_view what) : what_(what) {
    if (o.type != msgpack::type::ARRAY) bad(std::string(what) + " body is not an array");
    items_ = o.via.array.ptr;
    size_ = o.via.array.size;
    if (size_ < required) {
      bad(std::string(what) + " body has " + std::to_string(size_) + " fields, needs " + std::to_string(required));
    }
  }
  bool has(std::size_t i) const { return i < size_; }
  const msgpack::object& at(std::size_t i) const { return items_[i]; }
  std::string_view what() const { return what_; }

 private:
  const msgpack::object* items_ = nullptr;
  std::size_t size_ = 0;
  std::string_view what_;
};

std::uint64_t as_uint(const msgpack::object& o, std::string_view name, std::uint64_t max = UINT64_MAX) {
  if (o.type != msgpack::type::POSITIVE_INTEGER) bad(std::string(name) + " is not an unsigned integer");
  if (o.via.u64 > max) bad(std::string(name) + " is out of range");
  return o.via.u64;
}

// `name` and `part` together name the value in the error, built only then.
std::string_view as_str(const msgpack::object& o, std::string_view name, std::string_view part = {}) {
  if (o.type != msgpack::type::STR) bad(std::string(name) + std::string(part) + " is not a string");
  return {o.via.str.ptr, o.via.str.size};
}

std::string_view as_bin(const msgpack::object& o, std::string_view name) {
  if (o.type != msgpack::type::BIN) bad(std::string(name) + " is not binary");
  return {o.via.bin.ptr, o.via.bin.size};
}

bool as_bool(const msgpack::object& o, std::string_view name) {
  if (o.type != msgpack::type::BOOLEAN) bad(std::string(name) + " is not a boolean");
  return o.via.boolean;
}

VersionVector as_vv(const msgpack::object& o, std::string_view name) {
  if (o.type != msgpack::type::MAP) bad(std::string(name) + " is not a map");
  VersionVector vv;
  for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
    const auto& kv = o.via.map.ptr[i];
    const NodeId node = as_uint(kv.key, std::string(name) + " node id");
    const std::uint64_t counter = as_uint(kv.val, std::string(name) + " counter");
    if (vv.get(node) != 0) bad(std::string(name) + " names a node twice");
    vv.set(node, counter);
  }
  return vv;
}

// An array of [origin, counter] pairs, at most kMaxPullHeld.
std::vector<Dot> as_dots(const msgpack::object& o, std::string_view name) {
  if (o.type != msgpack::type::ARRAY) bad(std::string(name) + " is not an array");
  if (o.via.array.size > kMaxPullHeld) bad(std::string(name) + " has more than " + std::to_string(kMaxPullHeld) + " dots");
  std::vector<Dot> out;
  for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
    const auto& d = o.via.array.ptr[i];
    if (d.type != msgpack::type::ARRAY || d.via.array.size != 2) bad(std::string(name) + ": a dot is not [origin, counter]");
    out.push_back(Dot{as_uint(d.via.array.ptr[0], std::string(name) + " origin"),
                      as_uint(d.via.array.ptr[1], std::string(name) + " counter")});
  }
  return out;
}

// A record key [collection, id], checked as a stored key is.
RecordKey as_key(const Fields& f, std::string_view name) {
  RecordKey key{std::string(as_str(f.at(0), name, " collection")), std::string(as_str(f.at(1), name, " id"))};
  if (Status s = validate_key(key); !s) bad(std::string(name) + ": " + s.message());
  return key;
}

// PULL want: an array of [collection, id], at most kMaxPullWant.
std::vector<RecordKey> as_wanted(const msgpack::object& o) {
  if (o.type != msgpack::type::ARRAY) bad("PULL want is not an array");
  if (o.via.array.size > kMaxPullWant) bad("PULL want has more than " + std::to_string(kMaxPullWant) + " records");
  std::vector<RecordKey> out;
  for (std::uint32_t i = 0; i < o.via.array.size; ++i) out.push_back(as_key(Fields(o.via.array.ptr[i], 2, "PULL want"), "PULL want"));
  return out;
}

// BATCH left: an array of [collection, id, context (VV), live (VV)].
std::vector<LeftRecord> as_left(const msgpack::object& o) {
  if (o.type != msgpack::type::ARRAY) bad("BATCH left is not an array");
  std::vector<LeftRecord> out;
  for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
    const Fields f(o.via.array.ptr[i], 4, "BATCH left");
    out.push_back(LeftRecord{as_key(f, "BATCH left"), as_vv(f.at(2), "BATCH left context"),
                             as_vv(f.at(3), "BATCH left live")});
  }
  return out;
}

Hello decode_hello(const Fields& f) {
  Hello m;
  m.cluster = std::string(as_str(f.at(0), "HELLO cluster"));
  m.node_id = as_uint(f.at(1), "HELLO node id");
  m.name = std::string(as_str(f.at(2), "HELLO name"));
  const auto role = parse_role(as_str(f.at(3), "HELLO role"));
  if (!role) bad("HELLO: " + role.status().message());
  m.role = *role;
  m.protocol_min = static_cast<std::uint32_t>(as_uint(f.at(4), "HELLO protocol min", UINT32_MAX));
  m.protocol_max = static_cast<std::uint32_t>(as_uint(f.at(5), "HELLO protocol max", UINT32_MAX));
  if (m.protocol_min > m.protocol_max) bad("HELLO protocol range is empty");
  m.knowledge = as_vv(f.at(6), "HELLO knowledge");
  m.clock_ms = as_uint(f.at(7), "HELLO clock");
  if (f.has(8)) m.listen_port = static_cast<std::uint16_t>(as_uint(f.at(8), "HELLO listen port", 65535));
  if (f.has(9)) m.strategies_digest = std::string(as_str(f.at(9), "HELLO strategies digest"));
  if (f.has(10)) m.strategies = std::string(as_str(f.at(10), "HELLO strategies"));
  if (f.has(11)) m.incarnation = as_uint(f.at(11), "HELLO incarnation");
  if (m.strategies_digest.size() > 64) bad("HELLO strategies digest is longer than 64 bytes");
  if (m.strategies.size() > kMaxStrategiesText) bad("HELLO strategies is longer than " + std::to_string(kMaxStrategiesText) + " bytes");
  if (m.node_id == 0) bad("HELLO node id is 0");
  return m;
}

// `body` is the buffer the frame's body was decoded from: the records keep
// views into it.
Batch decode_batch(const Fields& f, const std::shared_ptr<const char[]>& body) {
  Batch m;
  const auto& records = f.at(0);
  if (records.type != msgpack::type::ARRAY) bad("BATCH records is not an array");
  m.records.reserve(records.via.array.size);
  for (std::uint32_t i = 0; i < records.via.array.size; ++i) {
    // Which record broke a rule is named only when one did: no string is
    // built for the thousands that do not.
    try {
      const Fields r(records.via.array.ptr[i], 3, "BATCH record");
      RecordKey key = as_key(r, "BATCH record");
      auto state = PackedRecord::parse_within(body, as_bin(r.at(2), "BATCH record state"));
      if (!state) bad("BATCH record: " + state.status().message());
      m.records.emplace_back(std::move(key), std::move(*state));
    } catch (Failure& failure) {
      constexpr std::string_view kWhat = "BATCH record";  // how each error above begins
      if (failure.text.starts_with(kWhat)) failure.text.insert(kWhat.size(), " " + std::to_string(i));
      throw;
    }
  }
  m.complete = as_vv(f.at(1), "BATCH complete");
  m.more = as_bool(f.at(2), "BATCH more");
  if (f.has(3)) m.base = as_vv(f.at(3), "BATCH base");
  if (f.has(4)) m.snapshot = as_bool(f.at(4), "BATCH snapshot");
  if (f.has(5)) m.left = as_left(f.at(5));
  if (f.has(6)) m.answer = as_uint(f.at(6), "BATCH answer");
  return m;
}

WireMessage decode_body(MessageType type, const msgpack::object& body, const std::shared_ptr<const char[]>& buffer) {
  switch (type) {
    case MessageType::hello: return decode_hello(Fields(body, 8, "HELLO"));
    case MessageType::heartbeat: {
      const Fields f(body, 1, "HEARTBEAT");
      return Heartbeat{as_uint(f.at(0), "HEARTBEAT clock")};
    }
    case MessageType::goodbye: {
      const Fields f(body, 1, "GOODBYE");
      return Goodbye{std::string(as_str(f.at(0), "GOODBYE reason"))};
    }
    case MessageType::error: {
      const Fields f(body, 2, "ERROR");
      return Error{static_cast<std::uint32_t>(as_uint(f.at(0), "ERROR code", UINT32_MAX)),
                   std::string(as_str(f.at(1), "ERROR text"))};
    }
    case MessageType::pull: {
      const Fields f(body, 2, "PULL");
      Pull m;
      m.knowledge = as_vv(f.at(0), "PULL knowledge");
      m.credit = static_cast<std::uint32_t>(as_uint(f.at(1), "PULL credit", UINT32_MAX));
      if (f.has(2)) m.snapshot = as_bool(f.at(2), "PULL snapshot");
      if (f.has(3)) m.held = as_dots(f.at(3), "PULL held");
      if (f.has(4)) m.answer = as_uint(f.at(4), "PULL answer");
      if (f.has(5)) m.want = as_wanted(f.at(5));
      return m;
    }
    case MessageType::batch: return decode_batch(Fields(body, 3, "BATCH"), buffer);
    case MessageType::credit: {
      const Fields f(body, 1, "CREDIT");
      return Credit{static_cast<std::uint32_t>(as_uint(f.at(0), "CREDIT batches", UINT32_MAX))};
    }
    case MessageType::notify: {
      const Fields f(body, 1, "NOTIFY");
      return Notify{as_vv(f.at(0), "NOTIFY knowledge")};
    }
    case MessageType::snapshot_required: {
      // The horizon was appended in 0.1 (bodies only grow): an older peer's
      // empty body still decodes, with an empty horizon.
      const Fields f(body, 0, "SNAPSHOT_REQUIRED");
      SnapshotRequired m;
      if (f.has(0)) m.horizon = as_vv(f.at(0), "SNAPSHOT_REQUIRED horizon");
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
    const auto frame = unpack_exact(bytes, header_limits, "frame");
    const Fields header(frame.get(), 4, "frame");
    const std::uint64_t version = as_uint(header.at(0), "frame version", UINT32_MAX);
    const std::uint64_t raw_type = as_uint(header.at(1), "frame type", UINT32_MAX);
    type = static_cast<std::uint32_t>(raw_type);
    const std::uint64_t flags = as_uint(header.at(2), "frame flags", UINT32_MAX);
    std::string_view body = as_bin(header.at(3), "frame body");
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
    const auto object = unpack_exact(body, limits, "body");
    return Decoded{static_cast<std::uint32_t>(version), decode_body(t, object.get(), buffer)};
  } catch (const Failure& f) {
    return DecodeError{f.code, f.text, type};
  } catch (const std::bad_alloc&) {
    return DecodeError{ErrorCode::too_large, "frame too large to decode", type};
  } catch (const std::exception& e) {
    return DecodeError{ErrorCode::malformed, std::string("frame does not decode: ") + e.what(), type};
  }
}

}  // namespace shopsync::wire
