#include "api/msgpack_map.h"

#include <msgpack.hpp>

#include "storage/msgpack_reader.h"

namespace shopsync::api::mp {

namespace {

// msgpack-c's packer writes to any stream with write(const char*, size_t).
struct StringStream {
  std::string* buf;
  void write(const char* data, std::size_t size) { buf->append(data, size); }
};

}  // namespace

// msgpack::packer holds a reference to its stream, so each call builds one over
// a stream that lives for the call.
void Out::nil() {
  StringStream s{buf_};
  msgpack::packer<StringStream>(s).pack_nil();
}
void Out::boolean(bool v) {
  StringStream s{buf_};
  msgpack::packer<StringStream> p(s);
  if (v) {
    p.pack_true();
  } else {
    p.pack_false();
  }
}
void Out::uint(std::uint64_t v) {
  StringStream s{buf_};
  msgpack::packer<StringStream>(s).pack_uint64(v);
}
void Out::sint(std::int64_t v) {
  StringStream s{buf_};
  msgpack::packer<StringStream>(s).pack_int64(v);
}
void Out::str(std::string_view v) {
  StringStream s{buf_};
  msgpack::packer<StringStream> p(s);
  p.pack_str(static_cast<std::uint32_t>(v.size()));
  p.pack_str_body(v.data(), static_cast<std::uint32_t>(v.size()));
}
void Out::array(std::size_t count) {
  StringStream s{buf_};
  msgpack::packer<StringStream>(s).pack_array(static_cast<std::uint32_t>(count));
}
void Out::map(std::size_t count) {
  StringStream s{buf_};
  msgpack::packer<StringStream>(s).pack_map(static_cast<std::uint32_t>(count));
}

bool MapIn::parse(std::string_view bytes, int max_depth, std::string_view what) {
  entries_.clear();
  error_.clear();
  what_ = what;
  depth_ = max_depth;
  MsgpackReader r(bytes);
  std::uint32_t count = 0;
  if (!r.read_map(count)) return fail(std::string(what) + " is not a map (" + r.error() + ")");
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string_view key;
    if (!r.read_str(key)) return fail(std::string(what) + ": a key is not a string (" + r.error() + ")");
    const auto start = r.offset();
    if (!r.skip(max_depth - 1)) {
      return fail(std::string(what) + ": the value of '" + std::string(key) + "' does not decode (" + r.error() + ")");
    }
    if (!entries_.emplace(key, bytes.substr(start, r.offset() - start)).second) {
      return fail(std::string(what) + ": key '" + std::string(key) + "' appears twice");
    }
  }
  if (!r.at_end()) return fail(std::string(what) + ": " + std::to_string(r.remaining()) + " trailing bytes");
  return true;
}

bool MapIn::fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
  return false;
}

bool MapIn::lookup(std::string_view key, bool required, std::string_view& value) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (required) fail(what_ + ": '" + std::string(key) + "' is missing");
    return false;
  }
  value = it->second;
  return true;
}

bool MapIn::wrong_type(std::string_view key, std::string_view expected) {
  return fail(what_ + ": '" + std::string(key) + "' must be " + std::string(expected));
}

bool MapIn::str(std::string_view key, std::string& out, bool required) {
  std::string_view v;
  if (!lookup(key, required, v)) return !required;
  return decode_str(v, out) || wrong_type(key, "a string");
}

bool MapIn::uint(std::string_view key, std::uint64_t& out, bool required) {
  std::string_view v;
  if (!lookup(key, required, v)) return !required;
  return decode_uint(v, out) || wrong_type(key, "a non-negative integer");
}

bool MapIn::u32(std::string_view key, std::uint32_t& out, bool required) {
  std::uint64_t wide = out;
  if (!uint(key, wide, required)) return false;
  if (wide > 0xffffffffu) return wrong_type(key, "below 2^32");
  out = static_cast<std::uint32_t>(wide);
  return true;
}

bool MapIn::sint(std::string_view key, std::int64_t& out, bool required) {
  std::string_view v;
  if (!lookup(key, required, v)) return !required;
  return decode_sint(v, out) || wrong_type(key, "an integer");
}

bool MapIn::boolean(std::string_view key, bool& out, bool required) {
  std::string_view v;
  if (!lookup(key, required, v)) return !required;
  return decode_bool(v, out) || wrong_type(key, "true or false");
}

bool MapIn::map(std::string_view key, MapIn& out, bool required) {
  std::string_view v;
  if (!lookup(key, required, v)) return !required;
  if (!out.parse(v, depth_ - 1, what_ + "." + std::string(key))) return fail(out.error());
  return true;
}

bool MapIn::array(std::string_view key, std::vector<std::string_view>& out, bool required) {
  std::string_view v;
  if (!lookup(key, required, v)) return !required;
  return decode_array(v, depth_ - 1, out) || wrong_type(key, "an array");
}

bool MapIn::raw(std::string_view key, std::string_view& out, bool required) {
  std::string_view v;
  if (!lookup(key, required, v)) return !required;
  out = v;
  return true;
}

bool decode_str(std::string_view bytes, std::string& out) {
  MsgpackReader r(bytes);
  std::string_view v;
  if (!r.read_str(v) || !r.at_end()) return false;
  out.assign(v);
  return true;
}

bool decode_uint(std::string_view bytes, std::uint64_t& out) {
  MsgpackReader r(bytes);
  std::uint64_t v = 0;
  if (!r.read_uint(v) || !r.at_end()) return false;
  out = v;
  return true;
}

bool decode_sint(std::string_view bytes, std::int64_t& out) {
  if (bytes.empty()) return false;
  const auto tag = static_cast<std::uint8_t>(bytes[0]);
  if (tag >= 0xe0) {  // negative fixint
    if (bytes.size() != 1) return false;
    out = static_cast<std::int8_t>(tag);
    return true;
  }
  std::size_t width = 0;
  switch (tag) {
    case 0xd0: width = 1; break;
    case 0xd1: width = 2; break;
    case 0xd2: width = 4; break;
    case 0xd3: width = 8; break;
    default: {
      std::uint64_t u = 0;
      if (!decode_uint(bytes, u) || u > static_cast<std::uint64_t>(INT64_MAX)) return false;
      out = static_cast<std::int64_t>(u);
      return true;
    }
  }
  if (bytes.size() != 1 + width) return false;
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<std::uint8_t>(bytes[1 + i]);
  // Sign-extend from `width` bytes.
  const unsigned shift = static_cast<unsigned>(64 - 8 * width);
  out = static_cast<std::int64_t>(v << shift) >> shift;
  return true;
}

bool decode_bool(std::string_view bytes, bool& out) {
  MsgpackReader r(bytes);
  bool v = false;
  if (!r.read_bool(v) || !r.at_end()) return false;
  out = v;
  return true;
}

bool decode_array(std::string_view bytes, int max_depth, std::vector<std::string_view>& out) {
  MsgpackReader r(bytes);
  std::uint32_t count = 0;
  if (!r.read_array(count)) return false;
  out.clear();
  out.reserve(count);  // bounded: read_array checked count against the bytes present
  for (std::uint32_t i = 0; i < count; ++i) {
    const auto start = r.offset();
    if (!r.skip(max_depth - 1)) return false;
    out.push_back(bytes.substr(start, r.offset() - start));
  }
  return r.at_end();
}

}  // namespace shopsync::api::mp
