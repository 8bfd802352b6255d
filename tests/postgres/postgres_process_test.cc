// The uplink on PostgreSQL with real processes: a PostgreSQL 15 server the
// test starts (pg_server.h), an uplink shopsyncd with --postgres, and a
// branch. Rows flow both ways (docs/uplink.md, "PostgreSQL"); a kill -9 of
// the uplink mid-stream loses nothing and applies nothing twice; a restart
// of PostgreSQL is ridden out by the uplink alone; a concurrent edit in
// PostgreSQL and on a branch has the same winner everywhere.
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "api/json_values.h"
#include "api/msgpack_map.h"
#include "tests/node/support/node_process.h"
#include "tests/postgres/pg_server.h"
#include "tests/support/loopback_port.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

using namespace std::chrono_literals;

NodeProcess::Options uplink_options(const TempDir& dir, const PgServer& pg, const std::string& name = "uplink") {
  NodeProcess::Options o = NodeProcess::Options::named(dir.path(), name);
  o.extra = {"--role", "uplink", "--postgres", pg.conninfo()};
  return o;
}

// The visible `name` of a record on `node` ("" when absent).
std::string name_on(NodeProcess& node, const std::string& collection, const std::string& id) {
  auto g = node.api().get({collection, id});
  if (!g) return "";
  auto it = g->fields.find("name");
  return it == g->fields.end() ? "" : it->second;
}

// What psql prints for `sql`, waiting until it prints `want` (bounded).
bool psql_shows(const PgServer& pg, const std::string& sql, const std::string& want) {
  return wait_until(
      [&] {
        bool ok = false;
        return pg.try_psql(sql, ok) == want && ok;
      },
      15s);
}


BOOST_AUTO_TEST_SUITE(postgres_processes)

BOOST_AUTO_TEST_CASE(a_branch_write_becomes_a_row_and_a_psql_update_reaches_the_branch) {
  TempDir dir("shopsync-pg");
  PgServer pg(dir.path());
  NodeProcess u(uplink_options(dir, pg));
  NodeProcess a(NodeProcess::Options::named(dir.path(), "branch"));
  u.options().trust = {a.public_key()};
  a.options().extra = {"--uplink", u.peer_spec(), "--pull-interval-ms", "1000"};
  u.start();
  a.start();

  put_name(a, "customers", "CUST_001", "ABC");
  BOOST_REQUIRE(psql_shows(pg, "SELECT fields->>'name', deleted FROM test.customers WHERE id = 'CUST_001'", "ABC|f"));

  pg.psql("UPDATE test.customers SET fields = jsonb_set(fields, '{name}', '\"ABC Ltd\"') WHERE id = 'CUST_001'");
  BOOST_REQUIRE(wait_until([&] { return name_on(a, "customers", "CUST_001") == packed_string("ABC Ltd"); }, 15s));

  // Bad rows are logged and skipped; the good row of the same transaction flows.
  pg.psql("CREATE TABLE test.nokey (a int)");
  pg.psql("BEGIN; INSERT INTO test.nokey VALUES (1);"
          " INSERT INTO test.customers (id, fields) VALUES ('BAD', '[1, 2]'), ('CUST_002', '{\"name\": \"Kim\"}'); COMMIT");
  BOOST_REQUIRE(wait_until([&] { return name_on(a, "customers", "CUST_002") == packed_string("Kim"); }, 15s));
  BOOST_CHECK(u.log_count("table test.nokey has no primary key") >= 1);
  BOOST_CHECK(u.log_count("row 'BAD': fields is not a JSON object") >= 1);
  BOOST_CHECK(!u.api().get({"customers", "BAD"}));
  // The update that came from PostgreSQL went out once, as one row: no echo.
  BOOST_CHECK_EQUAL(pg.psql("SELECT count(*) FROM test.customers"), "3");
}

