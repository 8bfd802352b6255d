// Helpers shared by the multi-host and interop suites: start discovery_probe
// or the python3-zeroconf tool inside a host of a NamespaceLan, and read what
// they report.
#pragma once

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"
#include "tools/netlab/namespace_lan.h"
#include "tools/netlab/process.h"

namespace shopsync::test {

using netlab::ChildProcess;
using netlab::CommandResult;
using netlab::run_command;
using netlab::NamespaceLan;

// The fixture of a suite that needs network namespaces: where they cannot be
// made, each test case fails with the reason. It never skips: a CI machine
// that cannot run them must say so, not pass.
struct NamespacesRequired {
  NamespacesRequired();
};

struct ProbeSpec {
  ProbeSpec(std::string n, std::string id) : name(std::move(n)), node(std::move(id)) {}
  ProbeSpec& with_ttl(int s) { ttl = s; return *this; }
  ProbeSpec& with_cluster(std::string c) { cluster = std::move(c); return *this; }
  ProbeSpec& with_host_name(std::string h) { host_name = std::move(h); return *this; }
  ProbeSpec& with_args(std::vector<std::string> a) { extra = std::move(a); return *this; }

  std::string name;
  std::string node;               // 16 hex digits
  std::string cluster = "test";
  std::string host_name;          // empty: "host<N>"; "system": the machine's (no --host-name)
  int ttl = 120;
  int seconds = 90;               // the probe's own bound
  std::vector<std::string> extra;
};

std::unique_ptr<ChildProcess> start_probe(const NamespaceLan& net, int host, const ProbeSpec& spec, const TempDir& dir);

// python3-zeroconf (zeroconf_tool.py) inside a host.
std::unique_ptr<ChildProcess> start_zeroconf(const NamespaceLan& net, int host, const std::vector<std::string>& args,
                                             const TempDir& dir, const std::string& log_name);

// The string at `key` of a JSON object, or "" (JSON from children is untrusted
// too: a missing or non-string field is just "").
std::string str(const nlohmann::json& j, const char* key);

// The node id of host N's probe in these tests.
std::string node_of(int host);

// Whether, after the events printed so far, the path (node, family) is up.
bool path_up(const std::vector<nlohmann::json>& lines, const std::string& node, const std::string& family);
// The last `found` event for (node, family), if any.
std::optional<nlohmann::json> last_found(const std::vector<nlohmann::json>& lines, const std::string& node,
                                         const std::string& family);
// t_ms of the first event matching `event` (and node when not empty).
std::optional<long> first_time(const std::vector<nlohmann::json>& lines, const std::string& event,
                               const std::string& node = "");

// Asks the probe for its diagnostics (SIGUSR1) until `pred` holds for one
// dump, at most `timeout`. Returns the last dump seen.
std::optional<nlohmann::json> diagnostics_until(ChildProcess& probe,
                                                const std::function<bool(const nlohmann::json&)>& pred,
                                                std::chrono::milliseconds timeout);

}  // namespace shopsync::test
