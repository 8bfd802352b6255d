// Real shopsyncd processes whose wall clock is moved under them with
// libfaketime (issue #13): a step of the wall clock leaves the links alone.
#include <boost/test/unit_test.hpp>

#include "tests/node/support/node_process.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

using namespace std::chrono_literals;

bool connected_to(NodeProcess& node, const std::string& peer_name) {
  auto peers = node.api().peers();
  if (!peers) return false;
  for (const auto& p : peers->peers) {
    if (p.name == peer_name && p.state == "connected") return true;
  }
  return false;
}

bool has_record(NodeProcess& node, const std::string& id) { return node.api().get({"customers", id}).is_ok(); }

// A put on `from` that must reach `to`: a round of real traffic on the link.
void write_across(NodeProcess& from, NodeProcess& to, const std::string& id) {
  put_name(from, "customers", id, "x");
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return has_record(to, id); }, 15s), to.log());
}

BOOST_AUTO_TEST_SUITE(node_clock)

BOOST_AUTO_TEST_CASE(a_wall_clock_step_does_not_drop_links) {
  TempDir dir("shopsync-clock");
  const auto offset_file = dir / "a.faketime";
  NodeProcess::Options oa;
  oa.data_dir = dir / "a";
  oa.name = "a";
  oa.env = faketime_env(offset_file);
  NodeProcess::Options ob;
  ob.data_dir = dir / "b";
  ob.name = "b";
  NodeProcess a(oa), b(ob);
  a.options().peers = {b.peer_spec()};
  b.options().peers = {a.peer_spec()};
  a.start();
  b.start();
  BOOST_REQUIRE_MESSAGE(wait_until([&] { return connected_to(a, "b") && connected_to(b, "a"); }, 20s), a.log());
  write_across(a, b, "BEFORE");

  // An NTP step of a minute back on a, then the step forward again.
  set_fake_offset(offset_file, "-60");
  write_across(a, b, "AFTER_BACK");
  write_across(b, a, "AFTER_BACK_2");
  set_fake_offset(offset_file, "+0");
  write_across(a, b, "AFTER_FORWARD");
  write_across(b, a, "AFTER_FORWARD_2");

  BOOST_TEST(connected_to(a, "b"));
  BOOST_TEST(connected_to(b, "a"));
  BOOST_TEST(a.log_count("disconnected") == 0u, a.log());
  BOOST_TEST(b.log_count("disconnected") == 0u, b.log());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
