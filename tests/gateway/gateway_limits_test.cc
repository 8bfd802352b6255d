// The gateway's doors under abuse (docs/http-gateway.md, "Limits"): pipelined
// floods, clients that vanish, idle and trickling connections, request names
// that would grow /metrics, and the log of what was refused. Real sockets on
// 127.0.0.x against the real gateway; deadlines are shortened through the
// options and no test measures a duration.
#include <boost/test/unit_test.hpp>
#include <condition_variable>
#include <mutex>
#include <set>

#include "tests/gateway/gateway_harness.h"
#include "tests/gateway/prometheus_text.h"

namespace shopsync::test {
namespace {

using namespace std::chrono_literals;

const std::string kHealthz = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

std::string repeated(const std::string& request, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += request;
  return out;
}

double scrape(std::uint16_t port, const std::string& name, const std::map<std::string, std::string>& labels) {
  const auto answer = http_get(port, "/metrics");
  BOOST_REQUIRE_EQUAL(answer.status, 200);
  const auto parsed = parse_prometheus_text(answer.body);
  BOOST_REQUIRE_MESSAGE(parsed.error.empty(), parsed.error);
  return parsed.value(name, labels);
}

// The gateway's log lines, kept for the test; `on_line` runs first (on the
// gateway's loop thread) when set.
struct CapturedLog {
  std::mutex mutex;
  std::vector<std::string> lines;
  std::function<void(const std::string&)> on_line;

