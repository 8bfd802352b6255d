// The poison record with real shopsyncd processes: `shopsync put --json @FILE`
// of a record the store could not read back is refused; and a record that an
// older build did store that way (put on disk while the node was stopped)
// never stops the node: its peer gets everything else, `status` and `doctor`
// name it, its log says whose it is, and `shopsync rm` repairs it.
#include <fstream>

#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "storage/key_codec.h"
#include "storage/lmdb.h"
#include "storage/lmdb_store.h"
#include "storage/record_codec.h"
#include "tests/node/support/node_process.h"
#include "tests/support/temp_dir.h"
#include "tests/tools/child.h"
#include "tests/tools/daemon_cli.h"

namespace shopsync::test {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kWait{30'000};
const RecordKey kPoison{"customers", "X"};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

json object_with_fields(std::size_t n) {
  json o = json::object();
  for (std::size_t i = 0; i < n; ++i) o["f" + std::to_string(i)] = static_cast<int>(i % 100);
  return o;
}

// Rewrites customers/X in a stopped node's store as a build with looser
// limits would have stored it: its own version, with 65,537 fields.
void poison_stored_record(const std::filesystem::path& data_dir) {
  RecordState state;
  {
    auto store = LmdbStore::open(data_dir);
    BOOST_REQUIRE_MESSAGE(store, store.status().to_string());
    BOOST_REQUIRE((*store)->read([&](StoreReader& r) -> Status {
      auto got = r.record(kPoison);
      if (!got) return got.status();
      state = **got;
      return Status::ok();
    }));
  }
  for (int i = 0; i < 65537; ++i) state.siblings[0].fields["f" + std::to_string(i)] = Field{"\x01", 1};
  auto env = lmdb::Env::open(data_dir, {});
  BOOST_REQUIRE(env);
  auto txn = lmdb::Txn::begin(*env, lmdb::TxnMode::write);
  BOOST_REQUIRE(txn);
  auto records = txn->open_db("records", false);
  BOOST_REQUIRE(records);
  BOOST_REQUIRE(txn->put(*records, keys::record(kPoison), encode_record_state(state)));
  BOOST_REQUIRE(txn->commit());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(record_limits_daemon)

BOOST_AUTO_TEST_CASE(a_poison_record_is_refused_and_one_already_stored_stops_nothing) {
  TempDir dir{"shopsync-poison"};
  NodeProcess a(NodeProcess::Options::named(dir.path(), "a")), b(NodeProcess::Options::named(dir.path(), "b"));
  peer_each_other(a, b);

  a.start();
  for (const char* id : {"A", "X", "Z"}) BOOST_REQUIRE(cli(a, {"put", "customers", id, "name=" + std::string(id)}).exit_code == 0);
  const auto file = dir / "poison.json";
  std::ofstream(file) << object_with_fields(65537).dump();
  auto refused = cli(a, {"put", "customers", "P", "--json", "@" + file.string()});
  BOOST_TEST(refused.exit_code == 4, refused.err);
  BOOST_TEST(contains(refused.err, "65537 fields"), refused.err);
  BOOST_TEST(cli(a, {"status"}).exit_code == 0);
  BOOST_TEST(a.stop() == 0);

  poison_stored_record(a.options().data_dir);
  a.start();
  b.start();
  // Replication passes it by: b gets the others.
  BOOST_TEST(wait_until([&] { return cli(b, {"get", "customers", "Z"}).exit_code == 0; }, 20s));
  BOOST_TEST(cli(b, {"get", "customers", "A"}).exit_code == 0);
  BOOST_TEST(cli(b, {"get", "customers", "X"}).exit_code != 0);

  // Reads go on, and say what is wrong and what to do.
  auto status = cli(a, {"--json", "status"});
  BOOST_REQUIRE_MESSAGE(status.exit_code == 0, status.err);
  BOOST_TEST(json::parse(status.out)["unreadable_records"] == 1);
  auto doctor = cli(a, {"doctor"});
  BOOST_TEST(doctor.exit_code == 8);
  BOOST_TEST(contains(doctor.out, "record customers/X does not decode"), doctor.out);
  BOOST_TEST(contains(doctor.out, "shopsync rm customers X"), doctor.out);
  BOOST_TEST(wait_until([&] { return a.log_count("record customers/X does not decode") == 1; }, 10s), a.log());
  BOOST_TEST(contains(a.log(), "written by this node"));

  // `shopsync rm` repairs it, and a new value of it reaches the peer.
  auto rm = cli(a, {"rm", "customers", "X"});
  BOOST_TEST(rm.exit_code == 0, rm.err);
  BOOST_TEST(cli(a, {"put", "customers", "X", "name=again"}).exit_code == 0);
  BOOST_TEST(wait_until([&] { return cli(b, {"get", "customers", "X"}).exit_code == 0; }, 20s));
  BOOST_TEST(json::parse(cli(a, {"--json", "status"}).out)["unreadable_records"] == 0);
  BOOST_TEST(a.stop() == 0);
  BOOST_TEST(b.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace shopsync::test
