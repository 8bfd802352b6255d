// Sample values for the storage tests: packed field values of every type of the
// data model, and record states built from them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <msgpack/pack.hpp>
#include <msgpack/sbuffer.hpp>

#include "storage/record.h"

namespace shopsync::test {

// Packs one value with msgpack-c's packer.
template <class F>
std::string packed(F&& write) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> pk(buf);
  write(pk);
  return std::string(buf.data(), buf.size());
}

inline std::string packed_nil() { return packed([](auto& pk) { pk.pack_nil(); }); }
inline std::string packed_bool(bool b) { return packed([&](auto& pk) { b ? pk.pack_true() : pk.pack_false(); }); }
inline std::string packed_int(std::int64_t v) { return packed([&](auto& pk) { pk.pack_int64(v); }); }
inline std::string packed_double(double v) { return packed([&](auto& pk) { pk.pack_double(v); }); }
inline std::string packed_str(std::string_view s) {
  return packed([&](auto& pk) {
    pk.pack_str(static_cast<std::uint32_t>(s.size()));
    pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
  });
}
inline std::string packed_bin(std::string_view s) {
  return packed([&](auto& pk) {
    pk.pack_bin(static_cast<std::uint32_t>(s.size()));
    pk.pack_bin_body(s.data(), static_cast<std::uint32_t>(s.size()));
  });
}

// A version whose fields cover every type: nil, bool, int, negative int,
// double, string, binary, array, map, and one removed field.
inline Version every_type_version(Dot dot, Hlc at) {
  Version v;
  v.dot = dot;
  v.updated_at = at;
  v.uplink_origin = true;
  v.fields["nil"] = {packed_nil(), at};
  v.fields["flag"] = {packed_bool(true), at};
  v.fields["off"] = {packed_bool(false), at};
  v.fields["count"] = {packed_int(42), at};
  v.fields["big"] = {packed_int(std::int64_t{1} << 60), at};
  v.fields["debt"] = {packed_int(-1234567), at};
  v.fields["min"] = {packed_int(INT64_MIN), at};
  v.fields["price"] = {packed_double(19.99), at};
  v.fields["name"] = {packed_str("Zoë Ångström, 東京"), at + 1};
  v.fields["blob"] = {packed_bin(std::string("\0\x01\xff\x80", 4)), at};
  v.fields["tags"] = {packed([](auto& pk) {
                        pk.pack_array(3);
                        pk.pack_str(3);
                        pk.pack_str_body("vip", 3);
                        pk.pack_int(7);
                        pk.pack_nil();
                      }),
                      at};
  v.fields["address"] = {packed([](auto& pk) {
                           pk.pack_map(2);
                           pk.pack_str(4);
                           pk.pack_str_body("city", 4);
                           pk.pack_str(5);
                           pk.pack_str_body("Paris", 5);
                           pk.pack_str(3);
                           pk.pack_str_body("geo", 3);
                           pk.pack_array(2);
                           pk.pack_double(48.85);
                           pk.pack_double(2.35);
                         }),
                         at};
  v.fields["gone"] = {std::string(), at + 2};  // removed
  return v;
}

// A plain record state with one sibling at `dot`.
inline RecordState simple_state(Dot dot, std::string_view name, Hlc at = 1000) {
  RecordState s;
  Version v;
  v.dot = dot;
  v.updated_at = at;
  v.fields["name"] = {packed_str(name), at};
  s.siblings.push_back(std::move(v));
  s.context.advance(dot);
  return s;
}

}  // namespace shopsync::test
