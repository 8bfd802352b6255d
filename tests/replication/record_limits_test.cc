// Whatever the store accepts it can read back (issue: the poison record).
// Generated records at and around every limit of the data model (fields per
// record, nesting depth, collection, id and field-name lengths, value and
// total size) go through every door of the replication core on real LMDB: a
// local put, a batch of local writes (what the gateway's push and REST use),
// and a peer's BATCH. Each is either refused with an error that says why,
// leaving the store as it was, or read back equal, also after a reopen.
#include <random>

#include <boost/test/unit_test.hpp>

#include "replication/replica.h"
#include "storage/lmdb_store.h"
#include "storage/msgpack_reader.h"
#include "storage/record_codec.h"
#include "tests/replication/support/loopback.h"
#include "tests/replication/support/values.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

constexpr std::uint64_t kStart = 1'700'000'000'000;
constexpr NodeId kSelf = 1;
constexpr NodeId kPeer = 2;

struct Candidate {
  std::string what;  // which limit, for the failure message
  RecordKey key;
  FieldUpdate update;
};

// A value nested `depth` levels deep: [[[...[1]...]]] (depth 1 = a scalar).
std::string nested(int depth) {
  std::string out(static_cast<std::size_t>(depth - 1), '\x91');  // fixarray of 1
  out += '\x01';
  return out;
}

std::string packed_string(std::size_t n, std::mt19937_64& rng) {
  std::string s(n, 'a');
  for (char& c : s) c = static_cast<char>('a' + rng() % 26);
  return packed(s);
}

