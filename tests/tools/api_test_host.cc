// shopsync_api_test_host: serves the local API over a real LMDB store, for the
// CLI tests (until they run against shopsyncd itself).
//
//   shopsync_api_test_host --data DIR --api ADDR [--manual COLLECTION]...
//                          [--seed-conflict COLLECTION/ID]...
//
// --seed-conflict writes the record on this node and, concurrently, on a
// second node kept in DIR/other, then syncs the two: with --manual for its
// collection the record is left conflicted. Prints "ready ENDPOINT" on stdout
// once serving; stops on SIGTERM or SIGINT.
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "tests/tools/api_test_node.h"

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

int fail(const std::string& step, const shopsync::Status& s) {
  std::cerr << "shopsync_api_test_host: " << step << ": " << s.to_string() << std::endl;
  return 1;
}

std::string packed_str(const std::string& s) {
  // str8 is enough for the short values written here.
  std::string out;
  out += static_cast<char>(0xd9);
  out += static_cast<char>(s.size());
  return out + s;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace shopsync;
  std::string data, api = "tcp://127.0.0.1:0";
  test::TestNodeOptions options;
  std::vector<RecordKey> seeds;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--data") {
      data = value();
    } else if (a == "--api") {
      api = value();
    } else if (a == "--manual") {
      options.strategies[value()] = StrategyKind::manual;
    } else if (a == "--seed-conflict") {
      const std::string v = value();
      const auto slash = v.find('/');
      seeds.push_back(RecordKey{v.substr(0, slash), v.substr(slash + 1)});
    } else {
      std::cerr << "unknown argument " << a << '\n';
      return 2;
    }
  }
  if (data.empty()) {
    std::cerr << "--data DIR is required\n";
    return 2;
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);

  auto node = test::TestNode::open(std::filesystem::path(data) / "node", options);
  if (!node) return fail("opening the node", node.status());
  if (!seeds.empty()) {
    test::TestNodeOptions other_options = options;
    other_options.id = 2;
    other_options.name = "other";
    auto other = test::TestNode::open(std::filesystem::path(data) / "other", other_options);
    if (!other) return fail("opening the second node", other.status());
    VectorOutbox out;
    for (const auto& key : seeds) {
      auto a = (*node)->replica().put(key, FieldUpdate{{{"text", packed_str("written on node 1")}}, true}, out);
      if (!a) return fail("seeding", a.status());
      auto b = (*other)->replica().put(key, FieldUpdate{{{"text", packed_str("written on node 2")}}, true}, out);
      if (!b) return fail("seeding", b.status());
    }
    Status s = test::sync_nodes(**node, **other);
    if (!s) return fail("syncing the seeded conflicts", s);
  }
  auto server = api::ApiServer::bind(nullptr, api, (*node)->backend());
  if (!server) return fail("binding the API", server.status());
  std::cout << "ready " << (*server)->endpoint() << std::endl;
  Status served = test::serve(**server, g_stop);
  if (!served) return fail("serving", served);
  return 0;
}
