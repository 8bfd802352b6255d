#include "tests/discovery/probe_harness.h"

#include <signal.h>

#include <thread>

#include "core/node_id.h"

namespace shopsync::test {

NamespacesRequired::NamespacesRequired() {
  const auto why = NamespaceLan::unavailable();
  BOOST_REQUIRE_MESSAGE(!why, "network namespaces cannot be made here (run as root, with iproute2): " << why.value_or(""));
}

std::string str(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return "";
  return *it->get_ptr<const std::string*>();
}

std::string node_of(int host) { return node_id_text(static_cast<NodeId>(0xa0 + host)); }

std::unique_ptr<ChildProcess> start_probe(const NamespaceLan& net, int host, const ProbeSpec& spec,
                                          const TempDir& dir) {
  std::vector<std::string> argv = net.exec(host);
  std::vector<std::string> args = {DISCOVERY_PROBE_PATH,
                                   "--name", spec.name,
                                   "--node", spec.node,
                                   "--cluster", spec.cluster,
                                   "--ttl", std::to_string(spec.ttl),
                                   "--seconds", std::to_string(spec.seconds),
                                   "--verbose"};
  if (spec.host_name != "system") {
    args.push_back("--host-name");
    args.push_back(spec.host_name.empty() ? "host" + std::to_string(host) : spec.host_name);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), spec.extra.begin(), spec.extra.end());
  auto p = std::make_unique<ChildProcess>(argv, dir / ("probe-" + spec.name + "-h" + std::to_string(host) + ".err"));
  BOOST_REQUIRE_MESSAGE(p->started(), "cannot start " << DISCOVERY_PROBE_PATH);
  return p;
}

std::unique_ptr<ChildProcess> start_zeroconf(const NamespaceLan& net, int host, const std::vector<std::string>& args,
                                             const TempDir& dir, const std::string& log_name) {
  std::vector<std::string> argv = net.exec(host);
  argv.push_back("/usr/bin/python3");
  argv.push_back(ZEROCONF_TOOL_PATH);
  argv.insert(argv.end(), args.begin(), args.end());
  auto p = std::make_unique<ChildProcess>(argv, dir / (log_name + ".err"));
  BOOST_REQUIRE_MESSAGE(p->started(), "cannot start python3-zeroconf");
  return p;
}

bool path_up(const std::vector<nlohmann::json>& lines, const std::string& node, const std::string& family) {
  bool up = false;
  for (const auto& l : lines) {
    if (str(l, "node") != node || str(l, "family") != family) continue;
    if (str(l, "event") == "found") up = true;
    if (str(l, "event") == "lost") up = false;
  }
  return up;
}

std::optional<nlohmann::json> last_found(const std::vector<nlohmann::json>& lines, const std::string& node,
                                         const std::string& family) {
  std::optional<nlohmann::json> out;
  for (const auto& l : lines) {
    if (str(l, "event") == "found" && str(l, "node") == node && str(l, "family") == family) out = l;
  }
  return out;
}

std::optional<long> first_time(const std::vector<nlohmann::json>& lines, const std::string& event,
                               const std::string& node) {
  for (const auto& l : lines) {
    if (str(l, "event") == event && (node.empty() || str(l, "node") == node)) return l.value("t_ms", 0L);
  }
  return std::nullopt;
}

std::optional<nlohmann::json> diagnostics_until(ChildProcess& probe,
                                                const std::function<bool(const nlohmann::json&)>& pred,
                                                std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::optional<nlohmann::json> last;
  std::size_t seen = probe.lines().size();
  while (std::chrono::steady_clock::now() < deadline) {
    probe.signal(SIGUSR1);
    bool fresh = false;
    probe.wait_for(
        [&](const std::vector<nlohmann::json>& lines) {
          for (std::size_t i = seen; i < lines.size(); ++i) {
            if (lines[i].value("event", "") == "diagnostics") {
              last = lines[i];
              fresh = true;
            }
          }
          seen = lines.size();
          return fresh;
        },
        std::chrono::milliseconds(500));
    if (fresh && pred(*last)) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return last;
}

}  // namespace shopsync::test