std::vector<Candidate> candidates(std::mt19937_64& rng) {
  std::vector<Candidate> out;
  auto one_field = [](std::string value) {
    FieldUpdate u;
    u.replace = true;
    u.fields.emplace("name", std::move(value));
    return u;
  };
  const RecordKey plain{"customers", "C1"};
  for (int d : {-1, 0, 1}) {
    // Fields per record (the decoder's max_fields).
    const std::size_t nfields = DecodeLimits{}.max_fields + static_cast<std::size_t>(d + 2) - 2;
    FieldUpdate many;
    many.replace = true;
    for (std::size_t i = 0; i < nfields; ++i) many.fields.emplace("f" + std::to_string(i), packed(rng() % 1000));
    out.push_back({"fields " + std::to_string(nfields), plain, std::move(many)});
    // Nesting of one field value.
    out.push_back({"depth " + std::to_string(kMaxValueDepth + d), plain, one_field(nested(kMaxValueDepth + d))});
    // Collection name, record id and field name lengths.
    out.push_back({"collection of " + std::to_string(kMaxCollectionName + d),
                   {"c" + std::string(kMaxCollectionName + d - 1, 'x'), "C1"}, one_field(packed(1))});
    out.push_back({"id of " + std::to_string(kMaxRecordId + d), {"customers", std::string(kMaxRecordId + d, 'i')},
                   one_field(packed(1))});
    FieldUpdate long_name;
    long_name.replace = true;
    long_name.fields.emplace(std::string(256 + d, 'n'), packed(1));
    out.push_back({"field name of " + std::to_string(256 + d), plain, std::move(long_name)});
    // Total size: one value, then many smaller ones, near the record limit.
    const std::size_t near = kDefaultMaxRecordBytes + static_cast<std::size_t>(d * 40) - 80;
    out.push_back({"one value near " + std::to_string(near) + " bytes", plain, one_field(packed_string(near, rng))});
    FieldUpdate spread;
    spread.replace = true;
    for (std::size_t i = 0; i < 64; ++i) spread.fields.emplace("s" + std::to_string(i), packed_string(near / 64 - 20, rng));
    out.push_back({"64 values of " + std::to_string(near / 64 - 20) + " bytes", plain, std::move(spread)});
  }
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

struct LmdbReplica {
  explicit LmdbReplica(const std::filesystem::path& dir) : clock(kStart) { open(dir); }
  void open(const std::filesystem::path& dir) {
    replica.reset();
    store.reset();
    StoreOptions o;
    o.sync_each_commit = false;  // durability is not what this test is about
    auto s = LmdbStore::open(dir, o);
    BOOST_REQUIRE_MESSAGE(s, s.status().to_string());
    store = std::move(*s);
    ReplicaOptions ro;
    ro.node_id = kSelf;
    ro.cluster = "shop";
    auto r = Replica::open(*store, clock, ro);
    BOOST_REQUIRE_MESSAGE(r, r.status().to_string());
    replica = std::move(*r);
  }
  ManualClock clock;
  std::unique_ptr<LmdbStore> store;
  std::unique_ptr<Replica> replica;
  VectorOutbox out;
};

// The record as stored, or nullopt; fails the test when it does not read back.
std::optional<RecordState> stored(LmdbStore& store, const RecordKey& key) {
  std::optional<RecordState> out;
  Status st = store.read([&](StoreReader& r) -> Status {
    if (!validate_key(key)) return Status::ok();
    auto got = r.record(key);
    if (!got) return got.status();
    out = std::move(*got);
    return Status::ok();
  });
  BOOST_REQUIRE_MESSAGE(st, "a stored record does not read back: " << st.to_string());
  return out;
}

// The fields an accepted update leaves visible.
Fields expected_fields(const FieldUpdate& update, Hlc stamp) {
  Fields f;
  for (const auto& [name, value] : update.fields) {
    if (value) f.emplace(name, Field{*value, stamp});
  }
  return f;
}

enum class Door { put, local_batch, peer_batch };
const char* door_name(Door d) {
  switch (d) {
    case Door::put: return "put";
    case Door::local_batch: return "batch of local writes";
    case Door::peer_batch: return "a peer's BATCH";
  }
  return "?";
}

// Writes the candidate through `door`. A peer's version supersedes what the
// record held (`before`), as a peer that had seen it would send.
Status through(Door door, LmdbReplica& node, const Candidate& c, const std::optional<RecordState>& before,
               std::uint64_t& peer_counter) {
  switch (door) {
    case Door::put: return node.replica->put(c.key, c.update, node.out).status();
    case Door::local_batch: {
      auto results = node.replica->apply_local_writes({LocalWrite{c.key, c.update, false}}, node.out);
      if (!results) return results.status();
      return results->front().status();
    }
    case Door::peer_batch: {
      Version v;
      v.dot = Dot{kPeer, ++peer_counter};
      v.updated_at = (kStart << 16) + peer_counter;
      v.fields = expected_fields(c.update, v.updated_at);
      RecordState s;
      if (before) s.context = before->context;
      s.context.advance(v.dot);
      s.siblings.push_back(std::move(v));
      Batch b;
      b.records.emplace_back(c.key, std::move(s));
      b.complete.set(kPeer, peer_counter);
      return node.replica->receive(kPeer, b, node.out);
    }
  }
  return Status::ok();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(record_limits)

BOOST_AUTO_TEST_CASE(every_door_refuses_clearly_or_reads_back_equal) {
  std::mt19937_64 rng(test_seed());
  TempDir dir("shopsync-limits");
  LmdbReplica node(dir.path());
  std::uint64_t peer_counter = 0;
  std::size_t accepted = 0, refused = 0;
  for (Door door : {Door::put, Door::local_batch, Door::peer_batch}) {
    for (const Candidate& c : candidates(rng)) {
      BOOST_TEST_CONTEXT(c.what << " through " << door_name(door)) {
        const auto baseline = stored(*node.store, c.key);
        const Status st = through(door, node, c, baseline, peer_counter);
        const auto after = stored(*node.store, c.key);
        if (!st) {
          ++refused;
          BOOST_TEST(!st.message().empty());
          BOOST_TEST((st.code() == Errc::invalid_argument || st.code() == Errc::too_large ||
                      st.code() == Errc::protocol),
                     st.to_string());
          BOOST_TEST((after == baseline), "a refused write changed the store: " << st.to_string());
          continue;
        }
        ++accepted;
        BOOST_REQUIRE(after.has_value());
        auto visible = node.replica->get(c.key);
        BOOST_REQUIRE_MESSAGE(visible && visible->has_value(), "accepted but not readable");
        Fields shown;
        for (const auto& [name, field] : (*visible)->visible.fields) {
          if (!field.removed()) shown.emplace(name, Field{field.packed, 0});
        }
        BOOST_TEST((shown == expected_fields(c.update, 0)), "read back differs");
      }
    }
  }
  // The limits are where the data model says: both sides of each are seen.
  BOOST_TEST(accepted > 0u);
  BOOST_TEST(refused > 0u);
  // Everything accepted still reads after a reopen (scans included).
  node.open(dir.path());
  BOOST_REQUIRE(node.store->read([&](StoreReader& r) -> Status {
    auto names = r.collections();
    if (!names) return names.status();
    for (const auto& name : *names) {
      SHOPSYNC_TRY(r.for_each_record(name, "", [](const RecordKey&, const RecordState&) { return Scan::next; }));
    }
    return Status::ok();
  }));
  BOOST_TEST(node.store->unreadable().count() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace shopsync::test
