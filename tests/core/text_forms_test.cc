// The one text form of each core type: what is written reads back as the same
// value, and text that is not in the form is refused with an error that quotes
// it (the store, the wire, the local API, DNS-SD and the CLI all go through
// these readers).
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>

#include "core/dot.h"
#include "core/node_id.h"
#include "core/role.h"
#include "core/version_vector.h"

namespace shopsync::test {
namespace {

template <class T>
void check_refused(const Result<T>& r, const std::string& text, const std::string& what) {
  BOOST_TEST_CONTEXT("'" << text << "'") {
    BOOST_REQUIRE(!r.is_ok());
    BOOST_TEST((r.status().code() == Errc::invalid_argument));
    BOOST_TEST(r.status().message().find(what) != std::string::npos, r.status().message());
  }
}

BOOST_AUTO_TEST_SUITE(text_forms)

BOOST_AUTO_TEST_CASE(node_id_is_16_lowercase_hex_digits_both_ways) {
  BOOST_TEST(node_id_text(0) == "0000000000000000");
  BOOST_TEST(node_id_text(0xabc) == "0000000000000abc");
  BOOST_TEST(node_id_text(~NodeId{0}) == "ffffffffffffffff");
  for (NodeId id : {NodeId{0}, NodeId{1}, NodeId{0xdeadbeef}, NodeId{0x8000000000000000ULL}, ~NodeId{0}}) {
    auto back = parse_node_id(node_id_text(id));
    BOOST_REQUIRE(back.is_ok());
    BOOST_TEST(*back == id);
  }
}

BOOST_AUTO_TEST_CASE(node_id_other_text_is_refused_quoted) {
  // Short, long, upper case, signs, prefixes and spaces: strtoull and
  // from_chars readers each took some of these before.
  for (std::string bad : std::initializer_list<std::string>{"", "abc", "0000000000000ABC", "00000000000000abc", "000000000000000g", " 000000000000abc",
                          "+000000000000abc", "-000000000000abc", "0x0000000000000a", std::string("00000000\0" "000000a", 16)}) {
    check_refused(parse_node_id(bad), bad, "not a node id (16 lowercase hex digits)");
  }
  check_refused(parse_node_id("xyz"), "xyz", "'xyz'");
}

BOOST_AUTO_TEST_CASE(dot_is_node_colon_counter_both_ways) {
  const Dot dot{0xffffffffffffffffULL, 42};
  BOOST_TEST(dot_text(dot) == "ffffffffffffffff:42");
  for (Dot d : {Dot{1, 0}, Dot{0xa1, 7}, dot, Dot{3, ~std::uint64_t{0}}}) {
    auto back = parse_dot(dot_text(d));
    BOOST_REQUIRE(back.is_ok());
    BOOST_TEST((*back == d));
  }
}

BOOST_AUTO_TEST_CASE(dot_other_text_is_refused_quoted) {
  for (std::string bad : {"", "abc", "00000000000000a1", "00000000000000a1:", ":5", "a1:5", "00000000000000A1:5",
                          "00000000000000a1:-3", "00000000000000a1:+3", "00000000000000a1:5x", "00000000000000a1: 5",
                          "00000000000000a1:18446744073709551616", "00000000000000a1:5:6"}) {
    check_refused(parse_dot(bad), bad, "not a dot (<16 lowercase hex digits>:<counter>): '" + bad + "'");
  }
}

BOOST_AUTO_TEST_CASE(version_vector_is_dots_joined_by_commas_both_ways) {
  VersionVector vv;
  vv.set(0x1a2b, 17);
  vv.set(0xffffffffffffffffULL, 3);
  BOOST_TEST(version_vector_text(vv) == "0000000000001a2b:17,ffffffffffffffff:3");
  BOOST_TEST(version_vector_text(VersionVector{}) == "");
  auto back = parse_version_vector(version_vector_text(vv));
  BOOST_REQUIRE(back.is_ok());
  BOOST_TEST((*back == vv));
  auto empty = parse_version_vector("");
  BOOST_REQUIRE(empty.is_ok());
  BOOST_TEST(empty->empty());
  // A zero counter is the same as no entry (entries with 0 are never kept).
  auto zero = parse_version_vector("0000000000001a2b:0");
  BOOST_REQUIRE(zero.is_ok());
  BOOST_TEST(zero->empty());
}

BOOST_AUTO_TEST_CASE(version_vector_other_text_is_refused_naming_the_entry) {
  for (std::string bad : {",", "0000000000001a2b:17,", ",0000000000001a2b:17", "0000000000001a2b:17,,0000000000000001:1",
                          "1a2b:17", "0000000000001a2b", "0000000000001a2b:x"}) {
    check_refused(parse_version_vector(bad), bad, "version vector '" + bad + "'");
  }
  check_refused(parse_version_vector("0000000000001a2b:17,zz:1"), "0000000000001a2b:17,zz:1", "not a dot (<16 lowercase hex digits>:<counter>): 'zz:1'");
  check_refused(parse_version_vector("0000000000001a2b:17,0000000000001a2b:3"), "0000000000001a2b:17,0000000000001a2b:3",
                "names node 0000000000001a2b twice");
}

BOOST_AUTO_TEST_CASE(role_is_peer_or_uplink_both_ways) {
  for (Role r : {Role::peer, Role::uplink}) {
    auto back = parse_role(to_string(r));
    BOOST_REQUIRE(back.is_ok());
    BOOST_TEST((*back == r));
  }
  BOOST_TEST(to_string(Role::peer) == "peer");
  BOOST_TEST(to_string(Role::uplink) == "uplink");
  for (std::string bad : {"", "Peer", "UPLINK", "king", "uplink ", "peers"}) {
    check_refused(parse_role(bad), bad, "role '" + bad + "' is neither 'peer' nor 'uplink'");
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