  std::vector<std::string> copy() {
    std::lock_guard lock(mutex);
    return lines;
  }
  bool has_line_with(std::initializer_list<std::string_view> parts) {
    for (const auto& line : copy()) {
      bool all = true;
      for (auto part : parts) all = all && line.find(part) != std::string::npos;
      if (all) return true;
    }
    return false;
  }
};

gateway::GatewayOptions logging_to(const std::shared_ptr<CapturedLog>& log, int per_second = 100000) {
  gateway::GatewayOptions options;
  options.http.log_lines_per_second = per_second;
  options.http.log = [log](std::string_view line) {
    const std::string text(line);
    if (log->on_line) log->on_line(text);
    std::lock_guard lock(log->mutex);
    log->lines.push_back(text);
  };
  return options;
}

BOOST_AUTO_TEST_SUITE(gateway_limits)

// Item 5: 6,000 pipelined requests on one connection used to be answered in
// one go. Beyond the cap the connection is answered 503 and closed.
BOOST_AUTO_TEST_CASE(a_pipelined_backlog_beyond_the_cap_is_refused) {
  GatewayHarness h;  // default cap: 64 waiting requests
  h.start();
  TcpClient flood(h.port);
  BOOST_REQUIRE(flood.send(repeated(kHealthz, 1000)));
  const std::string answers = flood.receive_until_closed(10s);
  BOOST_TEST(flood.closed_by_server());
  BOOST_TEST(count_of(answers, "HTTP/1.1 200") < 1000u);
  BOOST_TEST(answers.find("HTTP/1.1 503") != std::string::npos);
  BOOST_TEST(http_get(h.port, "/healthz").status == 200);
  BOOST_TEST(scrape(h.port, "shopsync_http_connections_dropped_total", {{"reason", "backlog"}}) == 1.0);
}

// Item 5: a client that pipelines a lot and closes is forgotten with its
// queue, instead of keeping the node busy answering nobody.
BOOST_AUTO_TEST_CASE(the_queue_of_a_client_that_closed_is_dropped) {
  gateway::GatewayOptions options;
  options.http.max_pipelined = 5000;
  GatewayHarness h({}, options);
  h.start();
  const int sent = 3000;
  {
    TcpClient gone(h.port);
    BOOST_REQUIRE(gone.send(repeated("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", sent)));
  }  // closed at once
  // Until the count stops moving (our own scrape adds one each time).
  double answered = 0;
  for (int i = 0; i < 100; ++i) {
    const double before = scrape(h.port, "shopsync_http_requests_total", {{"route", "metrics"}, {"code", "200"}});
    std::this_thread::sleep_for(100ms);
    answered = scrape(h.port, "shopsync_http_requests_total", {{"route", "metrics"}, {"code", "200"}});
    if (answered == before + 1) break;
  }
  BOOST_TEST_MESSAGE("answered " << answered << " of " << sent << " requests of a closed client (with our scrapes)");
  BOOST_TEST(answered < sent / 2);
}

// Item 5: one connection's pipelined requests are answered a few per loop
// turn, so another client is answered before that backlog is done.
BOOST_AUTO_TEST_CASE(one_connection_cannot_hold_the_others) {
  auto log = std::make_shared<CapturedLog>();
  std::mutex mutex;
  std::condition_variable cv;
  bool a_started = false, b_sent = false;
  log->on_line = [&](const std::string& line) {
    if (line.find("/a/") == std::string::npos) return;
    std::unique_lock lock(mutex);
    if (a_started) return;
    a_started = true;
    cv.notify_all();
    // Hold the loop until B's request is on its way, then give it time to land.
    cv.wait_for(lock, 5s, [&] { return b_sent; });
    lock.unlock();
    std::this_thread::sleep_for(100ms);
  };
  auto options = logging_to(log);
  options.http.max_pipelined = 1000;
  GatewayHarness h({}, options);
  h.start();
  const int backlog = 200;
  std::string requests;
  for (int i = 0; i < backlog; ++i) requests += "GET /a/" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  TcpClient a(h.port);
  BOOST_REQUIRE(a.send(requests));
  {
    std::unique_lock lock(mutex);
    BOOST_REQUIRE(cv.wait_for(lock, 10s, [&] { return a_started; }));
  }
  TcpClient b(h.port);
  BOOST_REQUIRE(b.send("GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  {
    std::lock_guard lock(mutex);
    b_sent = true;
  }
  cv.notify_all();
  BOOST_TEST(b.receive_until_closed(10s).find("HTTP/1.1 404") != std::string::npos);
  std::string a_answers;
  for (int i = 0; i < 1000 && count_of(a_answers, "HTTP/1.1 404") < static_cast<std::size_t>(backlog); ++i) {
    a_answers += a.receive(100ms);
  }
  BOOST_TEST(count_of(a_answers, "HTTP/1.1 404") == static_cast<std::size_t>(backlog));
  const auto lines = log->copy();
  std::size_t a_before_b = 0;
  bool b_found = false;
  for (const auto& line : lines) {
    if (line.find("GET /b") != std::string::npos) {
      b_found = true;
      break;
    }
    a_before_b += line.find("GET /a/") != std::string::npos;
  }
  BOOST_TEST(b_found);
  BOOST_TEST_MESSAGE(a_before_b << " of A's " << backlog << " requests were answered before B's");
  BOOST_TEST(a_before_b < static_cast<std::size_t>(backlog) / 4);
}

// Item 6: idle connections filling every slot locked every client out. The
// oldest connection that never authenticated and has nothing to answer makes
// room; an authenticated one stays.
BOOST_AUTO_TEST_CASE(idle_connections_do_not_lock_out_a_client) {
  gateway::GatewayOptions options;
  options.http.max_connections = 8;
  GatewayHarness h({}, options);
  h.start();
  TcpClient app(h.port);
  BOOST_REQUIRE(app.send("GET /v1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + h.token + "\r\n\r\n"));
  BOOST_TEST(app.receive(5s).starts_with("HTTP/1.1 200"));
  std::vector<std::unique_ptr<TcpClient>> idle;
  for (int i = 0; i < 7; ++i) idle.push_back(std::make_unique<TcpClient>(h.port));
  std::this_thread::sleep_for(200ms);  // let the server see them all
  BOOST_TEST(http_get(h.port, "/healthz").status == 200);
  BOOST_TEST(http_get(h.port, "/healthz").status == 200);
  BOOST_REQUIRE(app.send("GET /v1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + h.token + "\r\n\r\n"));
  BOOST_TEST(app.receive(5s).starts_with("HTTP/1.1 200"));
}

// Item 6: a header line every few moments held a slot forever.
BOOST_AUTO_TEST_CASE(a_trickled_request_head_is_cut_at_its_deadline) {
  auto log = std::make_shared<CapturedLog>();
  auto options = logging_to(log);
  options.http.head_timeout = 300ms;
  GatewayHarness h({}, options);
  h.start();
  TcpClient slow(h.port);
  BOOST_REQUIRE(slow.send("GET /healthz HTTP/1.1\r\n"));
  std::string in;
  for (int i = 0; i < 100 && !slow.closed_by_server(); ++i) {
    slow.send("X-Trickle-" + std::to_string(i) + ": 1\r\n");
    in += slow.receive(100ms);
  }
  BOOST_TEST(slow.closed_by_server());
  BOOST_TEST(in.find("HTTP/1.1 408") != std::string::npos);
  BOOST_TEST(scrape(h.port, "shopsync_http_connections_dropped_total", {{"reason", "head_timeout"}}) == 1.0);
  BOOST_TEST(log->has_line_with({"127.0.0.1", "head_timeout", "request head not complete"}));
}

BOOST_AUTO_TEST_CASE(a_trickled_body_is_cut_at_its_deadline) {
  gateway::GatewayOptions options;
  options.http.body_timeout = 300ms;
  GatewayHarness h({}, options);
  h.start();
  TcpClient slow(h.port);
  BOOST_REQUIRE(slow.send("PUT /v1/customers/C1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + h.token +
                          "\r\nContent-Length: 200\r\n\r\n{\"name\":"));
  std::string in;
  for (int i = 0; i < 100 && !slow.closed_by_server(); ++i) {
    slow.send(" ");
    in += slow.receive(100ms);
  }
  BOOST_TEST(slow.closed_by_server());
  BOOST_TEST(in.find("HTTP/1.1 408") != std::string::npos);
  BOOST_TEST(scrape(h.port, "shopsync_http_connections_dropped_total", {{"reason", "body_timeout"}}) == 1.0);
}

BOOST_AUTO_TEST_CASE(a_new_connection_that_sends_nothing_is_cut_at_the_head_deadline) {
  gateway::GatewayOptions options;
  options.http.head_timeout = 300ms;
  GatewayHarness h({}, options);
  h.start();
  TcpClient silent(h.port);
  silent.receive_until_closed(10s);
  BOOST_TEST(silent.closed_by_server());
}

// Item 6: one address cannot take every slot.
BOOST_AUTO_TEST_CASE(connections_per_address_are_capped) {
  auto log = std::make_shared<CapturedLog>();
  auto options = logging_to(log);
  options.http.max_connections_per_address = 4;
  GatewayHarness h({}, options);
  h.start();
  std::vector<std::unique_ptr<TcpClient>> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(std::make_unique<TcpClient>(h.port, "127.0.0.2"));
    BOOST_REQUIRE(clients.back()->connected());
  }
  std::size_t refused = 0, served = 0;
  for (auto& c : clients) {
    c->send(kHealthz);
    const std::string in = c->receive(2s);
    if (in.starts_with("HTTP/1.1 200")) ++served;
    if (in.empty() && c->receive_until_closed(5s).empty() && c->closed_by_server()) ++refused;
  }
  BOOST_TEST(served == 4u);
  BOOST_TEST(refused == 2u);
  BOOST_TEST(http_get(h.port, "/healthz").status == 200);  // another address
  BOOST_TEST(scrape(h.port, "shopsync_http_connections_dropped_total", {{"reason", "per_address"}}) == 2.0);
  BOOST_TEST(log->has_line_with({"127.0.0.2", "refused a connection"}));
}

// Item 5: /metrics no longer counts every record per scrape; the counts kept
// on writes must say what a count would.
BOOST_AUTO_TEST_CASE(record_gauges_follow_writes) {
  GatewayHarness h;
  for (int i = 0; i < 30; ++i) {
    BOOST_REQUIRE(h.replica->put({"customers", "C" + std::to_string(i)}, FieldUpdate{{{"n", std::string("\xa1" "x")}}, true},
                                 h.outbox));
  }
  for (int i = 0; i < 10; ++i) BOOST_REQUIRE(h.replica->remove({"customers", "C" + std::to_string(i)}, h.outbox));
  h.start();
  const std::string auth = "Authorization: Bearer " + h.token + "\r\n";
  BOOST_TEST(raw_http(h.port, "PUT /v1/orders/O1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + auth +
                                  "Content-Length: 9\r\n\r\n{\"t\":1.5}")
                 .status == 201);
  BOOST_TEST(raw_http(h.port, "DELETE /v1/customers/C10 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + auth + "\r\n")
                 .status == 200);
  BOOST_TEST(scrape(h.port, "shopsync_records", {{"collection", "customers"}}) == 19.0);
  BOOST_TEST(scrape(h.port, "shopsync_records", {{"collection", "orders"}}) == 1.0);
  BOOST_TEST(scrape(h.port, "shopsync_records_conflicted", {{"collection", "customers"}}) == 0.0);
  h.stop();
  // And a count from scratch agrees.
  app::CountingStore fresh(*h.store);
  fresh.set_is_live([&](const RecordKey& key, const RecordState& state) {
    return !h.replica->make_visible(key, state).visible.deleted;
  });
  BOOST_REQUIRE(fresh.recount());
  BOOST_TEST((fresh.counts() == h.counted->counts()));
}

// Item 7: the route label never comes from the request.
BOOST_AUTO_TEST_CASE(unauthenticated_requests_add_no_metric_series) {
  GatewayHarness h;
  h.start();
  std::string requests;
  for (int i = 0; i < 50; ++i) {
    requests += "POST /api/sync/name" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
  }
  requests += "POST /api/sync/last HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
  const auto answer = raw_http(h.port, requests);
  BOOST_TEST(answer.status == 401);
  const auto metrics = http_get(h.port, "/metrics");
  const auto parsed = parse_prometheus_text(metrics.body);
  BOOST_REQUIRE_MESSAGE(parsed.error.empty(), parsed.error);
  const std::set<std::string> known = {"healthz",          "metrics",   "sync_pull",   "sync_push", "sync_full",
                                       "sync_resolve",     "sync_status", "rest_collections", "rest_list",
                                       "rest_record",      "rest",      "unknown"};
  std::set<std::string> routes;
  for (const auto& sample : parsed.samples) {
    if (auto it = sample.labels.find("route"); it != sample.labels.end()) routes.insert(it->second);
  }
  for (const auto& route : routes) BOOST_TEST(known.count(route) == 1u, "route label '" << route << "'");
  BOOST_TEST(parsed.value("shopsync_http_requests_total", {{"route", "unknown"}, {"code", "401"}}) == 51.0);
}

// Item 8: HEAD is GET without a body, so a pipelining client stays in step.
BOOST_AUTO_TEST_CASE(head_is_answered_without_a_body) {
  GatewayHarness h;
  h.start();
  const auto answer = raw_http(h.port, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                                       "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  BOOST_TEST(answer.status == 200);
  // What follows the HEAD answer's head is the GET's answer, nothing between.
  BOOST_TEST(answer.body.starts_with("HTTP/1.1 200"), answer.body);
  const auto get = http_get(h.port, "/healthz");
  const auto length = [](const std::string& head) {
    const auto at = head.find("Content-Length: ");
    return at == std::string::npos ? std::string() : head.substr(at + 16, head.find("\r\n", at) - at - 16);
  };
  BOOST_TEST(length(answer.head) == std::to_string(get.body.size()));
}

// Item 8: RFC 9110: the auth scheme is case-insensitive.
BOOST_AUTO_TEST_CASE(the_auth_scheme_is_case_insensitive) {
  GatewayHarness h;
  h.start();
  for (const std::string scheme : {"Bearer", "bearer", "BEARER", "bEaReR"}) {
    const auto answer = raw_http(h.port, "GET /v1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: " +
                                             scheme + " " + h.token + "\r\n\r\n");
    BOOST_TEST(answer.status == 200, scheme);
  }
  BOOST_TEST(raw_http(h.port, "GET /v1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Basic " + h.token +
                                  "\r\n\r\n")
                 .status == 401);
}

// Item 8: refused and malformed requests are logged with the client address
// and the reason, at a bounded rate.
BOOST_AUTO_TEST_CASE(refused_requests_are_logged_at_a_bounded_rate) {
  auto log = std::make_shared<CapturedLog>();
  GatewayHarness h({}, logging_to(log, 5));
  h.start();
  BOOST_TEST(http_get(h.port, "/v1").status == 401);
  BOOST_TEST(raw_http(h.port, "BAD\r\n\r\n").status == 400);
  BOOST_TEST(log->has_line_with({"401", "127.0.0.1", "GET /v1", "Authorization"}));
  BOOST_TEST(log->has_line_with({"400", "127.0.0.1", "malformed"}));
  std::string flood;
  for (int i = 0; i < 40; ++i) flood += "GET /nope" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  BOOST_TEST(raw_http(h.port, flood + "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").status == 404);
  BOOST_TEST(log->copy().size() < 20u);
  BOOST_TEST(scrape(h.port, "shopsync_http_log_lines_suppressed_total", {}) > 0.0);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
