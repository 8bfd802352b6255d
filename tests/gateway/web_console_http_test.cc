// The web console's side of the gateway over real sockets: its files (types,
// caching, no way out of the web root) and its token endpoints
// (docs/web-console.md). The console itself is driven in a real browser by
// tests/web/.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>

#include "app/tokens.h"
#include "tests/gateway/gateway_harness.h"

namespace shopsync::test {
namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string header_value(const HttpAnswer& a, const std::string& name) {
  const auto at = a.head.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  const auto start = at + name.size() + 4;
  return a.head.substr(start, a.head.find("\r\n", start) - start);
}

HttpAnswer request(std::uint16_t port, const std::string& method, const std::string& target,
                   const std::string& extra_headers = "", const std::string& body = "") {
  return raw_http(port, method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extra_headers +
                            "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

// A web root with a page, a script, a hidden file and a link out of it; a
// secret beside the root that must never be served.
struct WebRoot {
  TempDir dir{"shopsync-web"};
  std::filesystem::path root = dir / "web";
  WebRoot() {
    write_file(root / "index.html", "<!doctype html><title>console</title>");
    write_file(root / "shopsync.js", "export const x = 1;\n");
    write_file(root / "css" / "console.css", "body{}");
    write_file(root / ".env", "SECRET=1");
    write_file(dir / "secret.txt", "the secret");
    std::filesystem::create_symlink(dir / "secret.txt", root / "link.txt");
  }
  gateway::GatewayOptions options() const {
    gateway::GatewayOptions o;
    o.web_root = root;
    return o;
  }
};

BOOST_AUTO_TEST_SUITE(web_console_http)

BOOST_AUTO_TEST_CASE(files_are_served_with_their_types_and_revalidated) {
  WebRoot web;
  GatewayHarness h({}, web.options());
  h.start();

  const HttpAnswer page = http_get(h.port, "/");
  BOOST_TEST(page.status == 200);
  BOOST_TEST(page.body == "<!doctype html><title>console</title>");
  BOOST_TEST(header_value(page, "Content-Type") == "text/html; charset=utf-8");
  BOOST_TEST(header_value(page, "Content-Security-Policy").starts_with("default-src 'self'"));
  BOOST_TEST(header_value(page, "Cache-Control") == "no-cache");
  BOOST_TEST(page.head.find("no-store") == std::string::npos);
  const std::string etag = header_value(page, "ETag");
  BOOST_TEST(!etag.empty());

  const HttpAnswer script = http_get(h.port, "/shopsync.js");
  BOOST_TEST(script.status == 200);
  BOOST_TEST(header_value(script, "Content-Type") == "text/javascript; charset=utf-8");
  BOOST_TEST(header_value(script, "X-Content-Type-Options") == "nosniff");
  BOOST_TEST(header_value(http_get(h.port, "/css/console.css"), "Content-Type") == "text/css; charset=utf-8");

  // The browser's copy is still good: 304, no body.
  const HttpAnswer again = request(h.port, "GET", "/", "If-None-Match: " + etag + "\r\n");
  BOOST_TEST(again.status == 304);
  BOOST_TEST(again.body.empty());
  BOOST_TEST(request(h.port, "GET", "/", "If-None-Match: \"other\"\r\n").status == 200);
  // A file changed on disk (a package upgrade) gets a new tag.
  write_file(web.root / "index.html", "<!doctype html><title>console 2</title>");
  const HttpAnswer changed = request(h.port, "GET", "/", "If-None-Match: " + etag + "\r\n");
  BOOST_TEST(changed.status == 200);
  BOOST_TEST(changed.body == "<!doctype html><title>console 2</title>");

  const HttpAnswer head = request(h.port, "HEAD", "/shopsync.js");
  BOOST_TEST(head.status == 200);
  BOOST_TEST(header_value(head, "Content-Length") == "20");
  BOOST_TEST(head.body.empty());
  BOOST_TEST(request(h.port, "POST", "/index.html", "", "x").status == 405);
}

BOOST_AUTO_TEST_CASE(nothing_outside_the_web_root_is_served) {
  WebRoot web;
  GatewayHarness h({}, web.options());
  h.start();
  for (const std::string target : {"/../secret.txt", "/%2e%2e/secret.txt", "/css/..%2F..%2Fsecret.txt",
                                   "/css%2F..%2F..%2Fsecret.txt", "/link.txt", "/.env", "/css/", "/nothing.html",
                                   "/%00index.html", "/css/%2e%2e/index.html", "/..%5Csecret.txt"}) {
    const HttpAnswer a = http_get(h.port, target);
    BOOST_TEST_INFO(target);
    BOOST_TEST((a.status == 404 || a.status == 400));
    BOOST_TEST(a.body.find("the secret") == std::string::npos);  // the file's content
    BOOST_TEST(a.body.find("SECRET=1") == std::string::npos);
  }
  // Endpoints keep their JSON answers.
  const HttpAnswer api = http_get(h.port, "/api/nothing", h.token);
  BOOST_TEST(api.status == 404);
  BOOST_TEST(header_value(api, "Content-Type") == "application/json");
}

BOOST_AUTO_TEST_CASE(no_web_root_no_files) {
  GatewayHarness h;
  h.start();
  BOOST_TEST(http_get(h.port, "/").status == 404);
  BOOST_TEST(http_get(h.port, "/index.html").status == 404);
}

// Tokens made and revoked in the console work like the CLI's.
BOOST_AUTO_TEST_CASE(console_tokens_create_list_revoke) {
  GatewayHarness h;
  h.start();
  const std::string auth = "Authorization: Bearer " + h.token + "\r\n";
  BOOST_TEST(request(h.port, "POST", "/api/console/tokens", "", R"({"name":"till-2"})").status == 401);

  const HttpAnswer made = request(h.port, "POST", "/api/console/tokens", auth, R"({"name":"till-2"})");
  BOOST_TEST(made.status == 201);
  const auto doc = nlohmann::json::parse(made.body);
  const std::string secret = doc["token"].get<std::string>();
  BOOST_TEST(secret.starts_with("sst_"));
  BOOST_TEST(http_get(h.port, "/api/console/overview", secret).status == 200);

  const HttpAnswer listed = http_get(h.port, "/api/console/tokens", h.token);
  BOOST_TEST(listed.body.find("\"till-2\"") != std::string::npos);
  BOOST_TEST(listed.body.find(secret) == std::string::npos);
  BOOST_TEST(request(h.port, "POST", "/api/console/tokens", auth, R"({"name":"bad name"})").status == 400);
  BOOST_TEST(request(h.port, "POST", "/api/console/tokens", auth, R"({"name":"till-2"})").status == 400);

  BOOST_TEST(request(h.port, "DELETE", "/api/console/tokens/till-2", auth).status == 200);
  BOOST_TEST(http_get(h.port, "/api/console/overview", secret).status == 401);
  BOOST_TEST(request(h.port, "DELETE", "/api/console/tokens/till-2", auth).status == 404);
}

// A bad resolution is refused with a message and writes nothing.
BOOST_AUTO_TEST_CASE(console_resolve_refuses_bad_requests) {
  GatewayHarness h;
  h.start();
  const std::string auth = "Authorization: Bearer " + h.token + "\r\n";
  const StoreSnapshot before = snapshot(*h.store);
  for (const std::string body : {R"({"collection":"customers","id":"C1"})",
                                 R"({"collection":"customers","id":"C1","pick":"zz","fields":{}})",
                                 R"({"collection":"customers","id":"C1","pick":"nonsense"})",
                                 R"({"collection":"","id":"C1","fields":{}})", "[1,2]", "{"}) {
    const HttpAnswer a = request(h.port, "POST", "/api/console/resolve", auth, body);
    BOOST_TEST_INFO(body);
    BOOST_TEST(a.status == 400);
    BOOST_TEST(a.body.find("\"success\":false") != std::string::npos);
  }
  BOOST_TEST(request(h.port, "GET", "/api/console/resolve", auth).status == 405);
  h.stop();
  BOOST_TEST((snapshot(*h.store) == before));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
