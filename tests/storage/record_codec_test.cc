// The MessagePack codec: round trips, and hostile bytes getting errors.
#include "storage/record_codec.h"

#include <random>

#include "storage/lmdb_store.h"
#include "storage/packed_record.h"

#include <boost/test/unit_test.hpp>

#include "tests/storage/samples.h"
#include "tests/support/temp_dir.h"

namespace shopsync {
namespace {

RecordState two_sibling_state() {
  RecordState s;
  s.siblings.push_back(test::every_type_version({0xA1, 3}, 1'700'000'000'000ULL << 16));
  s.siblings.push_back(test::simple_state({0xB2, 9}, "other").siblings[0]);
  s.siblings.back().deleted = true;
  s.context.set(0xA1, 5);
  s.context.set(0xB2, 9);
  s.context.set(UINT64_MAX, UINT64_MAX);
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(record_codec)

BOOST_AUTO_TEST_CASE(record_state_round_trips_every_field_type) {
  const RecordState s = two_sibling_state();
  BOOST_REQUIRE(validate_record_state(s));
  const std::string bytes = encode_record_state(s);
  BOOST_TEST(static_cast<int>(bytes[0]) == kRecordFormat);
  auto back = decode_record_state(bytes);
  BOOST_REQUIRE_MESSAGE(back, back.status().to_string());
  BOOST_TEST((*back == s));
  // Field values are kept byte for byte.
  BOOST_TEST(back->siblings[0].fields.at("name").packed == s.siblings[0].fields.at("name").packed);
  BOOST_TEST(back->siblings[0].fields.at("gone").removed());
}

BOOST_AUTO_TEST_CASE(node_meta_conflict_and_version_round_trip) {
  NodeMeta m;
  m.node_id = 77;
  m.counter = 12;
  m.knowledge.set(77, 12);
  m.knowledge.set(3, 1);
  m.clock = 123456789;
  m.cluster = "acme-shops";
  auto mb = decode_node_meta(encode_node_meta(m));
  BOOST_REQUIRE(mb);
  BOOST_TEST((*mb == m));

  ConflictEntry e;
  e.seq = 4;
  e.key = {"customers", "CUST_001"};
  e.siblings = two_sibling_state().siblings;
  e.strategy = "newest_wins";
  e.winner = {0xA1, 3};
  e.near_simultaneous = true;
  e.detected_at = 99;
  e.detected_by = 77;
  auto eb = decode_conflict_entry(encode_conflict_entry(e));
  BOOST_REQUIRE_MESSAGE(eb, eb.status().to_string());
  BOOST_TEST((*eb == e));

  auto vb = decode_version(encode_version(e.siblings[0]));
  BOOST_REQUIRE(vb);
  BOOST_TEST((*vb == e.siblings[0]));
}

BOOST_AUTO_TEST_CASE(sibling_dots_are_read_without_fields) {
  std::vector<Dot> dots;
  BOOST_REQUIRE(decode_sibling_dots(encode_record_state(two_sibling_state()), dots));
  BOOST_TEST(dots.size() == 2u);
  BOOST_TEST((dots[0] == Dot{0xA1, 3}));
  BOOST_TEST((dots[1] == Dot{0xB2, 9}));
}

// A scan of this node's own records that needs only their versions (the
// tombstone scan) reads the heads without the fields, and a record whose
// framing is broken is still refused.
BOOST_AUTO_TEST_CASE(record_heads_are_read_without_fields) {
  const RecordState state = two_sibling_state();
  const std::string bytes = encode_record_state(state);
  RecordState heads;
  BOOST_REQUIRE(decode_record_heads(bytes, heads));
  BOOST_TEST((heads.context == state.context));
  BOOST_REQUIRE(heads.siblings.size() == 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    Version expected = state.siblings[i];
    expected.fields.clear();
    BOOST_TEST((heads.siblings[i] == expected));
  }
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    BOOST_TEST((decode_record_heads(bytes.substr(0, cut), heads).code() == Errc::corrupt));
  }
  BOOST_TEST((decode_record_heads(bytes + "x", heads).code() == Errc::corrupt));
}

BOOST_AUTO_TEST_CASE(bodies_embed_in_larger_messages_and_extra_elements_are_ignored) {
  // A newer writer appends elements; this reader must skip them.
  msgpack::sbuffer buf;
  Packer pk(buf);
  pk.pack_array(3);
  pk.pack_array(2 + 1);  // a record state with one unknown extra element
  pk.pack_array(1);
  pack_version(pk, test::simple_state({1, 1}, "x").siblings[0]);
  pack_version_vector(pk, test::simple_state({1, 1}, "x").context);
  pk.pack_str(5);
  pk.pack_str_body("extra", 5);
  pk.pack_uint64(7);
  pk.pack_nil();
  MsgpackReader in(std::string_view(buf.data(), buf.size()));
  std::uint32_t n = 0;
  BOOST_REQUIRE(in.read_array(n));
  RecordState s;
  BOOST_REQUIRE(read_record_state(in, s));
  BOOST_TEST((s == test::simple_state({1, 1}, "x")));
  std::uint64_t seven = 0;
  BOOST_REQUIRE(in.read_uint(seven));
  BOOST_TEST(seven == 7u);
}

BOOST_AUTO_TEST_CASE(trailing_bytes_truncation_and_unknown_format_are_corrupt) {
  const std::string good = encode_record_state(two_sibling_state());
  auto trailing = decode_record_state(good + "x");
  BOOST_TEST((trailing.status().code() == Errc::corrupt));
  BOOST_TEST(trailing.status().message().find("trailing") != std::string::npos);
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    auto r = decode_record_state(std::string_view(good).substr(0, cut));
    BOOST_TEST_REQUIRE((r.status().code() == Errc::corrupt), "cut at " << cut);
  }
  std::string future = good;
  future[0] = 2;
  BOOST_TEST((decode_record_state(future).status().code() == Errc::corrupt));
  BOOST_TEST(decode_record_state(future).status().message().find("format") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(non_canonical_version_vectors_are_corrupt) {
  msgpack::sbuffer buf;
  Packer pk(buf);
  pk.pack_array(4);
  pk.pack_uint64(5);
  pk.pack_uint64(1);
  pk.pack_uint64(3);  // not increasing
  pk.pack_uint64(1);
  MsgpackReader in(std::string_view(buf.data(), buf.size()));
  VersionVector vv;
  BOOST_TEST((read_version_vector(in, vv).code() == Errc::corrupt));
}

BOOST_AUTO_TEST_CASE(random_bytes_never_crash_the_decoders) {
  const auto seed = test::test_seed();
  std::mt19937_64 rng(seed);
  const std::string good = encode_record_state(two_sibling_state());
  const std::string meta = encode_node_meta(NodeMeta{1, 2, {}, 3, "c"});
  for (int round = 0; round < 20000; ++round) {
    std::string bytes = (round % 2 == 0) ? good : meta;
    // Flip a few bytes, sometimes into lengths, sometimes truncate.
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    auto a = decode_record_state(bytes);
    auto b = decode_node_meta(bytes);
    auto c = decode_conflict_entry(bytes);
    std::vector<Dot> dots;
    (void)decode_sibling_dots(bytes, dots);
    RecordState heads;
    // The heads read wherever the whole state does.
    const bool heads_read = decode_record_heads(bytes, heads).is_ok();
    if (a) BOOST_REQUIRE(heads_read);
    (void)validate_packed_value(bytes);
    // Whatever decodes and is valid encodes back to the same state.
    if (a && validate_record_state(*a)) {
      auto again = decode_record_state(encode_record_state(*a));
      BOOST_REQUIRE(again);
      BOOST_REQUIRE((*again == *a));
    }
    if (b) BOOST_REQUIRE((*decode_node_meta(encode_node_meta(*b)) == *b));
    (void)c;
  }
}

// A batch carries records as their stored bytes, checked without building
// their fields: the check must refuse exactly what the decoder refuses, and a
// store that keeps the bytes as they came must read back what they say.
BOOST_AUTO_TEST_CASE(packed_records_accept_exactly_what_the_decoder_reads_and_store_as_they_came) {
  std::mt19937_64 rng(test::test_seed());
  test::TempDir dir("shopsync-packed");
  StoreOptions options;
  options.sync_each_commit = false;  // durability is not what this test is about
  auto store = LmdbStore::open(dir.path(), options);
  BOOST_REQUIRE(store);
  const std::string good = encode_record_state(two_sibling_state());
  const std::string one = encode_record_state(test::simple_state({0xC3, 4}, "one"));
  std::size_t accepted = 0;
  std::size_t refused = 0;
  for (int round = 0; round < 6000; ++round) {
    std::string bytes = (round % 2 == 0) ? good : one;
    const int flips = static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    if (rng() % 8 == 0) bytes.resize(rng() % bytes.size());
    auto decoded = decode_record_state(bytes);
    auto packed = PackedRecord::parse(bytes);
    BOOST_REQUIRE_MESSAGE(packed.is_ok() == decoded.is_ok(),
                          "decoder: " << decoded.status().to_string() << ", packed: " << packed.status().to_string());
    if (!packed) {
      BOOST_REQUIRE((packed.status().code() == Errc::corrupt));
      ++refused;
      continue;
    }
    ++accepted;
    BOOST_REQUIRE((packed->decode() == *decoded));
    RecordState heads = *decoded;
    for (Version& v : heads.siblings) v.fields.clear();
    BOOST_REQUIRE((packed->heads() == heads));
    // Stored as it came (or refused as put_record refuses the decoded state),
    // it reads back as the decoder read it, under its own dots.
    const RecordKey key{"customers", "C" + std::to_string(round)};
    const Status put_decoded = (*store)->write([&](StoreWriter& w) -> Status {
      SHOPSYNC_TRY(w.put_record(key, *decoded));
      return Status(Errc::corrupt, "rolled back");
    });
    const Status put = (*store)->write([&](StoreWriter& w) { return w.put_packed_record(key, *packed); });
    BOOST_REQUIRE_MESSAGE(put.is_ok() == (put_decoded.code() == Errc::corrupt),
                          "packed: " << put.to_string() << ", decoded: " << put_decoded.to_string());
    if (!put || decoded->siblings.empty()) continue;
    BOOST_REQUIRE((*store)->read([&](StoreReader& r) -> Status {
      auto back = r.record(key);
      if (!back) return back.status();
      BOOST_REQUIRE(back->has_value());
      BOOST_REQUIRE((**back == *decoded));
      auto again = r.packed_record(key);
      if (!again) return again.status();
      BOOST_REQUIRE((again->has_value() && (*again)->decode() == *decoded));
      for (const Version& v : decoded->siblings) {
        bool indexed = false;
        SHOPSYNC_TRY(r.for_each_change(v.dot.origin, v.dot.counter - 1, [&](std::uint64_t counter, const RecordKey& k) {
          indexed = counter == v.dot.counter && k == key;
          return Scan::stop;
        }));
        BOOST_REQUIRE(indexed);
      }
      return Status::ok();
    }));
    BOOST_REQUIRE((*store)->write([&](StoreWriter& w) { return w.put_record(key, RecordState{}); }));
  }
  BOOST_TEST(accepted > 500u);
  BOOST_TEST(refused > 500u);
}

BOOST_AUTO_TEST_CASE(packed_values_of_the_data_model_are_valid) {
  const Version v = test::every_type_version({1, 1}, 5);
  for (const auto& [name, f] : v.fields) {
    if (f.removed()) continue;
    BOOST_TEST_CONTEXT(name) { BOOST_TEST(validate_packed_value(f.packed).is_ok()); }
  }
}

BOOST_AUTO_TEST_CASE(malformed_packed_values_are_refused) {
  auto refused = [](std::string_view bytes, std::string_view why) {
    Status st = validate_packed_value(bytes);
    BOOST_TEST_CONTEXT(why) {
      BOOST_TEST((st.code() == Errc::invalid_argument));
      BOOST_TEST(!st.message().empty());
    }
  };
  refused("", "empty");
  refused(std::string("\xc0\xc0", 2), "two objects");
  refused(std::string("\xc1", 1), "never-used byte");
  refused(std::string("\x92\x01", 2), "array missing an element");
  refused(std::string("\xdd\xff\xff\xff\xff", 5), "array claiming 4 billion elements");
  refused(std::string("\xa3\x61\x62", 3), "truncated string");
  refused(std::string("\xa2\xc3\x28", 3), "string that is not UTF-8");
  refused(std::string("\xd4\x01\x00", 3), "extension type");
  std::string deep(kMaxValueDepth + 1, '\x91');
  deep.push_back('\xc0');
  refused(deep, "nested too deep");
  std::string ok_depth(kMaxValueDepth, '\x91');
  ok_depth.push_back('\xc0');
  BOOST_TEST(validate_packed_value(ok_depth).is_ok());
  // Very deep input does not exhaust the stack.
  refused(std::string(1'000'000, '\x91'), "a million levels");
}

BOOST_AUTO_TEST_CASE(record_states_breaking_the_rules_are_refused) {
  RecordState s = test::simple_state({1, 1}, "x");
  s.siblings[0].fields["bad"] = {std::string("\x92\x01", 2), 1};
  Status st = validate_record_state(s);
  BOOST_TEST((st.code() == Errc::invalid_argument));
  BOOST_TEST(st.message().find("'bad'") != std::string::npos);

  RecordState no_dot = test::simple_state({1, 0}, "x");
  BOOST_TEST((validate_record_state(no_dot).code() == Errc::invalid_argument));

  RecordState uncovered = test::simple_state({1, 5}, "x");
  uncovered.context = VersionVector();
  BOOST_TEST((validate_record_state(uncovered).code() == Errc::invalid_argument));

  RecordState twice = test::simple_state({1, 5}, "x");
  twice.siblings.push_back(twice.siblings[0]);
  BOOST_TEST((validate_record_state(twice).code() == Errc::invalid_argument));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace shopsync
