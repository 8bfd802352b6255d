// JSON <-> packed field values and ISO-8601 times.
#include "node/gateway/json_values.h"

#include <boost/test/unit_test.hpp>

#include "node/gateway/gateway.h"

namespace shopsync::gateway {
namespace {

BOOST_AUTO_TEST_SUITE(json_values)

BOOST_AUTO_TEST_CASE(every_json_type_round_trips_through_messagepack) {
  const auto doc = parse_json(R"({"s":"caf\u00e9","i":-42,"u":18446744073709551615,"f":12.5,"b":true,"n":null,
                                  "a":[1,"x",[2]],"o":{"k":{"deep":[]}}})");
  BOOST_REQUIRE(doc);
  for (auto it = doc->begin(); it != doc->end(); ++it) {
    BOOST_TEST(unpack_value(pack_value(it.value())) == it.value(), it.key());
  }
  BOOST_TEST(pack_value(json("Ana")) == std::string("\xa3" "Ana"));  // what storage's codec calls a packed string
}

BOOST_AUTO_TEST_CASE(bad_json_is_an_error_naming_it) {
  BOOST_TEST(parse_json("{\"a\":").status().message().find("malformed JSON") != std::string::npos);
  BOOST_TEST(parse_json(std::string(1000, '[')).status().message().find("nested") != std::string::npos);
  BOOST_TEST(!parse_json("\"\xff\""));  // invalid UTF-8
  BOOST_TEST(unpack_value(std::string("\xc1")).is_null());  // never-used MessagePack byte
  BOOST_TEST(unpack_value(std::string("\xc4\x02\x01\x02")) == json("AQI="));  // binary -> base64
}

// The shared implementation (api/json_values.h) behind the gateway, the
// CLI and the inspector: each convention stays what its users rely on.
BOOST_AUTO_TEST_CASE(binary_forms_of_the_shared_json_values) {
  namespace jv = ::shopsync::json_values;
  const std::string bin("\xc4\x02\x01\x02", 4);
  const json tagged = json::parse(R"({"$binary":"AQI="})");
  // Gateway: a browser's {"$binary": ...} object is just a map; binary reads as a base64 string.
  BOOST_TEST(unpack_value(pack_value(tagged)) == tagged);
  // CLI / inspector: the tagged object is binary, both ways, also nested.
  BOOST_TEST(jv::json_to_packed(tagged, jv::BinaryForm::tagged_object) == bin);
  BOOST_TEST(*jv::decode_packed(bin, jv::BinaryForm::tagged_object) == tagged);
  const json nested = json::parse(R"({"a":[{"$binary":""},{"$binary":"not base64!"}]})");
  BOOST_TEST(*jv::decode_packed(jv::json_to_packed(nested, jv::BinaryForm::tagged_object),
                                jv::BinaryForm::tagged_object) == nested);
  // Undecodable bytes: an error, null (gateway) or {"$undecodable": hex} (inspector).
  BOOST_TEST((jv::decode_packed("\xc1", jv::BinaryForm::tagged_object).status().code() == Errc::corrupt));
  BOOST_TEST(jv::packed_to_json("\xc1", {jv::BinaryForm::tagged_object, jv::Undecodable::hex_object}) ==
             json::parse(R"({"$undecodable":"c1"})"));
  // Strict base64.
  BOOST_TEST(*jv::base64_decode("AAEC/w==") == std::string("\x00\x01\x02\xff", 4));
  BOOST_TEST(jv::base64_encode(std::string("\x00\x01\x02\xff", 4)) == "AAEC/w==");
  for (const char* bad : {"A", "AQI", "A=QI", "AQ=I", "AQI*", "AQ==AQ=="}) {
    BOOST_TEST(!jv::base64_decode(bad).has_value(), bad);
  }
  // Parsing: a subject names the input; the depth limit can be lifted (CLI).
  BOOST_TEST(jv::parse_json("{", jv::kMaxJsonDepth, "--json").status().message().find("--json is not valid JSON") == 0u);
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  BOOST_TEST(!jv::parse_json(deep));
  BOOST_TEST(jv::parse_json(deep, jv::kNoDepthLimit).is_ok());
}

BOOST_AUTO_TEST_CASE(iso8601) {
  BOOST_TEST(*parse_iso8601("1970-01-01T00:00:00Z") == 0u);
  BOOST_TEST(*parse_iso8601("2025-01-15T11:00:00Z") == 1736938800000u);
  BOOST_TEST(*parse_iso8601("2025-01-15T11:00:00.123Z") == 1736938800123u);
  // Zone-less: UTC (issue 16: the seed's clients send "2025-01-15T10:00:00").
  BOOST_TEST(*parse_iso8601("2025-01-15T11:00:00") == 1736938800000u);
  BOOST_TEST(*parse_iso8601("2025-01-15T11:00:00.123") == 1736938800123u);
  BOOST_TEST(*parse_iso8601("2025-01-15T12:00:00+01:00") == 1736938800000u);
  BOOST_TEST(*parse_iso8601("2025-01-15") == 1736899200000u);
  BOOST_TEST(format_iso8601(1736938800123u) == "2025-01-15T11:00:00.123Z");
  BOOST_TEST(*parse_iso8601(format_iso8601(1760788800000u)) == 1760788800000u);
  for (const char* bad : {"", "yesterday", "2025-13-01T00:00:00Z", "2025-02-30T00:00:00Z", "2025-01-15T11:00",
                          "2025-01-15T25:00:00Z", "1969-12-31T23:59:59Z", "2025-01-15T11:00:00Zjunk"}) {
    BOOST_TEST(!parse_iso8601(bad).has_value(), bad);
  }
}

BOOST_AUTO_TEST_CASE(id_fields) {
  BOOST_TEST(Gateway::id_field("customers") == "customer_id");
  BOOST_TEST(Gateway::id_field("orders") == "order_id");
  BOOST_TEST(Gateway::id_field("payments") == "payment_id");
  BOOST_TEST(Gateway::id_field("projects") == "project_id");
  BOOST_TEST(Gateway::id_field("categories") == "category_id");
  BOOST_TEST(Gateway::id_field("addresses") == "address_id");
  BOOST_TEST(Gateway::id_field("stock") == "stock_id");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::gateway
