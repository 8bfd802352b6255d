// The logical replication stream decoder and the row -> write mapping of the
// PostgreSQL link, on bytes built here as PostgreSQL sends them.
#include <boost/test/unit_test.hpp>

#include "node/postgres/pg_import.h"
#include "node/postgres/pgoutput.h"

namespace shopsync::postgres {
namespace {

struct Bytes {
  std::string out;
  Bytes& c(char v) {
    out.push_back(v);
    return *this;
  }
  Bytes& u(std::uint64_t v, int n) {
    for (int shift = (n - 1) * 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
    return *this;
  }
  Bytes& s(const std::string& v) {
    out += v;
    out.push_back('\0');
    return *this;
  }
  Bytes& text(const std::string& v) {
    c('t').u(v.size(), 4);
    out += v;
    return *this;
  }
};

Relation customers() {
  Bytes b;
  b.c('R').u(16400, 4).s("shop").s("customers").c('d').u(3, 2);
  b.c(1).s("id").u(25, 4).u(0xffffffff, 4);
  b.c(0).s("fields").u(3802, 4).u(0xffffffff, 4);
  b.c(0).s("deleted").u(16, 4).u(0xffffffff, 4);
  auto m = decode_pgoutput(b.out);
  BOOST_REQUIRE(m);
  return std::get<Relation>(*m);
}

RowChange insert(const std::string& id, const std::string& fields, const std::string& deleted) {
  Bytes b;
  b.c('I').u(16400, 4).c('N').u(3, 2).text(id).text(fields).text(deleted);
  auto m = decode_pgoutput(b.out);
  BOOST_REQUIRE(m);
  return std::get<RowChange>(*m);
}

BOOST_AUTO_TEST_SUITE(pgoutput)

BOOST_AUTO_TEST_CASE(relation_and_insert_become_a_put_of_the_record) {
  const Relation rel = customers();
  BOOST_CHECK_EQUAL(rel.name, "customers");
  BOOST_REQUIRE_EQUAL(rel.columns.size(), 3u);
  BOOST_CHECK(rel.columns[0].key);
  auto w = row_to_write("shop", rel, insert("CUST_001", R"({"name": "ABC"})", "f"));
  BOOST_REQUIRE(w && *w);
  BOOST_CHECK_EQUAL((*w)->key.collection, "customers");
  BOOST_CHECK_EQUAL((*w)->key.id, "CUST_001");
  BOOST_CHECK(!(*w)->remove);
  BOOST_CHECK_EQUAL((*w)->update.fields.at("name").value(), std::string("\xa3" "ABC"));
  auto d = row_to_write("shop", rel, insert("CUST_001", "{}", "t"));
  BOOST_REQUIRE(d && *d);
  BOOST_CHECK((*d)->remove);
  // Another schema's tables are not the cluster's.
  auto other = row_to_write("other", rel, insert("X", "{}", "f"));
  BOOST_REQUIRE(other);
  BOOST_CHECK(!*other);
}

BOOST_AUTO_TEST_CASE(rows_the_mapping_cannot_carry_get_an_error_naming_table_and_row) {
  Relation rel = customers();
  auto bad = row_to_write("shop", rel, insert("BAD", "[1]", "f"));
  BOOST_REQUIRE(!bad);
  BOOST_CHECK_NE(bad.status().message().find("shop.customers row 'BAD': fields is not a JSON object"), std::string::npos);
  rel.columns[0].key = false;
  auto nokey = row_to_write("shop", rel, insert("A", "{}", "f"));
  BOOST_REQUIRE(!nokey);
  BOOST_CHECK_NE(nokey.status().message().find("has no primary key"), std::string::npos);
}

BOOST_AUTO_TEST_CASE(begin_commit_origin_and_framing_decode) {
  auto b = decode_pgoutput(Bytes().c('B').u(0x16B374D848, 8).u(1, 8).u(77, 4).out);
  BOOST_REQUIRE(b);
  BOOST_CHECK_EQUAL(std::get<Begin>(*b).final_lsn, 0x16B374D848u);
  auto c = decode_pgoutput(Bytes().c('C').c(0).u(10, 8).u(20, 8).u(0, 8).out);
  BOOST_REQUIRE(c);
  BOOST_CHECK_EQUAL(std::get<Commit>(*c).end_lsn, 20u);
  auto o = decode_pgoutput(Bytes().c('O').u(5, 8).s("shopsync_ab").out);
  BOOST_REQUIRE(o);
  BOOST_CHECK_EQUAL(std::get<Origin>(*o).name, "shopsync_ab");
  auto w = decode_copy_data(Bytes().c('w').u(1, 8).u(2, 8).u(3, 8).out + "B");
  BOOST_REQUIRE(w);
  BOOST_CHECK_EQUAL(std::get<XLogData>(*w).payload, "B");
  BOOST_CHECK_EQUAL(format_lsn(0x16B374D848), "16/B374D848");
  BOOST_CHECK_EQUAL(parse_lsn("16/B374D848").value(), 0x16B374D848u);
  BOOST_CHECK(!parse_lsn("16B374D848"));
}

BOOST_AUTO_TEST_CASE(short_or_unknown_messages_are_corrupt_not_read_past_their_end) {
  const std::string full = Bytes().c('I').u(16400, 4).c('N').u(1, 2).text("CUST_001").out;
  for (std::size_t n = 0; n < full.size(); ++n) {
    auto m = decode_pgoutput(full.substr(0, n));
    BOOST_CHECK_MESSAGE(!m, "a prefix of " << n << " bytes decoded");
  }
  BOOST_CHECK(!decode_copy_data("x"));
  BOOST_CHECK(!decode_copy_data(Bytes().c('k').u(1, 8).out));
  auto ignored = decode_pgoutput("Yxyz");
  BOOST_REQUIRE(ignored);
  BOOST_CHECK(std::holds_alternative<Ignored>(*ignored));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::postgres
