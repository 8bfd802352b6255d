// The web console and the JavaScript client in a real browser (headless
// Debian chromium driven by python3-selenium, console_browser.py) against two
// real shopsyncd processes on loopback: sign in with a token, watch a write
// made at the other node appear, resolve a manual conflict by composing a
// merge and see it on both nodes, manage tokens, and sync web/shopsync.js
// offline then online. One browser session for every view; the screenshots
// of each view land in SHOPSYNC_SCREENSHOT_DIR (docs/web-console.md).
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "api/api_json.h"
#include "tests/gateway/gateway_harness.h"
#include "tests/node/support/node_process.h"
#include "tests/support/temp_dir.h"

namespace shopsync::test {
namespace {

// Makes a token named `name` with the CLI, through the running node's API.
std::string make_token(NodeProcess& node, const std::string& name) {
  std::string out;
  const std::string api = "127.0.0.1:" + std::to_string(node.api_port());
  const int rc = run_program({SHOPSYNC_CLI, "token", "--api", api, "--json", "create", name}, out);
  BOOST_REQUIRE_MESSAGE(rc == 0, out);
  return nlohmann::json::parse(out)["token"].get<std::string>();
}

void put_customer(NodeProcess& node, const std::string& id, const nlohmann::json& fields) {
  api::PutRequest r;
  r.key = {"customers", id};
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    r.fields[it.key()] = json_values::json_to_packed(it.value(), json_values::BinaryForm::tagged_object);
  }
  auto w = node.api().put(r);
  BOOST_REQUIRE_MESSAGE(w.is_ok(), w.status().to_string());
}

std::optional<api::RecordView> record(NodeProcess& node, const std::string& id) {
  auto got = node.api().get({"customers", id});
  if (!got) return std::nullopt;
  return *got;
}

BOOST_AUTO_TEST_SUITE(console_browser)

BOOST_AUTO_TEST_CASE(console_and_js_client_in_chromium) {
  BOOST_REQUIRE_MESSAGE(std::filesystem::exists("/usr/bin/chromedriver"),
                        "chromium-driver is not installed (tools/dev/install-deps)");
  TempDir dir("shopsync-console");
  const std::uint16_t http_a = free_port();
  const std::uint16_t http_b = free_port();
  auto options = [&](const std::string& name, std::uint16_t http) {
    auto o = NodeProcess::Options::named(dir.path(), name);
    o.extra = {"--http", "127.0.0.1:" + std::to_string(http), "--web-root", SHOPSYNC_WEB_ROOT,
               "--strategy", "customers=manual"};
    return o;
  };
  NodeProcess a(options("shop-a", http_a));
  NodeProcess b(options("shop-b", http_b));
  // The same customer edited at both shops while they cannot see each other:
  // under `manual` both versions stay until a person chooses.
  a.start();
  b.start();
  const std::string token_a = make_token(a, "manager");
  const std::string token_b = make_token(b, "manager");
  put_customer(a, "C-1001", {{"customer_id", "C-1001"}, {"name", "Ada Lovelace"}, {"phone", "555-0100"}, {"balance", 120}});
  put_customer(b, "C-1001", {{"customer_id", "C-1001"}, {"name", "Ada King"}, {"phone", "555-0199"}, {"balance", 120}});
  put_customer(a, "C-1002", {{"customer_id", "C-1002"}, {"name", "Charles Babbage"}, {"phone", "555-0142"}, {"balance", 0}});
  BOOST_REQUIRE(a.stop() == 0);
  BOOST_REQUIRE(b.stop() == 0);
  peer_each_other(a, b);
  a.start();
  b.start();
  BOOST_REQUIRE_MESSAGE(wait_until([&] {
    auto r = record(a, "C-1001");
    auto s = record(b, "C-1001");
    return r && r->conflicted && s && s->conflicted && record(b, "C-1002");
  }, std::chrono::seconds(15)), "the conflict did not reach both nodes\n" << a.log() << b.log());

  std::filesystem::create_directories(SHOPSYNC_SCREENSHOT_DIR);
  std::string output;
  const int rc = run_python(SHOPSYNC_GATEWAY_TEST_DIR "/console_browser.py",
                            {std::to_string(http_a), token_a, std::to_string(http_b), token_b, SHOPSYNC_SCREENSHOT_DIR},
                            output);
  BOOST_TEST_MESSAGE(output);
  BOOST_REQUIRE_MESSAGE(rc == 0, "browser driver failed:\n" << output);

  // What the browser did holds on both nodes, read through their local API.
  for (NodeProcess* node : {&a, &b}) {
    BOOST_TEST(wait_until([&] {
      auto r = record(*node, "C-1001");
      return r && !r->conflicted && api::fields_json(r->fields)["name"] == "Ada Lovelace-King" &&
             api::fields_json(r->fields)["phone"] == "555-0199";
    }, std::chrono::seconds(10)), "the merge did not reach " << node->options().name);
    BOOST_TEST(wait_until([&] { return record(*node, "C-2001").has_value(); }, std::chrono::seconds(10)),
               "the JS client's offline write did not reach " << node->options().name);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
