// The sync protocol's frames: every message round-trips, and hostile bytes of
// every kind come back as a DecodeError (never a crash, never a half-decoded
// message).
#include <algorithm>
#include <random>

#include <boost/test/unit_test.hpp>
#include <msgpack.hpp>

#include "node/wire_codec.h"
#include "tests/support/temp_dir.h"

namespace shopsync::wire {
namespace {

std::string pack_field(std::string_view s) {
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer>(b).pack(std::string(s));
  return {b.data(), b.size()};
}

RecordState sample_state(NodeId node, std::uint64_t counter, const std::string& value) {
  Version v;
  v.dot = {node, counter};
  v.updated_at = (1700000000000ull << 16) + counter;
  v.fields.emplace("name", Field{pack_field(value), v.updated_at});
  v.fields.emplace("city", Field{pack_field("Lyon"), v.updated_at});
  RecordState s;
  s.siblings.push_back(v);
  s.context.advance(v.dot);
  return s;
}

Batch sample_batch(std::size_t n) {
  Batch b;
  for (std::size_t i = 0; i < n; ++i) {
    b.records.emplace_back(RecordKey{"customers", "CUST_" + std::to_string(i)}, sample_state(7, i + 1, "customer number " + std::to_string(i)));
  }
  b.complete.set(7, n);
  b.base.set(7, 0);
  b.more = true;
  return b;
}

Decoded ok(DecodeResult r) {
  if (auto* e = std::get_if<DecodeError>(&r)) BOOST_FAIL("decode failed: " << e->text);
  return std::get<Decoded>(r);
}

DecodeError failed(DecodeResult r) {
  BOOST_REQUIRE_MESSAGE(std::holds_alternative<DecodeError>(r), "hostile bytes decoded as a message");
  return std::get<DecodeError>(r);
}

// A frame assembled by hand: [version, type, flags, body bytes].
std::string raw_frame(std::uint64_t version, std::uint64_t type, std::uint64_t flags, const std::string& body,
                      int extra_fields = 0) {
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer> p(b);
  p.pack_array(4 + extra_fields);
  p.pack_uint64(version);
  p.pack_uint64(type);
  p.pack_uint64(flags);
  p.pack_bin(static_cast<std::uint32_t>(body.size()));
  p.pack_bin_body(body.data(), static_cast<std::uint32_t>(body.size()));
  for (int i = 0; i < extra_fields; ++i) p.pack_uint64(42);
  return {b.data(), b.size()};
}

template <class F>
std::string packed(F&& fill) {
  msgpack::sbuffer b;
  msgpack::packer<msgpack::sbuffer> p(b);
  fill(p);
  return {b.data(), b.size()};
}

BOOST_AUTO_TEST_SUITE(wire_codec)

BOOST_AUTO_TEST_CASE(every_message_round_trips) {
  Hello hello;
  hello.cluster = "acme";
  hello.node_id = 0x1234567890abcdefull;
  hello.name = "till-1";
  hello.role = Role::uplink;
  hello.knowledge.set(5, 10);
  hello.knowledge.set(9, 3);
  hello.clock_ms = 1700000000123ull;
  hello.listen_port = 7460;
  hello.strategies_digest = "0123456789abcdef";
  hello.strategies = "*=newest_wins *tolerance_ms=1000 stock=merge";
  hello.incarnation = 0x0badc0ffee0ddf00ull;
  Pull pull;
  pull.knowledge = hello.knowledge;
  pull.credit = 4;
  pull.snapshot = true;
  pull.held = {Dot{5, 12}, Dot{0xfedcba9876543210ull, 1}};
  const std::vector<WireMessage> messages = {
      hello,          Heartbeat{99}, Error{3, "no common protocol version"}, pull, sample_batch(3),
      Credit{1},      Notify{hello.knowledge}, SnapshotRequired{hello.knowledge}, SnapshotRequired{},
      Goodbye{"stopped"}};
  for (const auto& m : messages) {
    const Decoded d = ok(decode(encode(m)));
    BOOST_TEST(d.version == kProtocolMax);
    BOOST_TEST((d.message == m), "round trip of " << to_string(type_of(m)));
  }
}

// Partial replication (docs/replication.md, "Partial replication"): a scoped
// puller's answer number and wanted records, a sender's leave entries.
BOOST_AUTO_TEST_CASE(partial_replication_fields_round_trip) {
  Pull pull;
  pull.knowledge.set(5, 10);
  pull.credit = 4;
  pull.answer = 0xfeedfacecafebeefull;
  pull.want = {RecordKey{"orders", "O-1"}, RecordKey{"orders", "O-2"}};
  Batch batch = sample_batch(2);
  batch.answer = 17;
  VersionVector context;
  context.set(7, 3);
  context.set(9, 1);
  VersionVector live;
  live.set(9, 1);
  batch.left = {LeftRecord{RecordKey{"orders", "O-3"}, context, live}, LeftRecord{RecordKey{"orders", "O-4"}, context, {}}};
  for (const WireMessage& m : {WireMessage{pull}, WireMessage{batch}}) {
    for (std::uint32_t version : {1u, 2u}) {
      BOOST_TEST((ok(decode(encode(m, version))).message == m), "round trip of " << to_string(type_of(m)));
    }
  }
}

BOOST_AUTO_TEST_CASE(an_older_pull_or_batch_has_no_answer_want_or_left) {
  // Bodies of a node from before partial replication: the fields appended
  // since take their defaults.
  const std::string pull = packed([](auto& p) {
    p.pack_array(4);
    p.pack_map(0);
    p.pack_uint32(2);
    p.pack_false();
    p.pack_array(0);
  });
  const Pull decoded = std::get<Pull>(ok(decode(raw_frame(1, 2, 0, pull))).message);
  BOOST_TEST(decoded.answer == 0u);
  BOOST_TEST(decoded.want.empty());
  const std::string batch = packed([](auto& p) {
    p.pack_array(5);
    p.pack_array(0);
    p.pack_map(0);
    p.pack_false();
    p.pack_map(0);
    p.pack_false();
  });
  const Batch b = std::get<Batch>(ok(decode(raw_frame(1, 3, 0, batch))).message);
  BOOST_TEST(b.left.empty());
  BOOST_TEST(b.answer == 0u);
}

BOOST_AUTO_TEST_CASE(bad_want_or_left_entries_are_refused) {
  // A PULL body up to its `want`: knowledge, credit, snapshot, held, answer.
  const auto pull_up_to_want = [](auto& p) {
    p.pack_array(6);
    p.pack_map(0);
    p.pack_uint32(2);
    p.pack_false();
    p.pack_array(0);
    p.pack_uint64(1);
  };
  const std::string bad_want = packed([&](auto& p) {
    pull_up_to_want(p);
    p.pack_array(1);
    p.pack_array(2);
    p.pack(std::string("Not A Collection"));
    p.pack(std::string("id"));
  });
  BOOST_TEST((failed(decode(raw_frame(1, 2, 0, bad_want))).code == ErrorCode::malformed));
  const std::string too_many_wanted = packed([&](auto& p) {
    pull_up_to_want(p);
    p.pack_array(static_cast<std::uint32_t>(kMaxPullWant + 1));
    for (std::size_t i = 0; i <= kMaxPullWant; ++i) {
      p.pack_array(2);
      p.pack(std::string("orders"));
      p.pack(std::to_string(i));
    }
  });
  BOOST_TEST((failed(decode(raw_frame(1, 2, 0, too_many_wanted))).code == ErrorCode::malformed));
  const std::string short_left = packed([](auto& p) {
    p.pack_array(7);
    p.pack_array(0);
    p.pack_map(0);
    p.pack_false();
    p.pack_map(0);
    p.pack_false();
    p.pack_array(1);
    p.pack_array(3);  // no live VV
    p.pack(std::string("orders"));
    p.pack(std::string("O-1"));
    p.pack_map(0);
    p.pack_uint64(1);
  });
  BOOST_TEST((failed(decode(raw_frame(1, 3, 0, short_left))).code == ErrorCode::malformed));
}

BOOST_AUTO_TEST_CASE(goodbye_is_version_2_and_versions_1_and_2_are_read) {
  // A node of this build speaks 1..2: GOODBYE only on links that agreed on 2,
  // so a version 1 peer never receives a type it does not know.
  BOOST_TEST(kProtocolMin == 1u);
  BOOST_TEST(kProtocolMax == 2u);
  BOOST_TEST(kGoodbyeSince == 2u);
  BOOST_TEST(ok(decode(encode(Goodbye{"stopped"}, 2))).version == 2u);
  BOOST_TEST(ok(decode(encode(Heartbeat{5}, 1))).version == 1u);
  BOOST_TEST((failed(decode(encode(Heartbeat{5}, 3))).code == ErrorCode::unsupported_version));
  const std::string no_reason = packed([](auto& p) { p.pack_array(0); });
  BOOST_TEST((failed(decode(raw_frame(2, 9, 0, no_reason))).code == ErrorCode::malformed));
}

BOOST_AUTO_TEST_CASE(a_hello_without_a_strategy_table_is_from_an_older_node) {
  // Nine fields, as version 1 nodes before the strategy table send it.
  const std::string body = packed([](auto& p) {
    p.pack_array(9);
    p.pack(std::string("acme"));
    p.pack_uint64(7);
    p.pack(std::string("till-1"));
    p.pack(std::string("peer"));
    p.pack_uint32(1);
    p.pack_uint32(1);
    p.pack_map(0);
    p.pack_uint64(1700000000123ull);
    p.pack_uint16(7460);
  });
  const Decoded d = ok(decode(raw_frame(1, 1, 0, body)));
  const auto& hello = std::get<Hello>(d.message);
  BOOST_TEST(hello.listen_port == 7460);
  BOOST_TEST(hello.strategies_digest.empty());
  BOOST_TEST(hello.strategies.empty());
  // A table too long to be one is malformed.
  Hello big;
  big.node_id = 7;
  big.strategies_digest = "x";
  big.strategies = std::string(kMaxStrategiesText + 1, 'a');
  BOOST_TEST((failed(decode(encode(big))).code == ErrorCode::malformed));
}

BOOST_AUTO_TEST_CASE(large_batches_are_compressed_small_ones_are_not) {
  const std::string big = encode(sample_batch(500));
  const std::string small = encode(Credit{1});
  auto flags_of = [](const std::string& frame) {
    auto h = msgpack::unpack(frame.data(), frame.size());
    return h.get().via.array.ptr[2].as<std::uint32_t>();
  };
  BOOST_TEST(flags_of(big) == kFlagZstd);
  BOOST_TEST(flags_of(small) == 0u);
  BOOST_TEST((ok(decode(big)).message == WireMessage(sample_batch(500))));
}

// A batch's records share one copy of its body (storage/packed_record.h):
// they stay whole once the frame they came in is gone, compressed or not.
BOOST_AUTO_TEST_CASE(a_decoded_batch_outlives_its_frame) {
  for (std::size_t n : {1, 500}) {
    std::string frame = encode(sample_batch(n));
    Decoded decoded = ok(decode(frame));
    std::fill(frame.begin(), frame.end(), '\xff');
    frame = std::string();
    const Batch expected = sample_batch(n);
    const auto& batch = std::get<Batch>(decoded.message);
    BOOST_TEST_REQUIRE(batch.records.size() == n);
    for (std::size_t i = 0; i < n; ++i) {
      BOOST_TEST((batch.records[i].first == expected.records[i].first));
      BOOST_TEST(batch.records[i].second.bytes() == expected.records[i].second.bytes());
      BOOST_TEST((batch.records[i].second.decode() == expected.records[i].second.decode()));
    }
  }
}

BOOST_AUTO_TEST_CASE(unknown_type_and_version_are_named) {
  const std::string body = packed([](auto& p) { p.pack_array(0); });
  const DecodeError unknown = failed(decode(raw_frame(1, 99, 0, body)));
  BOOST_TEST((unknown.code == ErrorCode::unknown_type));
  BOOST_TEST(unknown.type == 99u);
  BOOST_TEST((failed(decode(raw_frame(7, 1, 0, body))).code == ErrorCode::unsupported_version));
  BOOST_TEST((failed(decode(raw_frame(0, 1, 0, body))).code == ErrorCode::unsupported_version));
  BOOST_TEST((failed(decode(raw_frame(1, 4, 8, packed([](auto& p) { p.pack_array(1); p.pack_uint32(1); })))).code ==
              ErrorCode::malformed));  // unknown flag
}

BOOST_AUTO_TEST_CASE(trailing_fields_are_ignored_missing_ones_refused) {
  // A CREDIT body from a newer node with two more fields; a frame with one more header field.
  const std::string newer = packed([](auto& p) {
    p.pack_array(3);
    p.pack_uint32(5);
    p.pack(std::string("future"));
    p.pack_array(0);
  });
  BOOST_TEST((ok(decode(raw_frame(1, 4, 0, newer, 1))).message == WireMessage(Credit{5})));
  const std::string short_body = packed([](auto& p) { p.pack_array(1); p.pack_uint32(5); });
  BOOST_TEST((failed(decode(raw_frame(1, 2, 0, short_body))).code == ErrorCode::malformed));  // PULL needs 2
  const std::string wrong_type = packed([](auto& p) { p.pack_array(1); p.pack(std::string("x")); });
  BOOST_TEST((failed(decode(raw_frame(1, 4, 0, wrong_type))).code == ErrorCode::malformed));
}

BOOST_AUTO_TEST_CASE(trailing_bytes_are_refused) {
  std::string frame = encode(Credit{1});
  BOOST_TEST((failed(decode(frame + '\x01')).code == ErrorCode::malformed));
  const std::string body = packed([](auto& p) { p.pack_array(1); p.pack_uint32(1); }) + '\xc0';
  BOOST_TEST((failed(decode(raw_frame(1, 4, 0, body))).code == ErrorCode::malformed));
}

// What a refused frame says is what an operator reads in the log and the
// peer in its ERROR: a body cut short says so, and one nested too deep too.
BOOST_AUTO_TEST_CASE(a_truncated_or_too_deep_body_is_named_as_such) {
  const std::string short_body = packed([](auto& p) { p.pack_array(2); p.pack_uint32(5); p.pack_str(10); });
  const DecodeError truncated = failed(decode(raw_frame(1, 4, 0, short_body)));
  BOOST_TEST((truncated.code == ErrorCode::malformed));
  BOOST_TEST(truncated.text == "body is truncated");
  // A newer node's trailing field, nested deeper than the limit allows.
  const std::string deep_trailer = packed([](auto& p) {
    p.pack_array(2);
    p.pack_uint32(5);
    for (int i = 0; i < 20; ++i) p.pack_array(1);
    p.pack_uint32(1);
  });
  const DecodeError deep = failed(decode(raw_frame(1, 4, 0, deep_trailer)));
  BOOST_TEST((deep.code == ErrorCode::too_large));
  BOOST_TEST(deep.text == "body is nested deeper than 8 levels");
}

BOOST_AUTO_TEST_CASE(every_truncation_is_refused) {
  for (const auto& frame : {encode(sample_batch(20)), encode(sample_batch(1)), encode(Hello{})}) {
    for (std::size_t n = 0; n < frame.size(); ++n) {
      const auto r = decode(std::string_view(frame).substr(0, n));
      BOOST_REQUIRE_MESSAGE(std::holds_alternative<DecodeError>(r), "truncated at " << n << " of " << frame.size());
    }
  }
}

BOOST_AUTO_TEST_CASE(oversized_frames_and_bodies_are_refused) {
  WireLimits limits;
  limits.max_frame_bytes = 1024;
  BOOST_TEST((failed(decode(encode(sample_batch(200)), limits)).code == ErrorCode::too_large));
  // A body declaring more elements than allowed.
  WireLimits few;
  few.max_elements = 10;
  BOOST_TEST((failed(decode(encode(sample_batch(50)), few)).code == ErrorCode::too_large));
  // A zstd body that claims to inflate beyond the limit.
  WireLimits small_body;
  small_body.max_body_bytes = 1000;
  BOOST_TEST((failed(decode(encode(sample_batch(500)), small_body)).code == ErrorCode::too_large));
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_refused) {
  const std::string deep = packed([](auto& p) {
    for (int i = 0; i < 100; ++i) p.pack_array(1);
    p.pack_uint32(1);
  });
  const DecodeError e = failed(decode(raw_frame(1, 4, 0, deep)));
  BOOST_TEST((e.code == ErrorCode::too_large || e.code == ErrorCode::malformed));
  // Deep nesting in the header itself.
  const std::string deep_header = packed([](auto& p) {
    for (int i = 0; i < 100; ++i) p.pack_array(1);
    p.pack_uint32(1);
  });
  failed(decode(deep_header));
}

BOOST_AUTO_TEST_CASE(bad_record_inside_a_batch_is_refused) {
  // A record whose key breaks the data model, and one whose state is garbage.
  const std::string bad_key = packed([](auto& p) {
    p.pack_array(3);
    p.pack_array(1);
    p.pack_array(3);
    p.pack(std::string("Not A Collection"));
    p.pack(std::string("id"));
    p.pack_bin(3);
    p.pack_bin_body("\x01\x90\x90", 3);
    p.pack_map(0);
    p.pack_false();
  });
  BOOST_TEST((failed(decode(raw_frame(1, 3, 0, bad_key))).code == ErrorCode::malformed));
  const std::string bad_state = packed([](auto& p) {
    p.pack_array(3);
    p.pack_array(1);
    p.pack_array(3);
    p.pack(std::string("customers"));
    p.pack(std::string("C1"));
    p.pack_bin(4);
    p.pack_bin_body("\x01\xde\xad\xbe", 4);
    p.pack_map(0);
    p.pack_false();
  });
  BOOST_TEST((failed(decode(raw_frame(1, 3, 0, bad_state))).code == ErrorCode::malformed));
}

BOOST_AUTO_TEST_CASE(a_refused_batch_names_the_record_that_broke_a_rule) {
  // The first record is sound; the second's collection breaks the naming rule.
  const std::string state = encode_record_state(RecordState{});
  const std::string batch = packed([&](auto& p) {
    p.pack_array(3);
    p.pack_array(2);
    for (const std::string collection : {"customers", "Not A Collection"}) {
      p.pack_array(3);
      p.pack(collection);
      p.pack(std::string("C1"));
      p.pack_bin(static_cast<std::uint32_t>(state.size()));
      p.pack_bin_body(state.data(), static_cast<std::uint32_t>(state.size()));
    }
    p.pack_map(0);
    p.pack_false();
  });
  const DecodeError error = failed(decode(raw_frame(1, 3, 0, batch)));
  BOOST_TEST((error.code == ErrorCode::malformed));
  BOOST_TEST(error.text.starts_with("BATCH record 1: collection name 'Not A Collection'"), error.text);
}

BOOST_AUTO_TEST_CASE(compressed_garbage_is_refused) {
  BOOST_TEST((failed(decode(raw_frame(1, 3, kFlagZstd, "not zstd at all"))).code == ErrorCode::malformed));
}

BOOST_AUTO_TEST_CASE(random_bytes_and_mutations_never_crash) {
  std::mt19937_64 rng(test::test_seed());
  const std::string valid = encode(sample_batch(10));
  int decoded = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string bytes;
    if (i % 2 == 0) {
      bytes.resize(rng() % 300);
      for (auto& c : bytes) c = static_cast<char>(rng());
    } else {
      bytes = valid;
      for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    }
    const auto r = decode(bytes);
    if (std::holds_alternative<Decoded>(r)) ++decoded;
  }
  BOOST_TEST_MESSAGE(decoded << " of 3000 random inputs happened to decode");
  BOOST_TEST(decoded < 3000);
}

BOOST_AUTO_TEST_CASE(hello_with_zero_node_id_or_unknown_role_is_refused) {
  Hello h;
  h.cluster = "c";
  h.name = "n";
  h.node_id = 0;
  BOOST_TEST((failed(decode(encode(h))).code == ErrorCode::malformed));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::wire