BOOST_AUTO_TEST_CASE(kill_9_of_the_uplink_mid_stream_loses_no_row_and_applies_none_twice) {
  TempDir dir("shopsync-pg");
  PgServer pg(dir.path());
  NodeProcess u(uplink_options(dir, pg));
  u.start();
  BOOST_REQUIRE(psql_shows(pg, "SELECT count(*) FROM pg_publication WHERE pubname = 'shopsync_test'", "1"));
  pg.psql("CREATE TABLE test.orders (id text PRIMARY KEY, fields jsonb NOT NULL, version text, hlc bigint,"
          " deleted boolean NOT NULL DEFAULT false)");
  // 5,000 rows in 50 transactions, and 100 cluster writes meanwhile.
  pg.psql("DO $$ BEGIN FOR t IN 0..49 LOOP INSERT INTO test.orders (id, fields)"
          " SELECT 'O' || (t * 100 + g), jsonb_build_object('n', t * 100 + g) FROM generate_series(1, 100) g;"
          " COMMIT; END LOOP; END $$");
  for (int i = 0; i < 100; ++i) put_name(u, "customers", "C" + std::to_string(i), "name " + std::to_string(i));
  u.kill9();
  u.start();
  BOOST_REQUIRE(wait_until([&] { return live_records(u, "orders") == 5'000; }, 30s));
  BOOST_REQUIRE(psql_shows(pg, "SELECT count(*) FROM test.customers", "100"));
  // Each row was one write of the uplink: 5,000 imports + 100 puts, none twice.
  auto status = u.api().status();
  BOOST_REQUIRE(status);
  BOOST_CHECK_EQUAL(status->counter, 5'100u);
  BOOST_CHECK_EQUAL(pg.psql("SELECT fields->>'name' FROM test.customers WHERE id = 'C99'"), "name 99");
}

BOOST_AUTO_TEST_CASE(postgres_restarted_mid_stream_the_uplink_resumes_by_itself) {
  TempDir dir("shopsync-pg");
  PgServer pg(dir.path());
  NodeProcess u(uplink_options(dir, pg));
  u.start();
  put_name(u, "customers", "C1", "before");
  BOOST_REQUIRE(psql_shows(pg, "SELECT fields->>'name' FROM test.customers WHERE id = 'C1'", "before"));
  pg.restart();
  put_name(u, "customers", "C2", "after");
  BOOST_REQUIRE(psql_shows(pg, "SELECT fields->>'name' FROM test.customers WHERE id = 'C2'", "after"));
  pg.psql("UPDATE test.customers SET fields = '{\"name\": \"edited\"}' WHERE id = 'C1'");
  BOOST_REQUIRE(wait_until([&] { return name_on(u, "customers", "C1") == packed_string("edited"); }, 15s));
  BOOST_CHECK(u.log_count("PostgreSQL: connected") >= 2);
}

BOOST_AUTO_TEST_CASE(a_concurrent_edit_in_postgresql_and_on_a_branch_has_one_winner_everywhere) {
  TempDir dir("shopsync-pg");
  PgServer pg(dir.path());
  const std::vector<std::string> strategies = {"--strategy", "c_server=server_wins", "--strategy",
                                               "c_client=client_wins"};
  NodeProcess u(uplink_options(dir, pg));
  NodeProcess a(NodeProcess::Options::named(dir.path(), "branch"));
  u.options().trust = {a.public_key()};
  u.options().extra.insert(u.options().extra.end(), strategies.begin(), strategies.end());
  std::vector<std::string> online = {"--uplink", u.peer_spec(), "--pull-interval-ms", "1000"};
  online.insert(online.end(), strategies.begin(), strategies.end());
  a.options().extra = online;
  u.start();
  a.start();
  for (const std::string c : {"c_server", "c_client"}) {
    put_name(a, c, "R1", "base");
    BOOST_REQUIRE(psql_shows(pg, "SELECT fields->>'name' FROM test." + c + " WHERE id = 'R1'", "base"));
  }
  // The branch goes offline; PostgreSQL is edited, then the branch (later).
  a.stop();
  for (const std::string c : {"c_server", "c_client"}) {
    pg.psql("UPDATE test." + c + " SET fields = '{\"name\": \"from postgres\"}' WHERE id = 'R1'");
    BOOST_REQUIRE(wait_until([&] { return name_on(u, c, "R1") == packed_string("from postgres"); }, 15s));
  }
  a.options().extra = strategies;
  a.start();
  for (const std::string c : {"c_server", "c_client"}) put_name(a, c, "R1", "from branch");
  a.stop();
  a.options().extra = online;
  a.start();
  // server_wins: PostgreSQL's edit is the uplink's write; client_wins: the branch's.
  for (const auto& [c, winner] : std::vector<std::pair<std::string, std::string>>{
           {"c_server", "from postgres"}, {"c_client", "from branch"}}) {
    BOOST_CHECK_MESSAGE(wait_until([&] { return name_on(a, c, "R1") == packed_string(winner); }, 15s), c << " on the branch");
    BOOST_CHECK_MESSAGE(wait_until([&] { return name_on(u, c, "R1") == packed_string(winner); }, 15s), c << " on the uplink");
    BOOST_CHECK_MESSAGE(psql_shows(pg, "SELECT fields->>'name' FROM test." + c + " WHERE id = 'R1'", winner),
                        c << " in PostgreSQL");
  }
}

// A PostgreSQL that takes the connection but never answers (a port that
// listens and never accepts), even with a long connect_timeout in the
// connection string, does not hold the uplink up: it serves its branch.
BOOST_AUTO_TEST_CASE(a_postgresql_that_never_answers_does_not_hold_up_the_uplink) {
  TempDir dir("shopsync-pg");
  LoopbackPort silent(true);
  NodeProcess u(NodeProcess::Options::named(dir.path(), "uplink"));
  NodeProcess a(NodeProcess::Options::named(dir.path(), "branch"));
  u.options().trust = {a.public_key()};
  u.options().extra = {"--role", "uplink", "--postgres",
                       "host=127.0.0.1 port=" + std::to_string(silent.port) + " connect_timeout=60 user=postgres"};
  a.options().extra = {"--uplink", u.peer_spec(), "--pull-interval-ms", "1000"};
  u.start();
  a.start();
  put_name(a, "customers", "C1", "ABC");
  BOOST_REQUIRE(wait_until([&] { return name_on(u, "customers", "C1") == packed_string("ABC"); }, 15s));
}

// Two uplinks of one cluster on one PostgreSQL (not peered here, so that
// each one's writes stay its own): the one streaming the cluster's slot
// imports an edit, the other does not; killed, the other takes over.
BOOST_AUTO_TEST_CASE(of_two_uplinks_on_one_postgresql_one_imports_each_edit_and_the_other_takes_over) {
  TempDir dir("shopsync-pg");
  PgServer pg(dir.path());
  NodeProcess u1(uplink_options(dir, pg, "uplink1"));
  NodeProcess u2(uplink_options(dir, pg, "uplink2"));
  u1.start();
  BOOST_REQUIRE(psql_shows(pg, "SELECT count(*) FROM pg_replication_slots WHERE active", "1"));
  u2.start();
  BOOST_REQUIRE(wait_until([&] { return u2.log_count("is streamed by another uplink") >= 1; }, 15s));
  pg.psql("CREATE TABLE test.orders (id text PRIMARY KEY, fields jsonb NOT NULL, version text, hlc bigint,"
          " deleted boolean NOT NULL DEFAULT false)");
  pg.psql("INSERT INTO test.orders (id, fields) SELECT 'A' || g, '{}' FROM generate_series(1, 10) g");
  BOOST_REQUIRE(wait_until([&] { return live_records(u1, "orders") == 10; }, 15s));
  u1.kill9();
  pg.psql("INSERT INTO test.orders (id, fields) SELECT 'B' || g, '{}' FROM generate_series(1, 5) g");
  BOOST_REQUIRE(wait_until([&] { return live_records(u2, "orders") >= 5; }, 15s));
  // u2 imported the edits made after it took over, not u1's.
  BOOST_CHECK_EQUAL(live_records(u2, "orders"), 5u);
  auto status = u2.api().status();
  BOOST_REQUIRE(status);
  BOOST_CHECK_EQUAL(status->counter, 5u);
}

// The seed's customers table as its backend made it (serial id, the record
// id in customer_id, typed columns), kept by a mapping file; a payments
// table without a primary key is refused and the rest flows.
BOOST_AUTO_TEST_CASE(the_seeds_typed_customers_table_is_kept_both_ways_through_a_mapping_file) {
  TempDir dir("shopsync-pg");
  PgServer pg(dir.path());
  pg.psql("CREATE TABLE customers (id serial PRIMARY KEY, customer_id text UNIQUE NOT NULL, name text NOT NULL,"
          " phone text, email text, customer_type text DEFAULT 'regular', balance numeric(12,2) DEFAULT 0,"
          " updated_at timestamptz DEFAULT now(), sync_status text DEFAULT 'SYNCED');"
          " CREATE TABLE payments (payment_id text, amount numeric);"
          " INSERT INTO customers (customer_id, name, balance, updated_at)"
          " VALUES ('CUST_OLD', 'Existing Co', 10.50, '2025-01-15 11:00:00+00')");
  const auto mapping = dir.path() / "mapping.toml";
  std::ofstream(mapping) << "[customers]\ntable = \"public.customers\"\nkey = \"customer_id\"\n[customers.fields]\n"
                            "name = \"text\"\nphone = \"text\"\nbalance = \"numeric\"\nupdated_at = \"timestamptz\"\n"
                            "[payments]\ntable = \"public.payments\"\nkey = \"payment_id\"\nfields = { amount = \"numeric\" }\n";
  NodeProcess u(uplink_options(dir, pg));
  NodeProcess a(NodeProcess::Options::named(dir.path(), "branch"));
  u.options().trust = {a.public_key()};
  u.options().extra.insert(u.options().extra.end(), {"--postgres-mapping", mapping.string()});
  a.options().extra = {"--uplink", u.peer_spec(), "--pull-interval-ms", "1000"};
  u.start();
  a.start();
  auto field_on = [](NodeProcess& node, const std::string& id, const std::string& field) {
    auto g = node.api().get({"customers", id});
    if (!g) return std::string();
    auto it = g->fields.find(field);
    return it == g->fields.end() ? std::string() : it->second;
  };
  auto packed = [](const json_values::json& v) { return json_values::json_to_packed(v, json_values::BinaryForm::tagged_object); };

  // A row already in the table reaches the branch, typed.
  BOOST_REQUIRE(wait_until([&] { return field_on(a, "CUST_OLD", "balance") == packed(10.5); }, 15s));
  BOOST_CHECK(field_on(a, "CUST_OLD", "updated_at") == packed("2025-01-15T11:00:00Z"));

  // A branch write becomes a typed row; the table's own columns keep their defaults.
  api::PutRequest put;
  put.key = {"customers", "CUST_001"};
  put.fields = {{"name", packed("ABC Company")}, {"phone", packed("555-1234")}, {"balance", packed(0)},
                {"updated_at", packed("2025-10-18T12:00:00Z")}, {"note", packed("kept in the cluster only")}};
  BOOST_REQUIRE(a.api().put(put));
  BOOST_REQUIRE(psql_shows(pg, "SELECT name, phone, balance, updated_at = '2025-10-18T12:00:00Z', sync_status"
                               " FROM customers WHERE customer_id = 'CUST_001'",
                           "ABC Company|555-1234|0.00|t|SYNCED"));

  // A psql UPDATE of the typed table reaches the branch; unmapped fields stay.
  pg.psql("UPDATE customers SET phone = '555-9999', balance = 12.5 WHERE customer_id = 'CUST_001'");
  BOOST_REQUIRE(wait_until([&] { return field_on(a, "CUST_001", "phone") == packed("555-9999"); }, 15s));
  BOOST_CHECK(field_on(a, "CUST_001", "balance") == packed(12.5));
  BOOST_CHECK(field_on(a, "CUST_001", "note") == packed("kept in the cluster only"));

  // A value that does not convert is refused by PostgreSQL and logged; the rest flows, nothing is lost.
  put.key.id = "CUST_BAD";
  put.fields = {{"name", packed("Bad")}, {"balance", packed("lots")}};
  BOOST_REQUIRE(a.api().put(put));
  put_name(a, "customers", "CUST_002", "Kim");
  put_name(a, "payments", "P1", "cash");
  BOOST_REQUIRE(psql_shows(pg, "SELECT name FROM customers WHERE customer_id = 'CUST_002'", "Kim"));
  BOOST_REQUIRE(wait_until([&] { return u.log_count("record payments/P1 not exported") >= 1; }, 15s));
  BOOST_CHECK(u.log_count("record customers/CUST_BAD not exported: 22P02") >= 1);
  BOOST_CHECK(u.log_count("collection payments is not mapped onto public.payments: table public.payments has no primary key") >= 1);
  BOOST_CHECK_EQUAL(pg.psql("SELECT count(*) FROM customers WHERE customer_id = 'CUST_BAD'"), "0");
  BOOST_CHECK(field_on(u, "CUST_BAD", "balance") == packed("lots"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
