// The mapping file of typed tables (pg_mapping.h) and the conversion of a
// typed row into a write (pg_import.h), without PostgreSQL.
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "api/json_values.h"
#include "node/postgres/pg_import.h"
#include "node/postgres/pg_mapping.h"
#include "tests/support/temp_dir.h"

namespace shopsync::postgres {
namespace {

using json_values::json;

std::string packed(const json& value) { return json_values::json_to_packed(value, json_values::BinaryForm::tagged_object); }

Result<Mapping> load(const std::string& text) {
  test::TempDir dir("shopsync-pgmap");
  const auto path = dir.path() / "mapping.toml";
  std::ofstream(path) << text;
  return Mapping::load(path.string(), "shop");
}

constexpr const char* kCustomers = R"(
[customers]
table = "public.customers"
key = "customer_id"
[customers.fields]
name = "text"
balance = "numeric"
updated_at = "timestamptz"
notes = { column = "remarks", type = "jsonb" }

[orders]
table = "orders"
key = "order_id"
fields = { total = "numeric", paid = "boolean" }
)";

TupleValue text(const std::string& v) { return TupleValue{TupleValue::Kind::text, v}; }

BOOST_AUTO_TEST_SUITE(pg_mapping)

BOOST_AUTO_TEST_CASE(a_mapping_file_names_table_key_and_typed_columns_per_collection) {
  auto m = load(kCustomers);
  BOOST_REQUIRE_MESSAGE(m, m.status().to_string());
  const TableMapping* c = m->by_collection("customers");
  BOOST_REQUIRE(c);
  BOOST_CHECK_EQUAL(c->qualified(), "public.customers");
  BOOST_CHECK_EQUAL(c->key, "customer_id");
  BOOST_REQUIRE_EQUAL(c->fields.size(), 4u);
  BOOST_CHECK(m->by_table("public", "customers") == c);
  const TableMapping* o = m->by_collection("orders");
  BOOST_REQUIRE(o);
  BOOST_CHECK_EQUAL(o->qualified(), "shop.orders");  // a bare name: the cluster's schema
  bool remarks = false;
  for (const auto& f : c->fields) remarks = remarks || (f.field == "notes" && f.column == "remarks" && f.type == ColumnType::jsonb);
  BOOST_CHECK(remarks);
}

BOOST_AUTO_TEST_CASE(a_type_the_mapping_cannot_carry_is_refused_naming_file_line_and_field) {
  auto bad = load("[customers]\ntable = \"customers\"\nkey = \"customer_id\"\n[customers.fields]\nlocation = \"point\"\n");
  BOOST_REQUIRE(!bad);
  BOOST_CHECK_NE(bad.status().message().find("mapping.toml:5: field 'location' of customers: type 'point' is not one"),
                 std::string::npos);
  BOOST_CHECK(!load("[customers]\ntable = \"customers\"\n[customers.fields]\nname = \"text\"\n"));  // no key
  BOOST_CHECK(!load("[Customers]\ntable = \"c\"\nkey = \"k\"\nfields = {}\n"));                    // not a collection name
  BOOST_CHECK(!load("[customers]\ntable = \"c\"\nkey = \"k\"\nfields = { k = \"text\" }\n"));      // key mapped again
  BOOST_CHECK(!load("[customers]\ntable = [\n"));                                                   // not TOML
  BOOST_CHECK(column_fits(ColumnType::numeric, "integer"));
  BOOST_CHECK(!column_fits(ColumnType::text, "point"));
  BOOST_CHECK(!column_fits(ColumnType::timestamptz, "timestamp without time zone"));
}

BOOST_AUTO_TEST_CASE(column_text_becomes_the_field_value_of_its_type) {
  BOOST_CHECK(column_to_packed(ColumnType::numeric, "12.00").value() == packed(12));
  BOOST_CHECK(column_to_packed(ColumnType::numeric, "-12.50").value() == packed(-12.5));
  BOOST_CHECK(column_to_packed(ColumnType::integer, "42").value() == packed(42));
  BOOST_CHECK(column_to_packed(ColumnType::boolean, "t").value() == packed(true));
  BOOST_CHECK(column_to_packed(ColumnType::timestamptz, "2025-10-18 12:00:00.25+00").value() ==
              packed("2025-10-18T12:00:00.25Z"));
  BOOST_CHECK(column_to_packed(ColumnType::jsonb, R"({"a": [1]})").value() == packed(json{{"a", {1}}}));
  BOOST_CHECK(!column_to_packed(ColumnType::integer, "12.5"));
  BOOST_CHECK(!column_to_packed(ColumnType::numeric, "NaN"));
  BOOST_CHECK(!column_to_packed(ColumnType::boolean, "yes"));
}

BOOST_AUTO_TEST_CASE(a_typed_row_patches_the_mapped_fields_and_a_bad_value_names_row_and_column) {
  auto m = load(kCustomers);
  BOOST_REQUIRE(m);
  const TableMapping& c = *m->by_collection("customers");
  Relation rel{1, "public", "customers", {{"id", 23, true}, {"customer_id", 25, false}, {"name", 25, false},
                                          {"balance", 1700, false}, {"sync_status", 25, false}}};
  RowChange update{RowChange::Op::update, 1, {text("7"), text("CUST_001"), text("ABC"), TupleValue{}, text("SYNCED")}};
  auto w = typed_row_to_write(c, rel, update);
  BOOST_REQUIRE_MESSAGE(w && *w, w.status().to_string());
  BOOST_CHECK_EQUAL((*w)->key.collection, "customers");
  BOOST_CHECK_EQUAL((*w)->key.id, "CUST_001");
  BOOST_CHECK(!(*w)->update.replace);  // the record's other fields stay
  BOOST_CHECK((*w)->update.fields.at("name") == packed("ABC"));
  BOOST_CHECK(!(*w)->update.fields.at("balance"));  // NULL removes the field
  BOOST_CHECK(!(*w)->update.fields.count("sync_status"));  // not mapped

  update.tuple[3] = text("lots");
  auto bad = typed_row_to_write(c, rel, update);
  BOOST_REQUIRE(!bad);
  BOOST_CHECK_NE(bad.status().message().find("public.customers row 'CUST_001' column balance: 'lots' is not numeric"),
                 std::string::npos);
  // A DELETE carries only the replica identity (here `id`), not the key column.
  RowChange gone{RowChange::Op::remove, 1, {text("7"), TupleValue{}, TupleValue{}, TupleValue{}, TupleValue{}}};
  auto d = typed_row_to_write(c, rel, gone);
  BOOST_REQUIRE(!d);
  BOOST_CHECK_NE(d.status().message().find("REPLICA IDENTITY"), std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::postgres
