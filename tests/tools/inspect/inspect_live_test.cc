// shopsync-inspect against live nodes: a data directory another process is
// writing, the --api mode against an in-process ApiServer and against a real
// shopsyncd, and the --watch screen driven under tmux.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.h>

#include <atomic>
#include <cstdio>
#include <sstream>
#include <thread>

#include "api/api_client.h"
#include "api/api_credential.h"
#include "api/api_server.h"
#include "app/record_service.h"
#include "net/public_key_text.h"
#include "tests/replication/support/values.h"
#include "tests/support/temp_dir.h"
#include "tests/tools/inspect/cluster_fixture.h"
#include "tests/tools/inspect/inspect_support.h"
#include "tools/inspect/exit_codes.h"

namespace shopsync::test {
namespace {

using namespace shopsync::inspect;
using namespace std::chrono_literals;

// RecordService plus the node-only answers a test can fake.
class Backend final : public app::RecordService {
 public:
  Backend(Replica& r, app::CountingStore& s, Outbox& o, std::string name) : RecordService(r, s, o), name_(std::move(name)) {}
  Result<api::NodeStatus> status() override {
    auto st = RecordService::status();
    if (st) {
      st->name = name_;
      st->role = "peer";
    }
    return st;
  }
  Result<api::TrustedKeyList> trusted_keys() override { return api::TrustedKeyList{}; }
  Status trust(const api::TrustAddRequest&) override { return Status::refused("not in this test"); }
  Status distrust(std::string_view) override { return Status::refused("not in this test"); }
  Result<api::PublicKey> public_key() override { return api::PublicKey{}; }

 private:
  std::string name_;
};

// Serves a replica's API on a loopback port from a thread of its own. The
// replica must not be used by the test while it is served.
class ServedNode {
 public:
  ServedNode(TestReplica& replica, std::string name) : backend_(*replica, replica.counted(), outbox_, std::move(name)) {
    BOOST_REQUIRE(app::start_counting(replica.counted(), *replica));
    auto server = api::ApiServer::bind(nullptr, "tcp://127.0.0.1:0", backend_);
    BOOST_REQUIRE_MESSAGE(server, server.status().to_string());
    server_ = std::move(*server);
    thread_ = std::thread([this] {
      while (!stop_) {
        zmq_pollitem_t item{server_->socket(), 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, 50) > 0 && (item.revents & ZMQ_POLLIN)) (void)server_->on_readable();
        server_->on_timer();
      }
    });
  }
  ~ServedNode() {
    stop_ = true;
    thread_.join();
  }
  std::string endpoint() const { return server_->endpoint(); }

