// Fuzz target: HTTP requests with JSON bodies handled by a real gateway
// (node/gateway/gateway.h) and service (app/record_service.h) over a real
// replica on an in-memory store: the
// browser sync endpoints (/api/sync/pull|push|full|resolve-conflict|status)
// and the REST routes read the bodies the fuzzer writes. Every request is
// given a valid Bearer token (unless it is a /metrics or /healthz request) so
// that the bodies get past authentication. Checks: no crash, every answer has
// a status between 200 and 599, and a JSON answer parses.
//
// The gateway, replica and store persist across inputs (records pushed by one
// input are there for the next, as on a real node) and are rebuilt every
// kRebuildEvery inputs to keep memory bounded.
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "app/record_service.h"
#include "node/gateway/gateway.h"
#include "node/gateway/http_parser.h"
#include "node/gateway/json_values.h"
#include "replication/clock.h"
#include "replication/replica.h"
#include "storage/memory_store.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using namespace shopsync;
using namespace shopsync::gateway;

constexpr int kRebuildEvery = 4096;
constexpr std::uint64_t kNowMs = 1'750'000'000'000ULL;

struct World {
  MemoryStore memory;
  app::CountingStore store{memory};
  ManualClock clock{kNowMs};
  VectorOutbox outbox;
  std::unique_ptr<Replica> replica;
  std::unique_ptr<app::RecordService> service;
  std::unique_ptr<Gateway> gateway;
  std::string token;

  World() {
    ReplicaOptions ro;
    ro.node_id = 0xF022;
    ro.cluster = "fuzz";
    auto r = Replica::open(store, clock, ro);
    FUZZ_CHECK(r.is_ok(), "the replica opens");
    replica = std::move(*r);
    FUZZ_CHECK(app::start_counting(store, *replica).is_ok(), "the records are counted");
    service = std::make_unique<app::RecordService>(*replica, store, outbox);
    auto t = service->create_token({"fuzz"});
    FUZZ_CHECK(t.is_ok(), "a token is created");
    token = t->token;
    GatewayOptions go;
    go.node_name = "fuzz";
    go.http.limits.max_body_bytes = 64 * 1024;
    GatewayHooks hooks;
    hooks.now_ms = [this] { return clock.now_ms(); };
    auto g = Gateway::bind(nullptr, "127.0.0.1:0", *service, go, hooks);
    FUZZ_CHECK(g.is_ok(), "the gateway binds on loopback");
    gateway = std::move(*g);
  }
};

World& world() {
  static std::unique_ptr<World> w;
  static int uses = 0;
  if (!w || ++uses % kRebuildEvery == 0) {
    w.reset();
    w = std::make_unique<World>();
  }
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  World& w = world();
  RequestParser parser(HttpLimits{.max_body_bytes = 64 * 1024});
  parser.feed(std::string_view(reinterpret_cast<const char*>(data), size));
  for (int n = 0; n < 8; ++n) {
    auto next = parser.next();
    auto* request = std::get_if<HttpRequest>(&next);
    if (request == nullptr) break;
    std::erase_if(request->headers, [](const auto& h) { return h.first == "authorization"; });
    request->headers.emplace_back("authorization", "Bearer " + w.token);
    w.clock.advance(1000);
    const HttpResponse response = w.gateway->handle(*request);
    w.outbox.messages.clear();
    FUZZ_CHECK(response.status >= 200 && response.status < 600, "every answer has a valid status");
    if (response.content_type == "application/json") {
      FUZZ_CHECK(parse_json(response.body).is_ok(), "a JSON answer parses");
    }
    (void)response.serialize(request->keep_alive);
  }
  return 0;
}
