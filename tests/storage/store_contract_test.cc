// The Store contract, run against both LmdbStore (real files in a TempDir) and
// MemoryStore: each case below exists as <name>_lmdb and <name>_memory.
#include <limits>

#include <boost/test/unit_test.hpp>

#include "storage/lmdb_store.h"
#include "storage/memory_store.h"
#include "tests/storage/samples.h"
#include "tests/support/temp_dir.h"

namespace shopsync {
namespace {

#define STORE_CONTRACT(name)                                               \
  void name##_contract(Store& store);                                      \
  BOOST_AUTO_TEST_CASE(name##_lmdb) {                                      \
    test::TempDir dir;                                                     \
    auto opened = LmdbStore::open(dir / "store");                          \
    BOOST_REQUIRE_MESSAGE(opened, opened.status().to_string());            \
    name##_contract(**opened);                                             \
  }                                                                        \
  BOOST_AUTO_TEST_CASE(name##_memory) {                                    \
    MemoryStore mem;                                                       \
    name##_contract(mem);                                                  \
  }                                                                        \
  void name##_contract(Store& store)

Status put(Store& store, const RecordKey& key, const RecordState& state) {
  return store.write([&](StoreWriter& w) { return w.put_record(key, state); });
}

std::optional<RecordState> get(Store& store, const RecordKey& key) {
  std::optional<RecordState> out;
  Status st = store.read([&](StoreReader& r) {
    auto got = r.record(key);
    if (!got) return got.status();
    out = *got;
    return Status::ok();
  });
  BOOST_REQUIRE_MESSAGE(st, st.to_string());
  return out;
}

using Changes = std::vector<std::pair<std::uint64_t, RecordKey>>;

Changes changes(Store& store, NodeId origin, std::uint64_t after = 0) {
  Changes out;
  Status st = store.read([&](StoreReader& r) {
    return r.for_each_change(origin, after, [&](std::uint64_t c, const RecordKey& k) {
      out.emplace_back(c, k);
      return Scan::next;
    });
  });
  BOOST_REQUIRE_MESSAGE(st, st.to_string());
  return out;
}

std::uint64_t run_from(Store& store, NodeId origin, std::uint64_t after) {
  std::uint64_t out = 0;
  Status st = store.read([&](StoreReader& r) {
    auto run = r.changes_run_from(origin, after);
    if (!run) return run.status();
    out = *run;
    return Status::ok();
  });
  BOOST_REQUIRE_MESSAGE(st, st.to_string());
  return out;
}

std::vector<std::string> ids(Store& store, std::string_view collection, std::string_view after = "") {
  std::vector<std::string> out;
  Status st = store.read([&](StoreReader& r) {
    return r.for_each_record(collection, after, [&](const RecordKey& k, const RecordState&) {
      out.push_back(k.id);
      return Scan::next;
    });
  });
  BOOST_REQUIRE_MESSAGE(st, st.to_string());
  return out;
}

constexpr NodeId kA = 0xAAAA;
constexpr NodeId kB = 0xBBBB;

}  // namespace

BOOST_AUTO_TEST_SUITE(store_contract)

STORE_CONTRACT(every_field_type_round_trips) {
  RecordState s;
  s.siblings.push_back(test::every_type_version({kA, 1}, 5000));
  s.context.advance({kA, 1});
  const RecordKey key{"customers", "CUST_001"};
  BOOST_REQUIRE(put(store, key, s));
  auto back = get(store, key);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST((*back == s));
  BOOST_TEST(!get(store, {"customers", "CUST_002"}).has_value());
}

STORE_CONTRACT(change_index_follows_overwrites_siblings_and_erase) {
  const RecordKey key{"orders", "ORD_1"};
  const RecordKey other{"orders", "ORD_2"};
  BOOST_REQUIRE(put(store, key, test::simple_state({kA, 1}, "first")));
  BOOST_REQUIRE(put(store, other, test::simple_state({kA, 2}, "other")));
  BOOST_TEST((changes(store, kA) == Changes{{1, key}, {2, other}}));

  // Overwrite: the superseded dot leaves the index in the same transaction.
  RecordState second = test::simple_state({kA, 3}, "second");
  second.context.set(kA, 3);
  BOOST_REQUIRE(put(store, key, second));
  BOOST_TEST((changes(store, kA) == Changes{{2, other}, {3, key}}));
  BOOST_TEST((changes(store, kA, 2) == Changes{{3, key}}));

  // Two concurrent siblings: both dots are live.
  RecordState conflicted = second;
  conflicted.siblings.push_back(test::simple_state({kB, 1}, "theirs").siblings[0]);
  conflicted.context.set(kB, 1);
  BOOST_REQUIRE(put(store, key, conflicted));
  BOOST_TEST((changes(store, kA) == Changes{{2, other}, {3, key}}));
  BOOST_TEST((changes(store, kB) == Changes{{1, key}}));

  // A write that supersedes both siblings removes both dots.
  RecordState resolved = test::simple_state({kA, 4}, "resolved");
  resolved.context = conflicted.context;
  resolved.context.set(kA, 4);
  BOOST_REQUIRE(put(store, key, resolved));
  BOOST_TEST((changes(store, kA) == Changes{{2, other}, {4, key}}));
  BOOST_TEST(changes(store, kB).empty());

  // A tombstone is a sibling like any other: indexed, record still present.
  RecordState tomb = resolved;
  tomb.siblings[0].dot = {kA, 5};
  tomb.siblings[0].deleted = true;
  tomb.siblings[0].fields.clear();
  tomb.context.set(kA, 5);
  BOOST_REQUIRE(put(store, key, tomb));
  BOOST_TEST((changes(store, kA) == Changes{{2, other}, {5, key}}));
  BOOST_TEST(get(store, key)->siblings[0].deleted);

  // No siblings: the record and its index entries are erased.
  BOOST_REQUIRE(put(store, key, RecordState{}));
  BOOST_TEST(!get(store, key).has_value());
  BOOST_TEST((changes(store, kA) == Changes{{2, other}}));
  // Erasing what is not there is fine.
  BOOST_REQUIRE(put(store, {"orders", "ORD_404"}, RecordState{}));
}

// How far an origin's changes run without a gap: what lets a receiver's
// knowledge move over versions it holds above it (replica_sync.cc,
// close_over_held).
STORE_CONTRACT(the_change_index_run_stops_at_the_first_gap) {
  for (std::uint64_t c : {1, 2, 3, 5}) {
    BOOST_REQUIRE(put(store, {"orders", "ORD_" + std::to_string(c)}, test::simple_state({kA, c}, "a")));
  }
  BOOST_REQUIRE(put(store, {"orders", "ORD_B"}, test::simple_state({kB, 6}, "b")));
  BOOST_TEST(run_from(store, kA, 0) == 3u);
  BOOST_TEST(run_from(store, kA, 1) == 3u);
  BOOST_TEST(run_from(store, kA, 3) == 3u);  // 4 is not there
  BOOST_TEST(run_from(store, kA, 4) == 5u);
  BOOST_TEST(run_from(store, kA, 5) == 5u);  // the next entry is B's 6, not A's
  BOOST_TEST(run_from(store, kB, 0) == 0u);  // B's run would start at 1
  BOOST_TEST(run_from(store, kB, 5) == 6u);
  BOOST_TEST(run_from(store, 0xCCCC, 7) == 7u);  // an origin with no entries
  BOOST_TEST(run_from(store, kA, std::numeric_limits<std::uint64_t>::max()) == std::numeric_limits<std::uint64_t>::max());

  // A superseded version leaves a gap where its dot was.
  RecordState second = test::simple_state({kA, 6}, "second");
  second.context.set(kA, 6);
  BOOST_REQUIRE(put(store, {"orders", "ORD_2"}, second));
  BOOST_TEST(run_from(store, kA, 0) == 1u);
  BOOST_TEST(run_from(store, kA, 2) == 3u);
}

// A write reads records and writes over them in one transaction, the way a
// received batch is applied: what each write finds before it (and so what it
// removes from the change index) is the record it names, whatever was read or
// written in between.
STORE_CONTRACT(reads_and_writes_interleaved_in_one_transaction_keep_the_index_exact) {
  const RecordKey a{"orders", "ORD_1"};
  const RecordKey b{"orders", "ORD_2"};
  BOOST_REQUIRE(put(store, a, test::simple_state({kA, 1}, "a1")));
  RecordState a2 = test::simple_state({kA, 3}, "a2");
  a2.context.set(kA, 3);
  RecordState a3 = test::simple_state({kA, 4}, "a3");
  a3.context.set(kA, 4);
  Status st = store.write([&](StoreWriter& w) {
    auto seen = w.record(a);  // read a, then write b: a's overwrite must still find a
    if (!seen || !seen->has_value()) return Status::invalid("a is not there");
    SHOPSYNC_TRY(w.put_record(b, test::simple_state({kA, 2}, "b1")));
    auto missing = w.record({"orders", "ORD_0"});  // a miss just before a
    if (!missing || missing->has_value()) return Status::invalid("ORD_0 is there");
    seen = w.record(a);  // read a, write it twice
    if (!seen || !seen->has_value()) return Status::invalid("a is not there");
    SHOPSYNC_TRY(w.put_record(a, a2));
    SHOPSYNC_TRY(w.put_record(a, a3));
    SHOPSYNC_TRY(w.put(Table::settings, "k", "v"));
    auto again = w.record(b);  // read b, write b away
    if (!again || !again->has_value()) return Status::invalid("b is not there");
    return w.put_record(b, RecordState{});
  });
  BOOST_REQUIRE_MESSAGE(st, st.to_string());
  BOOST_TEST((changes(store, kA) == Changes{{4, a}}));
  BOOST_TEST((get(store, a) == a3));
  BOOST_TEST(!get(store, b).has_value());
}

STORE_CONTRACT(scans_are_ordered_and_pageable) {
  for (const char* c : {"b", "ab", "a"}) {
    for (const char* id : {"3", "1", "2", "10"}) {
      static std::uint64_t counter = 0;
      BOOST_REQUIRE(put(store, {c, id}, test::simple_state({kA, ++counter}, id)));
    }
  }
  std::vector<std::string> names;
  BOOST_REQUIRE(store.read([&](StoreReader& r) {
    auto got = r.collections();
    if (got) names = *got;
    return got.status();
  }));
  BOOST_TEST((names == std::vector<std::string>{"a", "ab", "b"}));
  BOOST_TEST((ids(store, "ab") == std::vector<std::string>{"1", "10", "2", "3"}));
  BOOST_TEST((ids(store, "ab", "10") == std::vector<std::string>{"2", "3"}));
  BOOST_TEST((ids(store, "ab", "0") == std::vector<std::string>{"1", "10", "2", "3"}));
  BOOST_TEST(ids(store, "zz").empty());
  int seen = 0;
  BOOST_REQUIRE(store.read([&](StoreReader& r) {
    return r.for_each_record("a", "", [&](const RecordKey&, const RecordState&) {
      ++seen;
      return Scan::stop;
    });
  }));
  BOOST_TEST(seen == 1);
}

// The heads scan shows the records the whole scan shows, with their
// versions and contexts, without the fields.
STORE_CONTRACT(record_heads_scan_matches_the_records_without_fields) {
  BOOST_REQUIRE(put(store, {"a", "1"}, test::simple_state({kA, 1}, "one")));
  RecordState two = test::simple_state({kA, 2}, "two");
  two.siblings.push_back(test::simple_state({kB, 1}, "other").siblings[0]);
  two.siblings.back().deleted = true;
  two.context.set(kB, 1);
  BOOST_REQUIRE(put(store, {"a", "2"}, two));
  BOOST_REQUIRE(put(store, {"b", "3"}, test::simple_state({kA, 3}, "elsewhere")));
  std::vector<std::pair<RecordKey, RecordState>> whole, heads;
  BOOST_REQUIRE(store.read([&](StoreReader& r) {
    SHOPSYNC_TRY(r.for_each_record("a", "", [&](const RecordKey& k, const RecordState& s) {
      RecordState stripped = s;
      for (Version& v : stripped.siblings) v.fields.clear();
      whole.emplace_back(k, std::move(stripped));
      return Scan::next;
    }));
    return r.for_each_record_heads("a", "", [&](const RecordKey& k, const RecordState& s) {
      heads.emplace_back(k, s);
      return Scan::next;
    });
  }));
  BOOST_TEST(whole.size() == 2u);
  BOOST_TEST((heads == whole));
}

STORE_CONTRACT(a_failed_body_changes_nothing) {
  const RecordKey key{"customers", "C1"};
  BOOST_REQUIRE(put(store, key, test::simple_state({kA, 1}, "kept")));
  Status st = store.write([&](StoreWriter& w) {
    SHOPSYNC_TRY(w.put_record(key, test::simple_state({kA, 2}, "lost")));
    SHOPSYNC_TRY(w.put_record({"customers", "C2"}, test::simple_state({kA, 3}, "lost")));
    SHOPSYNC_TRY(w.put(Table::settings, "k", "v"));
    SHOPSYNC_TRY(w.put_node_meta(NodeMeta{1, 3, {}, 0, "x"}));
    auto seq = w.append_conflict(ConflictEntry{});
    if (!seq) return seq.status();
    return Status::io_error("the caller gives up");
  });
  BOOST_TEST((st.code() == Errc::io_error));
  BOOST_TEST((get(store, key) == test::simple_state({kA, 1}, "kept")));
  BOOST_TEST(!get(store, {"customers", "C2"}).has_value());
  BOOST_TEST((changes(store, kA) == Changes{{1, key}}));
  BOOST_REQUIRE(store.read([&](StoreReader& r) {
    BOOST_TEST(!r.get(Table::settings, "k")->has_value());
    BOOST_TEST(!r.node_meta()->has_value());
    int conflicts = 0;
    SHOPSYNC_TRY(r.for_each_conflict(0, [&](const ConflictEntry&) {
      ++conflicts;
      return Scan::next;
    }));
    BOOST_TEST(conflicts == 0);
    return Status::ok();
  }));
}

STORE_CONTRACT(meta_conflicts_and_tables) {
  NodeMeta meta{42, 7, {}, 99, "acme"};
  meta.knowledge.set(42, 7);
  ConflictEntry e;
  e.key = {"customers", "C1"};
  e.siblings = test::simple_state({kA, 1}, "x").siblings;
  e.strategy = "manual";
  e.winner = {kA, 1};
  std::vector<std::uint64_t> seqs;
  BOOST_REQUIRE(store.write([&](StoreWriter& w) {
    SHOPSYNC_TRY(w.put_node_meta(meta));
    for (int i = 0; i < 3; ++i) {
      auto seq = w.append_conflict(e);
      if (!seq) return seq.status();
      seqs.push_back(*seq);
    }
    SHOPSYNC_TRY(w.put(Table::peers, "peer-b", "addr-b"));
    SHOPSYNC_TRY(w.put(Table::peers, "peer-a", "addr-a"));
    SHOPSYNC_TRY(w.put(Table::trusted_keys, "key1", std::string("\0bin", 4)));
    SHOPSYNC_TRY(w.put(Table::settings, "s", "1"));
    return w.erase(Table::settings, "s");
  }));
  BOOST_TEST((seqs == std::vector<std::uint64_t>{1, 2, 3}));
  BOOST_REQUIRE(store.read([&](StoreReader& r) {
    BOOST_TEST((**r.node_meta() == meta));
    std::vector<std::uint64_t> after1;
    SHOPSYNC_TRY(r.for_each_conflict(1, [&](const ConflictEntry& c) {
      after1.push_back(c.seq);
      BOOST_TEST((c.key == e.key));
      BOOST_TEST((c.siblings == e.siblings));
      return Scan::next;
    }));
    BOOST_TEST((after1 == std::vector<std::uint64_t>{2, 3}));
    std::vector<std::string> peers;
    SHOPSYNC_TRY(r.for_each(Table::peers, [&](std::string_view k, std::string_view v) {
      peers.push_back(std::string(k) + "=" + std::string(v));
      return Scan::next;
    }));
    BOOST_TEST((peers == std::vector<std::string>{"peer-a=addr-a", "peer-b=addr-b"}));
    BOOST_TEST((**r.get(Table::trusted_keys, "key1") == std::string("\0bin", 4)));
    BOOST_TEST(!r.get(Table::settings, "s")->has_value());
    BOOST_TEST(!r.get(Table::peers, "key1")->has_value());
    return Status::ok();
  }));
}

STORE_CONTRACT(bad_keys_get_invalid_argument) {
  const RecordState s = test::simple_state({kA, 1}, "x");
  const std::string long_name(65, 'a');
  for (const std::string& c : {std::string(), std::string("Customers"), std::string("1abc"), std::string("a-b"),
                               std::string("a b"), std::string("_x"), long_name, std::string("caf\xc3\xa9")}) {
    BOOST_TEST_CONTEXT("collection '" << c << "'") {
      Status st = put(store, {c, "ID"}, s);
      BOOST_TEST((st.code() == Errc::invalid_argument));
      BOOST_TEST(st.message().find("collection") != std::string::npos);
    }
  }
  BOOST_TEST(put(store, {std::string(64, 'a'), "ID"}, s).is_ok());
  for (const std::string& id : {std::string(), std::string(257, 'x'), std::string("\xff\xfe"),
                                std::string("a\xc3"), std::string("\xed\xa0\x80")}) {
    BOOST_TEST_CONTEXT("id of " << id.size() << " bytes") {
      Status st = put(store, {"customers", id}, s);
      BOOST_TEST((st.code() == Errc::invalid_argument));
      BOOST_TEST(st.message().find("record id") != std::string::npos);
    }
  }
  // (Each record needs its own dot: a dot names one write.)
  BOOST_TEST(put(store, {"customers", std::string(256, 'x')}, test::simple_state({kA, 2}, "x")).is_ok());
  BOOST_TEST(put(store, {"customers", "東京-ÅÖ"}, test::simple_state({kA, 3}, "x")).is_ok());
  // Reading with a bad key is refused the same way.
  BOOST_TEST((store.read([](StoreReader& r) { return r.record({"Bad", "x"}).status(); }).code() ==
              Errc::invalid_argument));
  BOOST_TEST((store.read([](StoreReader& r) {
                return r.for_each_record("Bad", "", [](const RecordKey&, const RecordState&) { return Scan::next; });
              }).code() == Errc::invalid_argument));
  BOOST_TEST((store.write([](StoreWriter& w) { return w.put(Table::peers, "", "v"); }).code() ==
              Errc::invalid_argument));
  BOOST_TEST((store.write([](StoreWriter& w) { return w.put(Table::peers, std::string(512, 'k'), "v"); }).code() ==
              Errc::invalid_argument));
}

STORE_CONTRACT(oversized_records_and_malformed_fields_are_refused_and_change_nothing) {
  const RecordKey key{"projects", "P1"};
  const RecordState before = test::simple_state({kA, 1}, "small");
  BOOST_REQUIRE(put(store, key, before));

  RecordState huge = test::simple_state({kA, 2}, std::string(kDefaultMaxRecordBytes, 'x'));
  Status st = put(store, key, huge);
  BOOST_TEST((st.code() == Errc::too_large));
  BOOST_TEST(st.message().find("projects/P1") != std::string::npos);
  // Just under the limit is fine.
  RecordState big = test::simple_state({kA, 2}, std::string(kDefaultMaxRecordBytes - 100, 'x'));
  BOOST_TEST(put(store, {"projects", "P2"}, big).is_ok());

  RecordState bad = test::simple_state({kA, 3}, "x");
  bad.siblings[0].fields["broken"] = {std::string("\x93\x01\x02", 3), 1};
  st = put(store, key, bad);
  BOOST_TEST((st.code() == Errc::invalid_argument));
  BOOST_TEST(st.message().find("broken") != std::string::npos);

  BOOST_TEST((get(store, key) == before));
  BOOST_TEST((changes(store, kA) == Changes{{1, key}, {2, {"projects", "P2"}}}));
}

STORE_CONTRACT(a_dot_belongs_to_one_record) {
  BOOST_REQUIRE(put(store, {"orders", "A"}, test::simple_state({kA, 1}, "a")));
  RecordState b = test::simple_state({kA, 2}, "b");
  b.siblings.push_back(test::simple_state({kA, 1}, "stolen").siblings[0]);
  Status st = store.write([&](StoreWriter& w) {
    Status refused = w.put_record({"orders", "B"}, b);
    BOOST_TEST((refused.code() == Errc::invalid_argument));
    BOOST_TEST(refused.message().find("orders/A") != std::string::npos, refused.to_string());
    return Status::ok();  // commit anyway: the refused put changed nothing
  });
  BOOST_REQUIRE(st);
  BOOST_TEST((changes(store, kA) == Changes{{1, {"orders", "A"}}}));
  BOOST_TEST(!get(store, {"orders", "B"}).has_value());
}

STORE_CONTRACT(re_entering_the_store_from_a_body_is_refused) {
  Status inner;
  BOOST_REQUIRE(store.read([&](StoreReader&) {
    inner = store.write([](StoreWriter&) { return Status::ok(); });
    return Status::ok();
  }));
  BOOST_TEST((inner.code() == Errc::invalid_argument));
  BOOST_REQUIRE(store.write([&](StoreWriter& w) {
    SHOPSYNC_TRY(w.put(Table::settings, "k", "v"));
    inner = store.read([](StoreReader&) { return Status::ok(); });
    return Status::ok();
  }));
  BOOST_TEST((inner.code() == Errc::invalid_argument));
  // Nested reads are fine and see the committed state.
  BOOST_REQUIRE(store.read([&](StoreReader&) {
    return store.read([](StoreReader& r) {
      BOOST_TEST((**r.get(Table::settings, "k") == "v"));
      return Status::ok();
    });
  }));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace shopsync