 private:
  VectorOutbox outbox_;
  Backend backend_;
  std::unique_ptr<api::ApiServer> server_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// The whole file ("" when missing). stdio, not iostreams: GCC 12's
// -Wnull-dereference trips over istreambuf_iterator.
std::string read_file(const std::filesystem::path& path) {
  std::string out;
  if (std::FILE* f = std::fopen(path.c_str(), "rb")) {
    char buf[4096];
    std::size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

std::uint64_t collection_records(const json& summary, const std::string& name) {
  for (const auto& c : summary["collections"]) {
    if (c["name"] == name) return c["records"].get<std::uint64_t>();
  }
  return 0;
}

BOOST_AUTO_TEST_SUITE(inspect_live)

BOOST_AUTO_TEST_CASE(reads_a_data_dir_read_only_while_another_process_writes) {
  TempDir tmp;
  ManualClock clock(1'790'000'000'000);
  StoreOptions small;
  small.initial_map_size = 1 << 20;  // 48 KiB records: the writer grows the map while the inspector reads
  auto node = std::make_unique<TestReplica>(tmp / "n", kNodeA, clock, small);
  auto port_write = [&](int i) {
    VectorOutbox out;
    clock.advance(10);
    auto w = (*node)->put({"customers", "C" + std::to_string(i)},
                          fields({{"name", packed(std::string("customer ") + std::to_string(i))},
                                  {"notes", packed(std::string(48 * 1024, 'n'))}}),
                          out);
    BOOST_REQUIRE_MESSAGE(w, w.status().to_string());
  };
  port_write(0);
  std::atomic<int> written{1};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    // Bounded: at most 3000 writes.
    for (int i = 1; i < 3000 && !stop; ++i) {
      port_write(i);
      written = i + 1;
    }
  });
  std::uint64_t last = 0;
  int progressed = 0;
  for (int round = 0; round < 6; ++round) {
    const int before = written;
    json doc = inspect_json({(tmp / "n").string(), "summary"});
    const std::uint64_t seen = collection_records(doc, "customers");
    BOOST_TEST(seen >= last);                                    // a snapshot never goes back
    BOOST_TEST(seen >= static_cast<std::uint64_t>(before));      // everything committed before is visible
    if (written > before) ++progressed;                          // the writer was not blocked
    last = seen;
  }
  // --watch --json streams one document per refresh until SIGTERM.
  auto child = Child::start({SHOPSYNC_INSPECT_BIN, (tmp / "n").string(), "summary", "--watch", "--json",
                             "--interval-ms", "100"},
                            (tmp / "watch.log").string());
  std::string log;
  for (int i = 0; i < 200; ++i) {
    std::this_thread::sleep_for(50ms);
    log = read_file(tmp / "watch.log");
    if (std::count(log.begin(), log.end(), '\n') >= 3) break;
  }
  BOOST_TEST(child.stop() == kExitOk);
  stop = true;
  writer.join();
  std::istringstream lines(log);
  std::string line;
  int docs = 0;
  while (std::getline(lines, line)) {
    json d = json::parse(line, nullptr, false);
    BOOST_REQUIRE_MESSAGE(!d.is_discarded() && d["view"] == "summary", "bad line: " << line);
    ++docs;
  }
  BOOST_TEST(docs >= 3);
  BOOST_TEST_MESSAGE("writer progressed during " << progressed << " of 6 inspector runs; " << written << " writes; map grew "
                                                 << node->store().map_growths() << " times");
  json final_doc = inspect_json({(tmp / "n").string(), "summary"});
  BOOST_TEST(collection_records(final_doc, "customers") == static_cast<std::uint64_t>(written.load()));
}

BOOST_AUTO_TEST_CASE(api_mode_against_an_in_process_api_server) {
  TempDir tmp;
  ClusterFixture f(tmp.path());
  json dir_summary = inspect_json({f.dir_a.string(), "summary"});
  {
    ServedNode served_a(*f.a, "shop-a");
    const std::string api = served_a.endpoint();
    json doc = inspect_json({"--api", api, "summary"});
    BOOST_TEST(doc["source"]["kind"] == "api");
    BOOST_TEST(doc["node"]["id"] == node_id_text(kNodeA));
    BOOST_TEST(doc["node"]["name"] == "shop-a");
    BOOST_TEST(doc["node"]["cluster"] == "shop");
    BOOST_TEST(doc["knowledge"] == dir_summary["knowledge"]);
    BOOST_TEST(doc["totals"]["records"] == dir_summary["totals"]["records"]);
    BOOST_TEST(doc["totals"]["conflicts_open"] == 1);
    BOOST_TEST(doc["totals"]["conflict_log_entries"] == 2);
    BOOST_TEST(doc["store"].is_null());

    doc = inspect_json({"--api", api, "record", "customers", "C1"});
    BOOST_TEST(doc["sibling_count"] == 2);
    BOOST_TEST(doc["visible"]["fields"]["name"] == "Ana from B");
    BOOST_TEST(doc["siblings"].size() == 2u);
    BOOST_TEST(doc["history"].size() == 1u);
    BOOST_TEST(doc["version_vector"].is_null());
    BOOST_TEST(inspect({"--api", api, "record", "customers", "NOBODY"}).exit_code == kExitNotFound);

    doc = inspect_json({"--api", api, "conflicts"});
    BOOST_TEST(doc["counts"]["open"] == 1);
    BOOST_TEST(doc["counts"]["resolved"] == 1);
    BOOST_TEST(doc["open"][0]["id"] == "C1");
    BOOST_TEST(doc["resolved"][0]["id"] == "C2");
    BOOST_TEST(doc["resolved"][0]["losers"][0]["fields"]["name"] == "Bo from A");

    doc = inspect_json({"--api", api, "peers"});
    BOOST_TEST(doc["view"] == "peers");
    BOOST_TEST(doc["peers"].is_array());

    // One node through its API, the other from its directory.
    doc = inspect_json({"diff", f.dir_b.string(), "--api", api}, kExitDiffers);
    BOOST_TEST(doc["a"]["node_id"] == node_id_text(kNodeB));
    BOOST_TEST(doc["b"]["node_id"] == node_id_text(kNodeA));
    BOOST_TEST(doc["a_lacks"]["dots"][0]["dot"] == dot_text(f.o2));
    BOOST_TEST(doc["b_lacks"]["dots"][0]["dot"] == dot_text(f.o3));

    // Both through their APIs.
    ServedNode served_b(*f.b, "shop-b");
    doc = inspect_json({"diff", "--api", api, "--api", served_b.endpoint()}, kExitDiffers);
    BOOST_TEST(doc["counts"]["differing_records"] == 2);
    BOOST_TEST(doc["a_lacks"]["count"] == 1);
    BOOST_TEST(doc["b_lacks"]["count"] == 1);
  }
}

// "Open conflicts" means one thing (is_open_conflict): a record under
// `manual` left with several versions. A record under `newest_wins` that keeps
// a losing sibling is settled, and `shopsync status`, `shopsync conflicts` and
// the inspector (both modes) all leave it out.
BOOST_AUTO_TEST_CASE(open_conflicts_count_the_same_in_status_conflicts_and_the_inspector) {
  TempDir tmp;
  ClusterFixture f(tmp.path());
  // orders/O9: concurrent writes under newest_wins, two siblings kept.
  f.put(*f.a, "orders", "O9", "total", "1.00");
  f.sync();
  f.disconnect();
  f.put(*f.a, "orders", "O9", "total", "2.00");
  f.put(*f.b, "orders", "O9", "total", "3.00");
  f.sync();
  f.disconnect();

  json summary = inspect_json({f.dir_a.string(), "summary"});
  BOOST_TEST(summary["totals"]["conflicts_open"] == 1);  // customers/C1 only
  json conflicts = inspect_json({f.dir_a.string(), "conflicts"});
  BOOST_TEST(conflicts["counts"]["open"] == 1);
  BOOST_TEST(conflicts["counts"]["resolved"] == 2);  // C2 by hand, O9 by its strategy
  json record = inspect_json({f.dir_a.string(), "record", "orders", "O9"});
  BOOST_TEST(record["sibling_count"] == 2);
  BOOST_TEST(record["visible"]["conflicted"] == false);

  ServedNode served(*f.a, "shop-a");
  const std::string api = served.endpoint();
  auto client = api::ApiClient::connect(api);
  BOOST_REQUIRE(client);
  auto status = client->status();
  BOOST_REQUIRE_MESSAGE(status, status.status().to_string());
  BOOST_TEST(status->open_conflicts == 1u);
  auto page = client->conflicts(api::ConflictsRequest{});
  BOOST_REQUIRE_MESSAGE(page, page.status().to_string());
  BOOST_REQUIRE(page->open.size() == 1u);
  BOOST_TEST(page->open[0].key.id == "C1");
  BOOST_TEST(inspect_json({"--api", api, "summary"})["totals"]["conflicts_open"] == 1);
  BOOST_TEST(inspect_json({"--api", api, "conflicts"})["counts"]["open"] == 1);
  BOOST_TEST(inspect_json({"--api", api, "record", "orders", "O9"})["visible"]["conflicted"] == false);
}

#ifdef SHOPSYNCD_BIN
BOOST_AUTO_TEST_CASE(against_a_running_shopsyncd) {
  TempDir tmp;
  const std::string data = (tmp / "node").string();
  std::string api;
  std::optional<Child> daemon;
  std::optional<api::ApiClient> client;
  // A port picked here may be taken before the daemon binds it: try a few.
  for (int attempt = 0; attempt < 3 && !client; ++attempt) {
    api = "tcp://127.0.0.1:" + std::to_string(free_port());
    const std::string listen = "tcp://127.0.0.1:" + std::to_string(free_port());
    daemon.emplace(Child::start({SHOPSYNCD_BIN, "--data", data, "--cluster", "shop", "--name", "insp-node", "--listen",
                                 listen, "--api", api, "--no-mdns", "--insecure", "--api-auth"},
                                (tmp / "shopsyncd.log").string()));
    for (int i = 0; i < 40 && daemon->running(); ++i) {
      // The node writes its credential (--api-auth) before it serves.
      const auto credential = api::read_api_credential(data);
      if (!credential) {
        std::this_thread::sleep_for(50ms);
        continue;
      }
      auto c = api::ApiClient::connect(api, api::ApiClientOptions(500ms, *credential));
      BOOST_REQUIRE(c);
      if (c->status()) {
        client.emplace(std::move(*c));
        break;
      }
    }
  }
  if (!client) {
    const std::string log = read_file(tmp / "shopsyncd.log");
    BOOST_FAIL("shopsyncd did not answer on its API; its log:\n" << log);
  }
  for (int i = 0; i < 20; ++i) {
    api::PutRequest put;
    put.key = {"customers", "C" + std::to_string(i)};
    put.fields["name"] = packed(std::string("customer ") + std::to_string(i));
    auto w = client->put(put);
    BOOST_REQUIRE_MESSAGE(w, w.status().to_string());
  }
  // The node asks for its credential (--api-auth): the inspector finds it in
  // the data directory, as shopsync does, and is refused without it.
  const ToolResult refused = inspect({"--api", api, "summary"});
  BOOST_TEST(refused.exit_code != kExitOk);
  BOOST_TEST(refused.err.find("credential") != std::string::npos, refused.err);
  BOOST_REQUIRE(::setenv("SHOPSYNC_DATA", data.c_str(), 1) == 0);
  json by_api = inspect_json({"--api", api, "summary"});
  BOOST_TEST(by_api["node"]["name"] == "insp-node");
  BOOST_TEST(by_api["node"]["role"] == "peer");
  BOOST_TEST(collection_records(by_api, "customers") == 20u);
  // The data directory, read-only, while the daemon holds it open and runs.
  json by_dir = inspect_json({data, "summary"});
  BOOST_TEST(by_dir["node"]["id"] == by_api["node"]["id"]);
  BOOST_TEST(by_dir["node"]["name"] == "insp-node");  // kept in the store by the node
  BOOST_TEST(collection_records(by_dir, "customers") == 20u);
  // The key pair is in the directory; a node in --insecure mode does not use
  // it, and its API says so by leaving it out.
  std::string key_file = read_file(tmp / "node" / "curve.public");
  while (!key_file.empty() && key_file.back() == '\n') key_file.pop_back();
  BOOST_TEST(key_file.size() == 40u);
  BOOST_TEST(by_dir["node"]["public_key"] == format_public_key(key_file));  // as shopsync key prints it
  BOOST_TEST(by_api["node"]["public_key"].is_null());
  json rec = inspect_json({"--api", api, "record", "customers", "C7"});
  BOOST_TEST(rec["visible"]["fields"]["name"] == "customer 7");
  rec = inspect_json({data, "record", "customers", "C7"});
  BOOST_TEST(rec["visible"]["fields"]["name"] == "customer 7");
  // The version vector names the origin of the write (the daemon's writer id).
  const std::string winner = rec["visible"]["winner"].get<std::string>();
  BOOST_TEST(rec["version_vector"][winner.substr(0, winner.find(':'))].get<std::uint64_t>() >= 1u);
  json peers = inspect_json({"--api", api, "peers"});
  BOOST_TEST(peers["peers"].is_array());
  // The same node seen both ways is identical to itself.
  json d = inspect_json({"diff", data, "--api", api}, kExitOk);
  BOOST_TEST(d["identical"] == true);
  ::unsetenv("SHOPSYNC_DATA");
  BOOST_TEST(daemon->stop() == 0);
}
#endif

BOOST_AUTO_TEST_CASE(watch_screen_under_tmux_redraws_live_and_quits_on_q) {
  // A missing tmux fails the test (it never skips): install-deps installs it.
  BOOST_REQUIRE_MESSAGE(run_tool({"/usr/bin/env", "tmux", "-V"}).exit_code == 0,
                        "tmux is not installed: run tools/dev/install-deps");
  TempDir tmp;
  ClusterFixture f(tmp.path());
  const std::string sock = "shopsync-inspect-test-" + std::to_string(::getpid());
  auto tmux = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"/usr/bin/env", "-u", "TMUX", "tmux", "-L", sock});
    return run_tool(args, 10s);
  };
  struct KillServer {
    std::function<void()> f;
    ~KillServer() { f(); }
  } guard{[&] { tmux({"kill-server"}); }};
  const std::string cmd = std::string(SHOPSYNC_INSPECT_BIN) + " " + f.dir_a.string() + " summary --watch --interval-ms 200";
  auto started = tmux({"new-session", "-d", "-x", "120", "-y", "40", "-s", "w", cmd});
  BOOST_REQUIRE_MESSAGE(started.exit_code == 0, started.err);
  auto screen_until = [&](const std::string& needle) {
    std::string pane;
    for (int i = 0; i < 200; ++i) {  // at most ~20 s
      auto cap = tmux({"capture-pane", "-p", "-t", "w"});
      pane = cap.out;
      if (pane.find(needle) != std::string::npos) return pane;
      std::this_thread::sleep_for(100ms);
    }
    BOOST_TEST_MESSAGE("screen without '" << needle << "':\n" << pane);
    return std::string();
  };
  std::string pane = screen_until("COLLECTION");
  BOOST_REQUIRE(!pane.empty());
  BOOST_TEST_MESSAGE("the screen:\n" << pane);
  std::vector<std::string> rows;
  {
    std::istringstream in(pane);
    for (std::string line; std::getline(in, line);) rows.push_back(line);
  }
  BOOST_REQUIRE(!rows.empty());
  BOOST_TEST(rows[0].rfind("node       " + node_id_text(kNodeA), 0) == 0u);  // drawn from the top-left corner
  for (const auto& row : rows) BOOST_TEST(row.size() <= 120u);         // cut to the window
  BOOST_TEST(pane.find("q quits") != std::string::npos);
  BOOST_TEST(pane.find("customers") != std::string::npos);
  BOOST_TEST(pane.find("invoices") == std::string::npos);

  // A write to the store shows up on the next refresh.
  f.put(*f.a, "invoices", "I1", "total", "3.00");
  BOOST_TEST(!screen_until("invoices").empty());

  // q quits: the program ends, and with it the tmux session.
  BOOST_REQUIRE(tmux({"send-keys", "-t", "w", "q"}).exit_code == 0);
  bool ended = false;
  for (int i = 0; i < 100 && !ended; ++i) {  // at most ~10 s
    ended = tmux({"has-session", "-t", "w"}).exit_code != 0;
    if (!ended) std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST(ended);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
