// The strict HTTP/1.1 request parser: what it accepts, in any chunking, and
// the 4xx/5xx it answers to everything else.
#include "node/gateway/http_parser.h"

#include <boost/test/unit_test.hpp>
#include <random>

#include "tests/support/temp_dir.h"

namespace shopsync::gateway {
namespace {

using Next = std::variant<std::monostate, HttpRequest, HttpError>;

Next parse_all(const std::string& bytes, HttpLimits limits = {}) {
  RequestParser p(limits);
  p.feed(bytes);
  return p.next();
}

int error_status(const Next& n) {
  const auto* e = std::get_if<HttpError>(&n);
  return e ? e->status : 0;
}

BOOST_AUTO_TEST_SUITE(http_parser)

BOOST_AUTO_TEST_CASE(parses_a_request_in_any_chunking) {
  const std::string req =
      "POST /api/sync/pull?x=1&name=a%20b+c HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: 7\r\nAuthorization: Bearer t\r\n\r\n{\"a\":1}";
  const auto seed = test::test_seed();
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 200; ++round) {
    RequestParser p;
    Next got;
    std::size_t at = 0;
    while (at < req.size()) {
      const std::size_t n = std::min<std::size_t>(req.size() - at, 1 + rng() % 9);
      p.feed(std::string_view(req).substr(at, n));
      at += n;
      got = p.next();
      if (at < req.size()) BOOST_REQUIRE(std::holds_alternative<std::monostate>(got));
    }
    const auto* r = std::get_if<HttpRequest>(&got);
    BOOST_REQUIRE(r);
    BOOST_TEST(r->method == "POST");
    BOOST_TEST(r->path == "/api/sync/pull");
    BOOST_TEST((r->segments == std::vector<std::string>{"api", "sync", "pull"}));
    BOOST_TEST(r->query.at("name") == "a b c");
    BOOST_TEST(r->body == "{\"a\":1}");
    BOOST_TEST(*r->header("authorization") == "Bearer t");
    BOOST_TEST(r->keep_alive);
  }
}

BOOST_AUTO_TEST_CASE(pipelined_requests_come_out_in_order) {
  RequestParser p;
  p.feed("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto a = p.next();
  auto b = p.next();
  BOOST_REQUIRE(std::holds_alternative<HttpRequest>(a));
  BOOST_REQUIRE(std::holds_alternative<HttpRequest>(b));
  BOOST_TEST(std::get<HttpRequest>(a).path == "/a");
  BOOST_TEST(std::get<HttpRequest>(b).path == "/b");
  BOOST_TEST(!std::get<HttpRequest>(b).keep_alive);
  BOOST_TEST(std::holds_alternative<std::monostate>(p.next()));
}

BOOST_AUTO_TEST_CASE(http_1_0_closes_unless_keep_alive) {
  auto r = parse_all("GET / HTTP/1.0\r\n\r\n");
  BOOST_REQUIRE(std::holds_alternative<HttpRequest>(r));
  BOOST_TEST(!std::get<HttpRequest>(r).keep_alive);
}

BOOST_AUTO_TEST_CASE(malformed_requests_get_the_right_status) {
  BOOST_TEST(error_status(parse_all("GARBAGE\r\n\r\n")) == 400);
  BOOST_TEST(error_status(parse_all("GET  / HTTP/1.1\r\nHost: x\r\n\r\n")) == 400);
  BOOST_TEST(error_status(parse_all("GET / HTTP/1.1\nHost: x\n\n")) == 400);
  BOOST_TEST(error_status(parse_all("GET / HTTP/1.1\r\n\r\n")) == 400);  // no Host
  BOOST_TEST(error_status(parse_all("GET / HTTP/2.0\r\nHost: x\r\n\r\n")) == 505);
  BOOST_TEST(error_status(parse_all("GET http://x/ HTTP/1.1\r\nHost: x\r\n\r\n")) == 400);
  BOOST_TEST(error_status(parse_all("GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n")) == 400);
  BOOST_TEST(error_status(parse_all("GET /%00 HTTP/1.1\r\nHost: x\r\n\r\n")) == 400);
  BOOST_TEST(error_status(parse_all("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n")) == 400);
  BOOST_TEST(error_status(parse_all("GET / HTTP/1.1\r\nHo st: x\r\n\r\n")) == 400);
  BOOST_TEST(error_status(parse_all("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n")) == 400);
  BOOST_TEST(error_status(parse_all("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")) == 400);
  BOOST_TEST(error_status(parse_all("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")) == 501);
  BOOST_TEST(error_status(parse_all("GET / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n")) == 417);
}

BOOST_AUTO_TEST_CASE(size_and_count_limits) {
  HttpLimits small;
  small.max_body_bytes = 10;
  small.max_header_bytes = 200;
  RequestParser p(small);
  p.feed("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nabc");
  BOOST_TEST(error_status(p.next()) == 413);
  BOOST_TEST(p.drain_bytes() == 8u);  // 11 announced, 3 already here
  BOOST_TEST(p.failed());
  BOOST_TEST(error_status(parse_all("GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(300, 'a') + "\r\n\r\n", small)) == 431);
  // A head that never ends is refused once it passes the limit.
  RequestParser q(small);
  q.feed("GET / HTTP/1.1\r\nX: " + std::string(300, 'a'));
  BOOST_TEST(error_status(q.next()) == 431);
  HttpLimits few;
  few.max_header_count = 2;
  BOOST_TEST(error_status(parse_all("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n", few)) == 431);
}

BOOST_AUTO_TEST_CASE(expect_continue_is_signalled_once) {
  RequestParser p;
  p.feed("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  BOOST_TEST(std::holds_alternative<std::monostate>(p.next()));
  BOOST_TEST(p.take_continue());
  BOOST_TEST(!p.take_continue());
  p.feed("abc");
  BOOST_TEST(std::holds_alternative<HttpRequest>(p.next()));
}

BOOST_AUTO_TEST_CASE(random_bytes_never_crash) {
  const auto seed = test::test_seed();
  std::mt19937_64 rng(seed);
  const std::string alphabet = "GETPOST /HTP1.0\r\n:Content-Length: 0123456789%ab\x00\xff";
  for (int i = 0; i < 2000; ++i) {
    RequestParser p;
    std::string bytes;
    const std::size_t n = rng() % 200;
    for (std::size_t k = 0; k < n; ++k) bytes += alphabet[rng() % alphabet.size()];
    p.feed(bytes);
    for (int k = 0; k < 5; ++k) {
      auto r = p.next();
      if (!std::holds_alternative<HttpRequest>(r)) break;
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::gateway
