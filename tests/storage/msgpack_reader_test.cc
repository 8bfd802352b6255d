// The reader every stored record and received batch goes through
// (storage/msgpack_reader.h): read_value, with its fast paths for the
// common scalars and short strings, held to msgpack-c's own parser on every
// encoding, whole and cut short.
#include <random>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>
#include <msgpack.hpp>

#include "storage/msgpack_reader.h"
#include "storage/record.h"
#include "tests/support/seeds.h"

namespace shopsync {
namespace {

// A field value of the data model as msgpack-c sees it: no ext type, every
// string valid UTF-8, at most kMaxValueDepth levels of containers.
bool model_value(const msgpack::object& o, int depth_left) {
  switch (o.type) {
    case msgpack::type::EXT: return false;
    case msgpack::type::STR: return is_valid_utf8(std::string_view(o.via.str.ptr, o.via.str.size));
    case msgpack::type::ARRAY:
      if (depth_left <= 0) return false;
      for (std::uint32_t i = 0; i < o.via.array.size; ++i) {
        if (!model_value(o.via.array.ptr[i], depth_left - 1)) return false;
      }
      return true;
    case msgpack::type::MAP:
      if (depth_left <= 0) return false;
      for (std::uint32_t i = 0; i < o.via.map.size; ++i) {
        if (!model_value(o.via.map.ptr[i].key, depth_left - 1) || !model_value(o.via.map.ptr[i].val, depth_left - 1)) {
          return false;
        }
      }
      return true;
    default: return true;
  }
}

// How many bytes the value at the front of `bytes` takes when it is a field
// value; 0 when it is not one or is cut short.
std::size_t reference_size(std::string_view bytes) {
  std::size_t used = 0;
  try {
    msgpack::object_handle h = msgpack::unpack(bytes.data(), bytes.size(), used);
    return model_value(h.get(), kMaxValueDepth) ? used : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

std::string random_text(std::mt19937_64& rng, std::size_t max_len) {
  std::string s(rng() % (max_len + 1), '\0');
  const bool ascii = rng() % 2 == 0;
  for (char& c : s) c = static_cast<char>(ascii ? 0x20 + rng() % 0x5f : rng());
  return s;
}

// One value of every encoding the reader knows, chosen at random.
void pack_random_value(msgpack::packer<msgpack::sbuffer>& pk, std::mt19937_64& rng, int depth) {
  switch (rng() % (depth < 3 ? 12 : 10)) {
    case 0: pk.pack_uint64(rng() >> (rng() % 64)); break;
    case 1: pk.pack_int64(-static_cast<std::int64_t>(rng() >> (1 + rng() % 63))); break;
    case 2: pk.pack_double(static_cast<double>(rng() % 100000) / 7.0); break;
    case 3: pk.pack_float(static_cast<float>(rng() % 1000) / 3.0f); break;
    case 4: rng() % 2 ? pk.pack_true() : pk.pack_false(); break;
    case 5: pk.pack_nil(); break;
    case 6:
    case 7: {
      const std::string s = random_text(rng, rng() % 4 == 0 ? 300 : 40);
      pk.pack_str(static_cast<std::uint32_t>(s.size()));
      pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
      break;
    }
    case 8: {
      const std::string b = random_text(rng, 20);
      pk.pack_bin(static_cast<std::uint32_t>(b.size()));
      pk.pack_bin_body(b.data(), static_cast<std::uint32_t>(b.size()));
      break;
    }
    case 9: {
      const std::string e = random_text(rng, 4);
      pk.pack_ext(e.size(), 1);
      pk.pack_ext_body(e.data(), static_cast<std::uint32_t>(e.size()));
      break;
    }
    case 10: {
      const auto n = static_cast<std::uint32_t>(rng() % 4);
      pk.pack_array(n);
      for (std::uint32_t i = 0; i < n; ++i) pack_random_value(pk, rng, depth + 1);
      break;
    }
    default: {
      const auto n = static_cast<std::uint32_t>(rng() % 3);
      pk.pack_map(n);
      for (std::uint32_t i = 0; i < 2 * n; ++i) pack_random_value(pk, rng, depth + 1);
      break;
    }
  }
}

BOOST_AUTO_TEST_CASE(read_value_takes_what_msgpack_c_reads_as_a_field_value) {
  std::mt19937_64 rng(test::env_u64("SHOPSYNC_SEED", 20261207));
  int checked = 0;
  for (int round = 0; round < 5000; ++round) {
    msgpack::sbuffer buf;
    msgpack::packer<msgpack::sbuffer> pk(buf);
    pack_random_value(pk, rng, 0);
    const std::string whole(buf.data(), buf.size());
    // The whole value, then cut short at every length; and with a byte
    // after it, which the reader must leave unread.
    for (std::size_t cut = 0; cut <= whole.size() + 1; ++cut) {
      const std::string bytes = cut <= whole.size() ? whole.substr(0, cut) : whole + "\x01";
      const std::size_t expected = reference_size(bytes);
      MsgpackReader in(bytes);
      std::string_view span;
      const bool read = in.read_value(span);
      BOOST_TEST_REQUIRE(read == (expected != 0), "value " << round << " cut at " << cut << ": " << in.error());
      if (read) {
        BOOST_TEST_REQUIRE(span.size() == expected);
        BOOST_TEST_REQUIRE(in.offset() == expected);
      }
      ++checked;
    }
  }
  BOOST_TEST(checked > 5000);
}

}  // namespace
}  // namespace shopsync
