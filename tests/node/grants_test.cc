// Grants in real shopsyncd processes (docs/operations.md, "Grants"): a north
// till granted `orders:rw:branch=north` by the office (the admin) holds
// north's orders only; a write of it outside its grant is refused where it
// arrives (the office logs and counts it, never applies it, so the south node
// never gets it) and at the till itself, with an error that says why; an
// order moved from north to south leaves the till and reaches the south node;
// the south node, with no grant, writes orders but changes no grant.
#include <boost/test/unit_test.hpp>

#include "net/public_key_text.h"
#include "replication/grant.h"
#include "tests/node/support/node_process.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

using namespace std::chrono_literals;

void put_order(NodeProcess& node, const std::string& id, const std::string& branch) {
  api::PutRequest r;
  r.key = {"orders", id};
  r.fields["branch"] = packed_string(branch);
  auto w = node.api().put(r);
  BOOST_REQUIRE_MESSAGE(w.is_ok(), node.options().name << " put " << id << ": " << w.status().to_string());
}

// The order's branch on `node`, "" when the node does not hold it.
std::string branch_of(NodeProcess& node, const std::string& id) {
  auto r = node.api().get({"orders", id});
  if (!r || r->deleted) return "";
  const auto it = r->fields.find("branch");
  return it == r->fields.end() ? "?" : (it->second == packed_string("north") ? "north" : "south");
}

BOOST_AUTO_TEST_SUITE(node_grants)

BOOST_AUTO_TEST_CASE(a_north_till_holds_and_writes_north_only) {
  TempDir dir("shopsync-grants");
  NodeProcess office(NodeProcess::Options::named(dir.path(), "office"));
  NodeProcess south(NodeProcess::Options::named(dir.path(), "south"));
  NodeProcess till(NodeProcess::Options::named(dir.path(), "till"));
  const std::string till_key = node_public_key(till.options().data_dir);
  peer_each_other(office, south);
  office.options().trust = {till_key};
  office.start();
  south.start();

  // The office names itself admin, then grants the till north's orders; the
  // till has not heard of it yet when it writes an order of each branch, offline.
  api::PutRequest admin;
  admin.key = {std::string(kGrantsCollection), format_public_key(node_public_key(office.options().data_dir))};
  admin.fields[std::string(kGrantField)] = packed_string("admin");
  BOOST_REQUIRE(office.api().put(admin).is_ok());
  api::PutRequest grant;
  grant.key = {std::string(kGrantsCollection), format_public_key(till_key)};
  grant.fields[std::string(kGrantField)] = packed_string("orders:rw:branch=north");
  BOOST_REQUIRE(office.api().put(grant).is_ok());
  put_order(office, "N1", "north");
  put_order(office, "S1", "south");
  till.start();
  put_order(till, "N2", "north");
  put_order(till, "S2", "south");
  BOOST_TEST(till.stop() == 0);

  // Connected: its north order goes through to the south node, its south
  // order is refused at the office, counted (and logged with the record), and goes nowhere.
  till.options().peers = {office.peer_spec()};
  till.start();
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return branch_of(south, "N2") == "north"; }, 10s), office.log());
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return office.api().status()->records_refused >= 1u; }, 5s), office.log());
  BOOST_TEST(branch_of(office, "S2").empty());
  BOOST_TEST(branch_of(south, "S2").empty());

  // Restarted, the till holds its grant's scope: north's orders only.
  BOOST_REQUIRE(wait_until([&] { return till.api().get(grant.key).is_ok(); }, 10s));
  BOOST_TEST(till.api().status()->grant_needs_restart);
  BOOST_TEST(till.stop() == 0);
  till.start();
  BOOST_TEST(till.api().status()->grant == "orders:rw:branch=north");
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return branch_of(till, "N1") == "north"; }, 10s), till.log());
  BOOST_TEST(branch_of(till, "S1").empty());
  BOOST_TEST(branch_of(till, "S2").empty());
  BOOST_TEST(live_records(till, "orders") == 2u);

  // Its write of a south order is refused at once, saying why.
  api::PutRequest steal;
  steal.key = {"orders", "S1"};
  steal.fields["branch"] = packed_string("south");
  auto refused = till.api().put(steal);
  BOOST_REQUIRE(!refused.is_ok());
  BOOST_TEST((refused.status().code() == Errc::refused));
  BOOST_TEST(refused.status().message().find("outside the write scope of this node") != std::string::npos,
             refused.status().message());

  // An order moved to south leaves the till and reaches the south node.
  put_order(office, "N1", "south");
  BOOST_TEST(wait_until([&] { return branch_of(till, "N1").empty(); }, 10s), till.log());
  BOOST_TEST(wait_until([&] { return branch_of(south, "N1") == "south"; }, 10s), south.log());
  BOOST_TEST(branch_of(till, "N2") == "north");

  // The south node has no grant: it writes orders, but changes no grant now
  // that the cluster names an admin.
  BOOST_REQUIRE(wait_until([&] { return south.api().get(admin.key).is_ok(); }, 10s));
  put_order(south, "S3", "south");
  BOOST_TEST(wait_until([&] { return branch_of(office, "S3") == "south"; }, 10s), office.log());
  api::PutRequest promote = admin;
  promote.key.id = format_public_key(till_key);
  auto promoted = south.api().put(promote);
  BOOST_REQUIRE(!promoted.is_ok());
  BOOST_TEST((promoted.status().code() == Errc::refused));
  BOOST_TEST(promoted.status().message().find("the collection is outside the write scope") != std::string::npos,
             promoted.status().message());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
