// Writes the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/)
// from the real encoders, so the fuzzers start from inputs that decode and
// mutate towards the edges. Small on purpose: a few inputs per target.
//   fuzz_make_corpus DIR      (DIR = tests/fuzz/corpus; existing files are overwritten)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "api/api_codec.h"
#include "discovery/service_txt.h"
#include "net/public_key_text.h"
#include "node/wire_codec.h"
#include "storage/record_codec.h"

namespace {

using namespace shopsync;
namespace fs = std::filesystem;

fs::path g_root;

void write(const std::string& target, const std::string& name, const std::string& bytes) {
  const fs::path dir = g_root / target;
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string packed_str(const std::string& s) {
  msgpack::sbuffer b;
  Packer pk(b);
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
  return {b.data(), b.size()};
}

std::string packed_int(std::int64_t v) {
  msgpack::sbuffer b;
  Packer pk(b);
  pk.pack_int64(v);
  return {b.data(), b.size()};
}

Version version(NodeId node, std::uint64_t counter, const std::string& name) {
  Version v;
  v.dot = {node, counter};
  v.updated_at = (1'750'000'000'000ULL + counter) << 16;
  v.fields["name"] = {packed_str(name), v.updated_at};
  v.fields["visits"] = {packed_int(static_cast<std::int64_t>(counter) * 7), v.updated_at};
  return v;
}

RecordState state_one() {
  RecordState s;
  s.siblings.push_back(version(0xA1, 3, "Ada Lovelace"));
  s.context.advance({0xA1, 3});
  return s;
}

RecordState state_conflict() {
  RecordState s;
  s.siblings.push_back(version(0xA1, 4, "Grace Hopper"));
  s.siblings.push_back(version(0xB2, 9, "Grace B. Hopper"));
  s.siblings[1].uplink_origin = true;
  s.context.advance({0xA1, 4});
  s.context.advance({0xB2, 9});
  return s;
}

RecordState state_tombstone() {
  RecordState s;
  Version v;
  v.dot = {0xC3, 12};
  v.updated_at = 1'750'000'100'000ULL << 16;
  v.deleted = true;
  v.fields["name"] = {"", v.updated_at};  // removed field marker
  s.siblings.push_back(v);
  s.context.advance({0xC3, 12});
  s.context.advance({0xA1, 2});
  return s;
}

VersionVector knowledge() {
  VersionVector vv;
  vv.set(0xA1, 40);
  vv.set(0xB2, 7);
  return vv;
}

void wire_frames() {
  wire::Hello hello;
  hello.cluster = "shop";
  hello.node_id = 0xA1;
  hello.name = "till-1";
  hello.knowledge = knowledge();
  hello.clock_ms = 1'750'000'000'000ULL;
  hello.listen_port = 7460;
  hello.strategies_digest = "0123456789abcdef";
  hello.strategies = "*=newest_wins *tolerance_ms=1000 stock=merge";
  write("wire_frame", "hello", wire::encode(hello));
  write("wire_frame", "goodbye", wire::encode(wire::Goodbye{"stopped"}));
  write("wire_frame", "heartbeat", wire::encode(wire::Heartbeat{1'750'000'000'000ULL}));
  write("wire_frame", "error", wire::encode(wire::Error{2, "unknown message type 99"}));
  Pull pull;
  pull.knowledge = knowledge();
  pull.credit = 4;
  pull.held = {Dot{0xB2, 12}};
  write("wire_frame", "pull", wire::encode(pull));
  Batch batch;
  batch.records.push_back({RecordKey{"customers", "CUST_001"}, state_one()});
  batch.records.push_back({RecordKey{"customers", "CUST_002"}, state_conflict()});
  batch.records.push_back({RecordKey{"orders", "ORD_7"}, state_tombstone()});
  batch.complete = knowledge();
  batch.base.set(0xA1, 2);
  batch.more = true;
  write("wire_frame", "batch", wire::encode(batch));  // over kCompressMinBytes: zstd
  Batch small;
  small.records.push_back({RecordKey{"c", "1"}, state_one()});
  small.complete.set(0xA1, 3);
  write("wire_frame", "batch_small", wire::encode(small));
  write("wire_frame", "credit", wire::encode(Credit{1}));
  write("wire_frame", "notify", wire::encode(Notify{knowledge()}));
  write("wire_frame", "snapshot_required", wire::encode(SnapshotRequired{knowledge()}));
}

void record_values() {
  write("record_value", "state_one", std::string(1, '\0') + encode_record_state(state_one()));
  write("record_value", "state_conflict", std::string(1, '\0') + encode_record_state(state_conflict()));
  write("record_value", "state_tombstone", std::string(1, '\0') + encode_record_state(state_tombstone()));
  write("record_value", "version", std::string(1, '\1') + encode_version(version(0xB2, 5, "Alan")));
  NodeMeta meta;
  meta.node_id = 0xA1;
  meta.counter = 40;
  meta.knowledge = knowledge();
  meta.clock = 1'750'000'000'000ULL << 16;
  meta.cluster = "shop";
  write("record_value", "node_meta", std::string(1, '\2') + encode_node_meta(meta));
  ConflictEntry entry;
  entry.seq = 3;
  entry.key = {"customers", "CUST_002"};
  entry.siblings = state_conflict().siblings;
  entry.strategy = "newest_wins";
  entry.winner = {0xB2, 9};
  entry.near_simultaneous = true;
  entry.detected_at = 1'750'000'000'500ULL << 16;
  entry.detected_by = 0xA1;
  write("record_value", "conflict_entry", std::string(1, '\3') + encode_conflict_entry(entry));
  // A nested field value: {"tags": ["a", 1, 2.5, nil, true, bin]}.
  msgpack::sbuffer b;
  Packer pk(b);
  pk.pack_map(1);
  pk.pack_str(4);
  pk.pack_str_body("tags", 4);
  pk.pack_array(6);
  pk.pack_str(1);
  pk.pack_str_body("a", 1);
  pk.pack_int(1);
  pk.pack_double(2.5);
  pk.pack_nil();
  pk.pack_true();
  pk.pack_bin(2);
  pk.pack_bin_body("\x01\x02", 2);
  write("record_value", "packed_value", std::string(1, '\4') + std::string(b.data(), b.size()));
}

void service_txt() {
  discovery::ServiceTxt txt;
  txt.protocol = 1;
  txt.cluster = "shop";
  txt.node_id = 0x0123456789ABCDEFULL;
  txt.public_key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
  txt.role = Role::uplink;
  std::string rdata;
  for (const auto& e : discovery::encode_txt(txt)) {
    rdata.push_back(static_cast<char>(e.size()));
    rdata += e;
  }
  write("service_txt", "uplink", rdata);
  txt.role = Role::peer;
  rdata.clear();
  for (const auto& e : discovery::encode_txt(txt)) {
    rdata.push_back(static_cast<char>(e.size()));
    rdata += e;
  }
  rdata += std::string("\x09") + "future=42";  // an unknown key, ignored
  write("service_txt", "peer_extra_key", rdata);
}

void public_keys() {
  // One key whose Z85 starts with '-' (as one in 85 does), in every form an
  // operator may type it, and a typo.
  const std::string z85 = "-y8s1JqYh!4N]z&wT7pF0k@Xm%cR.oE/@{H8]yf7";
  const std::string spoken = format_public_key(z85);
  std::string upper = spoken, spaced = spoken, bare, typo = spoken;
  for (char& c : upper) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  for (char& c : spaced) c = c == '-' ? ' ' : c;
  for (char c : spoken) {
    if (c != '-') bare.push_back(c);
  }
  typo[0] = typo[0] == 'x' ? 'y' : 'x';
  write("public_key", "z85", z85);
  write("public_key", "spoken", spoken);
  write("public_key", "spoken_upper", upper);
  write("public_key", "spoken_spaced", spaced);
  write("public_key", "spoken_bare", bare + "\n");
  write("public_key", "spoken_typo", typo);
}

std::string http(const std::string& method, const std::string& target, const std::string& body) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer x\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    r += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return r + "\r\n" + body;
}

void http_requests() {
  const std::string push =
      R"({"deviceId":"device_1","changes":{"customers":[{"customer_id":"CUST_001","name":"Ada","visits":3,)"
      R"("tags":["vip"],"balance":12.5,"updated_at":"2025-06-15T10:00:00.000Z"},{"id":7,"_deleted":true}]}})";
  const std::string pull = R"({"deviceId":"device_1","lastSyncTimestamp":"2025-01-01T00:00:00Z","limit":50})";
  const std::string resolve =
      R"({"deviceId":"device_1","entityType":"customers","uniqueId":"CUST_001","resolution":"client","data":{"name":"Ada L."}})";
  const std::vector<std::pair<std::string, std::string>> requests = {
      {"push", http("POST", "/api/sync/push", push)},
      {"pull", http("POST", "/api/sync/pull", pull)},
      {"full", http("POST", "/api/sync/full", R"({"deviceId":"device_1","changes":{"orders":[{"order_id":"O1","total":99}]}})")},
      {"resolve", http("POST", "/api/sync/resolve-conflict", resolve)},
      {"status", http("GET", "/api/sync/status/device_1", "")},
      {"rest_put", http("PUT", "/v1/customers/CUST%20002", R"({"name":"Grace","n":-1,"x":null,"o":{"a":[1,2]}})")},
      {"rest_get", http("GET", "/v1/customers/CUST%20002", "") + http("GET", "/v1/customers?after=C&limit=10", "")},
      {"rest_delete", http("DELETE", "/v1/customers/CUST%20002", "")},
      {"collections", http("GET", "/v1", "") + http("GET", "/metrics", "") + http("GET", "/healthz", "")},
  };
  for (const auto& [name, bytes] : requests) {
    write("gateway_request", name, bytes);
    write("http_request", name, std::string(1, static_cast<char>(name.size() * 5)) + bytes);
  }
  write("http_request", "pipelined_http10",
        std::string(1, '\7') + "GET /v1?x=%41+b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" +
            http("POST", "/api/sync/pull", "[1,2.0e3,\"\\u00e9\",{\"a\":{}}]"));
  // Many requests in one buffer, as a pipelining client (or a flood) sends them.
  std::string pipelined;
  for (int i = 0; i < 8; ++i) pipelined += http(i % 2 ? "HEAD" : "GET", "/metrics", "");
  pipelined += http("POST", "/api/sync/push", push) + http("PUT", "/v1/c/1", "{}") +
               "GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}" +
               "POST /api/sync/x HTTP/1.1\r\nHost: x\r\nAuthorization: BEARER t\r\nConnection: close\r\n"
               "Content-Length: 0\r\n\r\n";
  write("http_request", "pipelined_mixed", std::string(1, '\x2a') + pipelined);
  write("http_request", "pipelined_then_partial", std::string(1, '\x91') + pipelined + "GET /v1 HTTP/1.1\r\nHo");
}

void api_messages() {
  using namespace shopsync::api;
  auto req = [](const std::string& name, std::uint64_t id, RequestBody body) {
    write("api_message", "req_" + name, std::string(1, '\0') + encode_request(Request{id, std::move(body)}));
  };
  PutRequest put;
  put.key = {"customers", "CUST_001"};
  put.fields["name"] = packed_str("Ada");
  put.fields["visits"] = packed_int(3);
  req("put", 1, put);
  PutRequest patch = put;
  patch.mode = PutMode::patch;
  patch.unset = {"visits"};
  req("patch", 2, patch);
  req("get", 3, GetRequest{{"customers", "CUST_001"}});
  req("delete", 4, DeleteRequest{{"customers", "CUST_001"}});
  req("list", 5, ListRequest{"customers", "CUST_000", 10});
  ChangesRequest changes;
  changes.since = knowledge();
  changes.wait_ms = 100;
  req("changes", 6, changes);
  req("conflicts", 7, ConflictsRequest{"customers", 2, 10});
  ResolveRequest resolve;
  resolve.key = {"customers", "CUST_002"};
  resolve.pick = Dot{0xB2, 9};
  req("resolve", 8, resolve);
  req("status", 9, StatusRequest{});
  req("trust_add", 10, TrustAddRequest{"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7", "till 2"});
  req("discovery", 11, DiscoveryRequest{});

  auto resp = [](const std::string& name, const std::string& bytes) {
    write("api_message", "resp_" + name, std::string(1, '\1') + bytes);
  };
  resp("write", encode_response(1, Op::put, WriteResult{{0xA1, 4}, 123456}));
  RecordView view;
  view.key = {"customers", "CUST_002"};
  view.fields["name"] = packed_str("Grace");
  view.dot = {0xB2, 9};
  view.conflicted = true;
  view.sibling_count = 2;
  view.siblings.push_back(SiblingView{{0xA1, 4}, 5, false, false, {{"name", packed_str("G")}}});
  resp("get", encode_response(3, Op::get, view));
  ChangesPage page;
  page.changes.push_back(Change{{"customers", "CUST_001"}, {0xA1, 4}, 77, false});
  page.cursor = knowledge();
  page.more = true;
  resp("changes", encode_response(6, Op::changes, page));
  DiscoveryReport report;
  report.enabled = true;
  report.state = "announced";
  report.published_name = "till-1";
  report.host_name = "shop1.local";
  report.uptime_ms = 9000;
  report.interfaces = {{"eth0", 2, {"198.18.0.1", "fe80::1"}, true, true, 14, 2, 30, 28}};
  report.peers = {{0xB2, "till-2", "[fe80::2%eth0]:7460", "eth0", "ipv6", "peer", "key", 1, 2, "untrusted", "trust it"}};
  report.refused = {{"intruder", "eth0", "other_cluster", "cluster \"x\"", 4}};
  resp("discovery", encode_response(11, Op::discovery, report));
  resp("error", encode_error(5, Op::list, Status::not_found("customers/CUST_9: no such record")));
  resp("error_no_op", encode_error(std::nullopt, std::nullopt, Status::protocol("not a request")));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_make_corpus DIR\n");
    return 2;
  }
  g_root = argv[1];
  wire_frames();
  record_values();
  service_txt();
  http_requests();
  api_messages();
  public_keys();
  std::printf("corpus written under %s\n", g_root.c_str());
  return 0;
}
