// What only the LMDB store does: files, growth, other processes, schema and
// identity checks, corrupt bytes on disk.
#include "storage/lmdb_store.h"

#include <atomic>
#include <fstream>
#include <future>
#include <thread>

#include <boost/test/unit_test.hpp>

#include "storage/key_codec.h"
#include "storage/lmdb.h"
#include "storage/crc32c.h"
#include "storage/packed_record.h"
#include "storage/record_codec.h"
#include "storage/sealed_record.h"
#include "tests/storage/batches.h"
#include "tests/storage/child_process.h"
#include "tests/storage/samples.h"
#include "tests/support/temp_dir.h"

namespace shopsync {
namespace {

std::unique_ptr<LmdbStore> open_store(const std::filesystem::path& dir, StoreOptions o = {}) {
  auto opened = LmdbStore::open(dir, o);
  BOOST_REQUIRE_MESSAGE(opened, opened.status().to_string());
  return std::move(opened).value();
}

// Opens the environment with the raw wrapper, runs `poke` in a write txn.
template <class F>
void poke_raw(const std::filesystem::path& dir, F&& poke) {
  auto env = lmdb::Env::open(dir, {});
  BOOST_REQUIRE_MESSAGE(env, env.status().to_string());
  auto txn = lmdb::Txn::begin(*env, lmdb::TxnMode::write);
  BOOST_REQUIRE(txn);
  poke(*txn);
  BOOST_REQUIRE(txn->commit());
}

// The counters the change index holds for `origin`, in order.
std::vector<std::uint64_t> indexed_counters(StoreReader& r, NodeId origin) {
  std::vector<std::uint64_t> counters;
  BOOST_REQUIRE(r.for_each_change(origin, 0, [&](std::uint64_t c, const RecordKey&) {
    counters.push_back(c);
    return Scan::next;
  }));
  return counters;
}

// The ids the heads scan of `collection` shows, in order.
std::vector<std::string> ids_in_heads_scan(StoreReader& r, std::string_view collection) {
  std::vector<std::string> ids;
  BOOST_REQUIRE(r.for_each_record_heads(collection, "", [&](const RecordKey& k, const RecordState&) {
    ids.push_back(k.id);
    return Scan::next;
  }));
  return ids;
}

// Writes `state` (of one sibling) over the record `key`, and checks that it
// reads back and that the change index of its origin holds its dot alone:
// the dots it supersedes left the index.
void write_over(LmdbStore& store, const RecordKey& key, const RecordState& state) {
  BOOST_REQUIRE(store.write([&](StoreWriter& w) { return w.put_record(key, state); }));
  BOOST_REQUIRE(store.read([&](StoreReader& r) {
    BOOST_TEST((**r.record(key) == state));
    const Dot dot = state.siblings.at(0).dot;
    BOOST_TEST((indexed_counters(r, dot.origin) == std::vector<std::uint64_t>{dot.counter}));
    return Status::ok();
  }));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lmdb_store)

BOOST_AUTO_TEST_CASE(data_survives_close_and_reopen) {
  test::TempDir dir;
  const RecordState s = test::simple_state({1, 1}, "Ada");
  {
    auto store = open_store(dir / "s");
    BOOST_REQUIRE(store->write([&](StoreWriter& w) {
      SHOPSYNC_TRY(w.put_record({"customers", "C1"}, s));
      return w.put_node_meta(NodeMeta{9, 1, {}, 5, "acme"});
    }));
  }
  auto store = open_store(dir / "s");
  BOOST_REQUIRE(store->read([&](StoreReader& r) {
    BOOST_TEST((**r.record({"customers", "C1"}) == s));
    BOOST_TEST((**r.node_meta() == NodeMeta{9, 1, {}, 5, "acme"}));
    return Status::ok();
  }));
}

// The change index reads only the sibling dots of the value it replaces; a
// field nested as deep as the data model allows must not stop the overwrite.
BOOST_AUTO_TEST_CASE(a_record_with_the_deepest_allowed_field_can_be_overwritten) {
  test::TempDir dir;
  auto store = open_store(dir / "s");
  RecordState deep = test::simple_state({1, 1}, "Ada");
  std::string nested(kMaxValueDepth, '\x91');  // [[[ ... nil ... ]]]
  nested.push_back('\xc0');
  BOOST_REQUIRE(validate_packed_value(nested));
  deep.siblings[0].fields["layers"] = {nested, 1000};
  const RecordState next = test::simple_state({1, 2}, "Ada Lovelace", 2000);
  const RecordState* states[] = {&deep, &next};
  for (const RecordState* s : states) {
    const Status st = store->write([&](StoreWriter& w) { return w.put_record({"customers", "C1"}, *s); });
    BOOST_REQUIRE_MESSAGE(st, st.to_string());
  }
  BOOST_REQUIRE(store->read([&](StoreReader& r) {
    BOOST_TEST((**r.record({"customers", "C1"}) == next));
    return Status::ok();
  }));
}

BOOST_AUTO_TEST_CASE(grows_past_a_tiny_map_keeping_100000_records) {
  test::TempDir dir;
  StoreOptions o;
  o.initial_map_size = 64 * 1024;
  auto store = open_store(dir / "s", o);
  constexpr int kRecords = 100000;
  constexpr int kBatch = 1000;
  for (int b = 0; b < kRecords / kBatch; ++b) {
    Status st = store->write([&](StoreWriter& w) {
      for (int i = b * kBatch; i < (b + 1) * kBatch; ++i) {
        char id[32];
        std::snprintf(id, sizeof id, "CUST_%06d", i);
        SHOPSYNC_TRY(w.put_record({"customers", id}, test::simple_state({7, std::uint64_t(i) + 1}, id)));
      }
      return Status::ok();
    });
    BOOST_REQUIRE_MESSAGE(st, "batch " << b << ": " << st.to_string());
  }
  BOOST_TEST(store->map_growths() > 0u);
  auto stats = store->stats();
  BOOST_REQUIRE(stats);
  BOOST_TEST(stats->map_size > o.initial_map_size);
  BOOST_TEST_MESSAGE("map grew " << store->map_growths() << " times to " << stats->map_size << " bytes, "
                                 << stats->used_bytes << " used");
  store.reset();

  // Everything is there after reopening, in order, and indexed.
  store = open_store(dir / "s", o);
  int n = 0;
  BOOST_REQUIRE(store->read([&](StoreReader& r) {
    SHOPSYNC_TRY(r.for_each_record("customers", "", [&](const RecordKey& k, const RecordState& s) {
      char id[32];
      std::snprintf(id, sizeof id, "CUST_%06d", n);
      BOOST_REQUIRE_EQUAL(k.id, id);
      BOOST_REQUIRE_EQUAL(s.siblings.at(0).dot.counter, std::uint64_t(n) + 1);
      ++n;
      return Scan::next;
    }));
    std::uint64_t indexed = 0;
    SHOPSYNC_TRY(r.for_each_change(7, 0, [&](std::uint64_t c, const RecordKey&) {
      BOOST_REQUIRE_EQUAL(c, ++indexed);
      return Scan::next;
    }));
    BOOST_TEST(indexed == std::uint64_t(kRecords));
    return Status::ok();
  }));
  BOOST_TEST(n == kRecords);
  stats = store->stats();
  BOOST_REQUIRE(stats);
  BOOST_TEST(stats->schema_version == kSchemaVersion);
  BOOST_TEST(stats->tables.at(0).name == "records");
  BOOST_TEST(stats->tables.at(0).entries == std::size_t(kRecords));
  BOOST_TEST(stats->tables.at(1).entries == std::size_t(kRecords));
}

BOOST_AUTO_TEST_CASE(a_body_that_outgrows_the_map_runs_again_and_commits_once) {
  test::TempDir dir;
  StoreOptions o;
  o.initial_map_size = 64 * 1024;
  auto store = open_store(dir / "s", o);
  int runs = 0;
  std::uint64_t seq = 0;
  Status st = store->write([&](StoreWriter& w) {
    ++runs;
    auto appended = w.append_conflict(ConflictEntry{});
    if (!appended) return appended.status();
    seq = *appended;
    for (int i = 0; i < 2000; ++i) {
      SHOPSYNC_TRY(w.put_record({"big", std::to_string(i)}, test::simple_state({1, std::uint64_t(i) + 1}, "v")));
    }
    return Status::ok();
  });
  BOOST_REQUIRE_MESSAGE(st, st.to_string());
  BOOST_TEST(runs > 1);
  BOOST_TEST(seq == 1u);  // the aborted runs left nothing behind
}

BOOST_AUTO_TEST_CASE(the_map_stops_at_its_maximum_with_disk_full) {
  test::TempDir dir;
  StoreOptions o;
  o.initial_map_size = 64 * 1024;
  o.max_map_size = 256 * 1024;
  auto store = open_store(dir / "s", o);
  BOOST_REQUIRE(store->write([](StoreWriter& w) { return w.put_record({"a", "kept"}, test::simple_state({1, 1}, "x")); }));
  Status st = store->write([&](StoreWriter& w) {
    for (int i = 0; i < 5000; ++i) {
      SHOPSYNC_TRY(w.put_record({"a", std::to_string(i)}, test::simple_state({1, std::uint64_t(i) + 2}, "value")));
    }
    return Status::ok();
  });
  BOOST_TEST((st.code() == Errc::disk_full));
  BOOST_TEST_MESSAGE(st.to_string());
  BOOST_REQUIRE(store->read([](StoreReader& r) {
    BOOST_TEST(r.record({"a", "kept"})->has_value());
    BOOST_TEST(!r.record({"a", "1"})->has_value());
    return Status::ok();
  }));
}

BOOST_AUTO_TEST_CASE(a_store_of_a_newer_schema_is_refused) {
  test::TempDir dir;
  open_store(dir / "s").reset();
  poke_raw(dir / "s", [](lmdb::Txn& txn) {
    auto meta = txn.open_db("meta", false);
    BOOST_REQUIRE(meta);
    BOOST_REQUIRE(txn.put(*meta, "schema_version", keys::view(keys::u64(kSchemaVersion + 1))));
  });
  for (bool read_only : {false, true}) {
    StoreOptions o;
    o.read_only = read_only;
    auto opened = LmdbStore::open(dir / "s", o);
    BOOST_REQUIRE(!opened);
    BOOST_TEST((opened.status().code() == Errc::newer_schema));
    BOOST_TEST(opened.status().message().find("newer shopsync") != std::string::npos);
    BOOST_TEST_MESSAGE(opened.status().to_string());
  }
}

BOOST_AUTO_TEST_CASE(an_lmdb_environment_that_is_not_shopsync_is_refused) {
  test::TempDir dir;
  poke_raw(dir / "foreign", [](lmdb::Txn& txn) {
    auto db = txn.open_db("invoices", true);
    BOOST_REQUIRE(db);
    BOOST_REQUIRE(txn.put(*db, "k", "v"));
  });
  auto opened = LmdbStore::open(dir / "foreign");
  BOOST_TEST((opened.status().code() == Errc::not_shopsync));
  BOOST_TEST_MESSAGE(opened.status().to_string());

  // A 'meta' database without our magic.
  poke_raw(dir / "fake", [](lmdb::Txn& txn) {
    auto db = txn.open_db("meta", true);
    BOOST_REQUIRE(db);
    BOOST_REQUIRE(txn.put(*db, "magic", "someone-else"));
  });
  BOOST_TEST((LmdbStore::open(dir / "fake").status().code() == Errc::not_shopsync));

  // A data file that is not LMDB at all.
  std::filesystem::create_directories(dir / "garbage");
  {
    std::ofstream f(dir / "garbage" / "data.mdb", std::ios::binary);
    for (int i = 0; i < 20000; ++i) f.put(static_cast<char>(i * 31));
  }
  opened = LmdbStore::open(dir / "garbage");
  BOOST_TEST((opened.status().code() == Errc::not_shopsync));
  BOOST_TEST_MESSAGE(opened.status().to_string());

  // Read-only open of nothing.
  StoreOptions ro;
  ro.read_only = true;
  BOOST_TEST((LmdbStore::open(dir / "missing", ro).status().code() == Errc::not_found));
  BOOST_TEST(!std::filesystem::exists(dir / "missing"));
}

BOOST_AUTO_TEST_CASE(a_corrupt_value_is_reported_with_its_key_and_skipped_by_scans) {
  test::TempDir dir;
  {
    auto store = open_store(dir / "s");
    BOOST_REQUIRE(store->write([](StoreWriter& w) {
      SHOPSYNC_TRY(w.put_record({"customers", "A_GOOD"}, test::simple_state({1, 1}, "fine")));
      SHOPSYNC_TRY(w.put_record({"customers", "BAD_42"}, test::simple_state({1, 2}, "soon broken")));
      SHOPSYNC_TRY(w.put_record({"customers", "Z_GOOD"}, test::simple_state({1, 3}, "fine too")));
      return w.put_node_meta(NodeMeta{1, 3, {}, 0, "c"});
    }));
  }
  poke_raw(dir / "s", [](lmdb::Txn& txn) {
    auto records = txn.open_db("records", false);
    auto meta = txn.open_db("meta", false);
    BOOST_REQUIRE(records && meta);
    BOOST_REQUIRE(txn.put(*records, keys::record({"customers", "BAD_42"}), std::string("\x01\x92\xdd\xff", 4)));
    BOOST_REQUIRE(txn.put(*meta, "node", "\x01garbage"));
  });
  auto store = open_store(dir / "s");
  BOOST_REQUIRE(store->read([&](StoreReader& r) {
    const Status st = r.record({"customers", "BAD_42"}).status();
    BOOST_TEST((st.code() == Errc::corrupt));
    BOOST_TEST(st.message().find("customers/BAD_42") != std::string::npos, st.to_string());
    // One bad record does not stop a scan: the others are all visited.
    std::vector<std::string> seen;
    BOOST_REQUIRE(r.for_each_record("customers", "", [&](const RecordKey& k, const RecordState&) {
      seen.push_back(k.id);
      return Scan::next;
    }));
    BOOST_TEST((seen == std::vector<std::string>{"A_GOOD", "Z_GOOD"}));
    BOOST_TEST((r.node_meta().status().code() == Errc::corrupt));
    BOOST_TEST(r.stored_dots({"customers", "BAD_42"})->empty());  // not even the dots read
    return Status::ok();
  }));
  const auto noted = store->unreadable().list();
  BOOST_REQUIRE_EQUAL(noted.size(), 1u);
  BOOST_TEST((noted[0].key == RecordKey{"customers", "BAD_42"}));
  BOOST_TEST(!noted[0].reason.empty());
  // Overwriting it repairs it; nothing else is touched.
  BOOST_REQUIRE(store->write(
      [](StoreWriter& w) { return w.put_record({"customers", "BAD_42"}, test::simple_state({1, 4}, "x")); }));
  BOOST_TEST(store->unreadable().count() == 0u);
  BOOST_REQUIRE(store->read([&](StoreReader& r) {
    BOOST_TEST((**r.record({"customers", "BAD_42"}) == test::simple_state({1, 4}, "x")));
    BOOST_TEST(r.record({"customers", "A_GOOD"})->has_value());
    return Status::ok();
  }));
}

// A record that an older build stored beyond the decoder's limits (the
// "poison record" of 65,537 fields): skipped by scans, named with whose
// writes it holds, and replaced by a write that keeps the change index exact.
BOOST_AUTO_TEST_CASE(a_record_stored_beyond_the_decoder_limits_is_skipped_named_and_replaceable) {
  test::TempDir dir;
  RecordState poison = test::simple_state({7, 1}, "big");  // "name", and 65,536 more
  for (int i = 0; i < 65536; ++i) poison.siblings[0].fields["f" + std::to_string(i)] = Field{"\x01", 1};
  {
    auto store = open_store(dir / "s");
    // Today's write path refuses it, naming the limit.
    const Status refused = store->write([&](StoreWriter& w) { return w.put_record({"customers", "X"}, poison); });
    BOOST_TEST((refused.code() == Errc::too_large));
    BOOST_TEST(refused.message().find("65537 fields") != std::string::npos, refused.to_string());
    BOOST_REQUIRE(store->write([&](StoreWriter& w) {
      return w.put_record({"customers", "X"}, test::simple_state({7, 1}, "small"));
    }));
  }
  // As an older build would have written it.
  poke_raw(dir / "s", [&](lmdb::Txn& txn) {
    auto records = txn.open_db("records", false);
    BOOST_REQUIRE(records);
    BOOST_REQUIRE(txn.put(*records, keys::record({"customers", "X"}), encode_record_state(poison)));
  });
  auto store = open_store(dir / "s");
  BOOST_REQUIRE(store->read([&](StoreReader& r) {
    BOOST_TEST((r.record({"customers", "X"}).status().code() == Errc::corrupt));
    BOOST_REQUIRE(r.for_each_record("customers", "", [](const RecordKey&, const RecordState&) { return Scan::next; }));
    BOOST_TEST((*r.stored_dots({"customers", "X"}) == std::vector<Dot>{{7, 1}}));
    return Status::ok();
  }));
  const auto noted = store->unreadable().list();
  BOOST_REQUIRE_EQUAL(noted.size(), 1u);
  BOOST_TEST((noted[0].origins == std::vector<NodeId>{7}));
  BOOST_TEST(noted[0].reason.find("more than 65536 fields") != std::string::npos, noted[0].reason);

  RecordState repaired = test::simple_state({7, 2}, "repaired");
  repaired.context.advance({7, 1});
  write_over(*store, {"customers", "X"}, repaired);
}

BOOST_AUTO_TEST_CASE(a_reader_keeps_its_snapshot_while_another_thread_writes) {
  test::TempDir dir;
  auto store = open_store(dir / "s");
  BOOST_REQUIRE(store->write([](StoreWriter& w) { return w.put_record({"c", "x"}, test::simple_state({1, 1}, "old")); }));
  std::promise<void> reading;
  std::promise<void> written;
  auto reader = std::async(std::launch::async, [&] {
    std::string seen_before;
    std::string seen_after;
    Status st = store->read([&](StoreReader& r) {
      seen_before = r.record({"c", "x"})->value().siblings[0].fields.at("name").packed;
      reading.set_value();
      written.get_future().wait();
      seen_after = r.record({"c", "x"})->value().siblings[0].fields.at("name").packed;
      return Status::ok();
    });
    return st && seen_before == seen_after && seen_before == test::packed_str("old");
  });
  reading.get_future().wait();
  RecordState next = test::simple_state({1, 2}, "new");
  BOOST_REQUIRE(store->write([&](StoreWriter& w) { return w.put_record({"c", "x"}, next); }));
  written.set_value();
  BOOST_TEST(reader.get());
}

BOOST_AUTO_TEST_CASE(another_process_reads_consistent_snapshots_during_writes) {
  test::TempDir dir;
  StoreOptions o;
  o.initial_map_size = 64 * 1024;  // the map grows under the reader's feet
  auto store = open_store(dir / "s", o);
  constexpr std::uint64_t kLast = 150;
  test::ChildProcess reader({SHOPSYNC_STORAGE_HELPER, "read", (dir / "s").string(), std::to_string(kLast), "60"});
  for (std::uint64_t b = 0; b <= kLast; ++b) {
    Status st = store->write([&](StoreWriter& w) { return test::write_batch(w, b); });
    BOOST_REQUIRE_MESSAGE(st, st.to_string());
  }
  auto line = reader.read_line(std::chrono::seconds(60));
  const int code = reader.wait();
  BOOST_TEST_MESSAGE("reader: " << line.value_or("(nothing)"));
  BOOST_TEST(code == 0, "reader exit " << code << ": " << line.value_or(""));
  BOOST_TEST(store->map_growths() > 0u);
}

BOOST_AUTO_TEST_CASE(the_reader_slot_of_a_killed_process_is_cleared_at_open) {
  test::TempDir dir;
  open_store(dir / "s").reset();
  // Two readers; one is killed while the other keeps the environment open (if
  // no process had it open, LMDB would reset the whole reader table anyway).
  test::ChildProcess killed({SHOPSYNC_STORAGE_HELPER, "hold-read", (dir / "s").string()});
  test::ChildProcess alive({SHOPSYNC_STORAGE_HELPER, "hold-read", (dir / "s").string()});
  for (auto* child : {&killed, &alive}) {
    auto line = child->read_line(std::chrono::seconds(30));
    BOOST_REQUIRE_MESSAGE(line == std::string("reading"), "child said: " << line.value_or("(nothing)"));
  }
  killed.kill_now();
  BOOST_REQUIRE_EQUAL(killed.wait(), 128 + 9);
  auto store = open_store(dir / "s");
  BOOST_TEST(store->stale_readers_cleared() == 1);
  BOOST_REQUIRE(store->write([](StoreWriter& w) { return w.put(Table::settings, "k", "v"); }));
}

BOOST_AUTO_TEST_CASE(a_read_only_store_refuses_writes) {
  test::TempDir dir;
  open_store(dir / "s").reset();
  StoreOptions o;
  o.read_only = true;
  auto store = open_store(dir / "s", o);
  BOOST_TEST((store->write([](StoreWriter&) { return Status::ok(); }).code() == Errc::invalid_argument));
  BOOST_TEST(store->read([](StoreReader&) { return Status::ok(); }).is_ok());
}

// Records are sealed with a checksum (storage/sealed_record.h): bytes that
// change on disk and still decode are caught instead of read, replicated or
// counted, and the record is noted and replaceable like any corrupt one.
BOOST_AUTO_TEST_CASE(a_record_whose_stored_bytes_changed_is_caught_by_its_seal) {
  test::TempDir dir;
  {
    auto store = open_store(dir / "s");
    BOOST_REQUIRE(store->write([](StoreWriter& w) {
      SHOPSYNC_TRY(w.put_record({"customers", "A"}, test::simple_state({1, 1}, "Alice Moreau")));
      return w.put_record({"customers", "B"}, test::simple_state({1, 2}, "Bruno Petit"));
    }));
  }
  poke_raw(dir / "s", [](lmdb::Txn& txn) {
    auto records = txn.open_db("records", false);
    BOOST_REQUIRE(records);
    auto got = txn.get(*records, keys::record({"customers", "A"}));
    BOOST_REQUIRE((got && got->has_value()));
    std::string bytes(**got);
    BOOST_TEST(static_cast<std::uint8_t>(bytes[0]) == kSealedRecordFormat);
    // One letter of the name: the record still decodes, as a different one.
    const auto at = bytes.find("Alice");
    BOOST_REQUIRE(at != std::string::npos);
    bytes[at] = 'E';
    BOOST_REQUIRE(decode_record_state(stored_encoding(bytes)));
    BOOST_REQUIRE(txn.put(*records, keys::record({"customers", "A"}), bytes));
  });
  auto store = open_store(dir / "s");
  BOOST_REQUIRE(store->read([&](StoreReader& r) {
    const Status st = r.record({"customers", "A"}).status();
    BOOST_TEST((st.code() == Errc::corrupt));
    BOOST_TEST(st.message().find("checksum") != std::string::npos, st.to_string());
    BOOST_TEST((r.packed_record({"customers", "A"}).status().code() == Errc::corrupt));
    BOOST_TEST((ids_in_heads_scan(r, "customers") == std::vector<std::string>{"B"}));
    BOOST_TEST((*r.stored_dots({"customers", "A"}) == std::vector<Dot>{{1, 1}}));  // what it held still reads
    return Status::ok();
  }));
  BOOST_REQUIRE_EQUAL(store->unreadable().count(), 1u);
  BOOST_TEST((store->unreadable().list()[0].origins == std::vector<NodeId>{1}));
  RecordState repaired = test::simple_state({1, 3}, "Alice Moreau");
  repaired.context.advance({1, 1});
  BOOST_REQUIRE(store->write([&](StoreWriter& w) { return w.put_record({"customers", "A"}, repaired); }));
  BOOST_TEST(store->unreadable().count() == 0u);
  BOOST_REQUIRE(store->read([&](StoreReader& r) {
    BOOST_TEST((**r.record({"customers", "A"}) == repaired));
    return Status::ok();
  }));
}

// What the sender reads back of its own records (PackedRecord::sealed, not
// checked again) is the record it wrote: bytes, heads and state.
BOOST_AUTO_TEST_CASE(a_sealed_record_reads_back_as_the_state_written) {
  test::TempDir dir;
  RecordState state = test::simple_state({1, 4}, "Chantal Roux");
  state.siblings.push_back(test::simple_state({2, 7}, "Chantal Roux-Martin", 2000).siblings[0]);
  state.siblings.back().deleted = true;
  state.context.advance({2, 7});
  auto store = open_store(dir / "s");
  BOOST_REQUIRE(store->write([&](StoreWriter& w) { return w.put_record({"customers", "C"}, state); }));
  BOOST_REQUIRE(store->read([&](StoreReader& r) {
    auto packed = r.packed_record({"customers", "C"});
    BOOST_REQUIRE((packed && packed->has_value()));
    const PackedRecord& p = **packed;
    BOOST_TEST(p.bytes() == encode_record_state(state));
    BOOST_TEST(p.sibling_count() == 2u);
    BOOST_TEST(p.plain());
    BOOST_TEST((p.decode() == state));
    BOOST_REQUIRE_EQUAL(p.heads().siblings.size(), 2u);
    BOOST_TEST((p.heads().siblings[1].dot == Dot{2, 7}));
    BOOST_TEST(p.heads().siblings[1].deleted);
    BOOST_TEST((p.heads().context == state.context));
    return Status::ok();
  }));
}

// A store of schema 1 holds records without seals: they read as before (with
// the full check), are sealed when written again, and the store is marked
// schema 2 once opened for writing, so that an older build refuses it.
BOOST_AUTO_TEST_CASE(records_stored_before_seals_read_and_are_sealed_when_written_again) {
  test::TempDir dir;
  const RecordState old_state = test::simple_state({1, 1}, "Denis Blanc");
  {
    auto store = open_store(dir / "s");
    BOOST_REQUIRE(store->write([](StoreWriter& w) { return w.put_node_meta(NodeMeta{1, 1, {}, 0, "c"}); }));
  }
  poke_raw(dir / "s", [&](lmdb::Txn& txn) {
    auto records = txn.open_db("records", false);
    auto changes = txn.open_db("changes", false);
    auto meta = txn.open_db("meta", false);
    BOOST_REQUIRE((records && changes && meta));
    BOOST_REQUIRE(txn.put(*records, keys::record({"customers", "D"}), encode_record_state(old_state)));
    BOOST_REQUIRE(txn.put(*changes, keys::view(keys::change(1, 1)), keys::record({"customers", "D"})));
    BOOST_REQUIRE(txn.put(*meta, "schema_version", keys::view(keys::u64(1))));
  });
  {
    StoreOptions read_only;
    read_only.read_only = true;
    auto reader = open_store(dir / "s", read_only);
    BOOST_TEST(reader->stats()->schema_version == 1u);  // reading changes nothing
  }
  auto store = open_store(dir / "s");
  BOOST_TEST(store->stats()->schema_version == 2u);
  BOOST_REQUIRE(store->read([&](StoreReader& r) {
    BOOST_TEST((**r.record({"customers", "D"}) == old_state));
    auto packed = r.packed_record({"customers", "D"});
    BOOST_REQUIRE((packed && packed->has_value()));
    BOOST_TEST(((*packed)->decode() == old_state));
    return Status::ok();
  }));
  RecordState next = test::simple_state({1, 2}, "Denis Blanc-Dupuis");
  next.context.advance({1, 1});
  write_over(*store, {"customers", "D"}, next);  // the unsealed record's dot leaves the index
  store.reset();
  poke_raw(dir / "s", [&](lmdb::Txn& txn) {
    auto records = txn.open_db("records", false);
    BOOST_REQUIRE(records);
    auto got = txn.get(*records, keys::record({"customers", "D"}));
    BOOST_REQUIRE((got && got->has_value()));
    BOOST_TEST(static_cast<std::uint8_t>((**got)[0]) == kSealedRecordFormat);
  });
}

// The heads scan (tombstones, the count at start) shows exactly the records
// record() reads: a record stored before seals whose heads read but whose
// fields break a rule is skipped and noted, not counted.
BOOST_AUTO_TEST_CASE(the_heads_scan_shows_exactly_the_records_that_read) {
  test::TempDir dir;
  {
    auto store = open_store(dir / "s");
    BOOST_REQUIRE(store->write([](StoreWriter& w) {
      return w.put_record({"customers", "A"}, test::simple_state({1, 1}, "Emma Girard"));
    }));
  }
  poke_raw(dir / "s", [](lmdb::Txn& txn) {
    auto records = txn.open_db("records", false);
    BOOST_REQUIRE(records);
    // As a build before seals stored it, with a name that is not UTF-8.
    const std::string bad = encode_record_state(test::simple_state({1, 2}, "\xff\xfe"));
    RecordState heads;
    BOOST_REQUIRE(decode_record_heads(bad, heads));  // its heads alone read
    BOOST_REQUIRE(txn.put(*records, keys::record({"customers", "B"}), bad));
  });
  auto store = open_store(dir / "s");
  BOOST_REQUIRE(store->read([&](StoreReader& r) {
    BOOST_TEST((r.record({"customers", "B"}).status().code() == Errc::corrupt));
    BOOST_TEST((ids_in_heads_scan(r, "customers") == std::vector<std::string>{"A"}));
    return Status::ok();
  }));
  BOOST_REQUIRE_EQUAL(store->unreadable().count(), 1u);
  BOOST_TEST((store->unreadable().list()[0].key == RecordKey{"customers", "B"}));
}

BOOST_AUTO_TEST_CASE(crc32c_gives_the_standard_check_values) {
  // RFC 3720, B.4, and the customary "123456789" check value.
  BOOST_TEST(crc32c("") == 0u);
  BOOST_TEST(crc32c("123456789") == 0xe3069283u);
  BOOST_TEST(crc32c(std::string(32, '\0')) == 0x8a9136aau);
  BOOST_TEST(crc32c(std::string(32, '\xff')) == 0x62a8ab43u);
  std::string ascending(32, '\0');
  for (std::size_t i = 0; i < ascending.size(); ++i) ascending[i] = static_cast<char>(i);
  BOOST_TEST(crc32c(ascending) == 0x46dd794eu);
  // Every length (the instruction takes 8 bytes at a time, then single
  // ones), by the instruction where the CPU has it and by the table.
  std::string text;
  for (int i = 0; i < 300; ++i) {
    BOOST_TEST_REQUIRE(crc32c(text) == crc32c_by_table(text), "length " << i);
    text.push_back(static_cast<char>(i * 37 + 11));
  }
  BOOST_TEST(crc32c_by_table("123456789") == 0xe3069283u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace shopsync
