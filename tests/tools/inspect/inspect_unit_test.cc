// In-process tests of the inspector's parts: command line, values, progress bar.
#include <boost/test/unit_test.hpp>

#include "tools/inspect/options.h"
#include "tools/inspect/terminal.h"
#include "tools/inspect/values.h"

namespace shopsync::inspect {
namespace {

Result<Options> parse(std::initializer_list<const char*> args) {
  const char* argv[16] = {"shopsync-inspect"};
  int argc = 1;
  for (const char* a : args) argv[argc++] = a;  // tests pass at most 15
  return parse_options(argc, argv);
}

BOOST_AUTO_TEST_SUITE(inspect_unit)

BOOST_AUTO_TEST_CASE(command_line) {
  auto o = parse({"/data", "record", "customers", "C1", "--json"});
  BOOST_REQUIRE(o);
  BOOST_TEST((o->view == View::record));
  BOOST_TEST(o->data_dirs == std::vector<std::string>{"/data"});
  BOOST_TEST(o->collection == "customers");
  BOOST_TEST(o->id == "C1");
  BOOST_TEST(o->json);
  o = parse({"diff", "--api", "a:1", "--api", "b:2"});
  BOOST_REQUIRE(o);
  BOOST_TEST(o->apis.size() == 2u);
  o = parse({"peers", "--retention", "36h", "--strategy", "orders=manual"});
  BOOST_REQUIRE(o);
  BOOST_TEST(o->retention_ms == 36ull * 3600 * 1000);
  BOOST_TEST(o->strategies.at("orders") == "manual");
  BOOST_TEST(!parse({}));
  BOOST_TEST(!parse({"a", "b", "summary"}));
  BOOST_TEST(!parse({"--api", "x", "/dir", "summary"}));
  BOOST_TEST(!parse({"summary", "--limit", "0"}));
  BOOST_TEST(!parse({"summary", "--retention", "soon"}));
  BOOST_TEST(!parse({"diff", "/a"}));
  BOOST_TEST(!parse({"conflicts", "extra", "args"}));
}

BOOST_AUTO_TEST_CASE(double_dash_ends_the_options_for_an_id_that_starts_with_a_dash) {
  BOOST_TEST(!parse({"/data", "record", "customers", "-C1"}));  // an unknown option
  auto o = parse({"/data", "--json", "record", "--", "customers", "-C1"});
  BOOST_REQUIRE_MESSAGE(o, o.status().message());
  BOOST_TEST((o->view == View::record));
  BOOST_TEST(o->id == "-C1");
  BOOST_TEST(o->json);
  o = parse({"--", "/data", "record", "customers", "--json"});  // after "--" even --json is a word
  BOOST_REQUIRE_MESSAGE(o, o.status().message());
  BOOST_TEST(o->data_dirs == std::vector<std::string>{"/data"});
  BOOST_TEST(o->id == "--json");
  BOOST_TEST(!o->json);
}

BOOST_AUTO_TEST_CASE(values_and_progress) {
  BOOST_TEST(iso_time(1'764'081'086'123) == "2025-11-25T14:31:26.123Z");
  BOOST_TEST(format_duration(999) == "999ms");
  BOOST_TEST(format_duration(3'723'000) == "1h 2m");
  BOOST_TEST(format_duration(2 * 86'400'000ull + 3'600'000) == "2d 1h");
  BOOST_TEST(format_duration(7 * 86'400'000ull) == "7d");
  BOOST_TEST(packed_to_json(std::string("\xa3" "Ana", 4)) == "Ana");
  BOOST_TEST(packed_to_json(std::string("\xc4\x02\x01\x02", 4))["$binary"] == "AQI=");
  BOOST_TEST(packed_to_json(std::string("\xc1", 1)).contains("$undecodable"));
  BOOST_TEST(progress_line("diff", 5, 10, 10) == "diff  [#####.....] 50%  5/10");
  BOOST_TEST(progress_line("diff", 7, 0, 4) == "diff  [????] 7");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::inspect
