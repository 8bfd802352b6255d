#include "tests/faults/fault_network.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace shopsync::test {

namespace {

std::atomic<int> g_networks{0};

// Commands are built only from names this file makes (no user text), so the
// shell sees nothing it could misread.
int shell(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()); }

// Removes namespaces an earlier, killed run of this harness left behind: the
// ones named ssf<pid>x... whose pid no longer runs.
void remove_stale() {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/run/netns", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("ssf", 0) != 0) continue;
    const auto x = name.find('x');
    if (x == std::string::npos) continue;
    const int pid = std::atoi(name.substr(3, x - 3).c_str());
    if (pid <= 0 || pid == ::getpid() || ::kill(pid, 0) == 0) continue;
    shell("ip netns del " + name);
  }
}

}  // namespace

std::optional<std::string> FaultNetwork::namespaces_unavailable() {
  if (::geteuid() != 0) return "not root: network namespaces need CAP_SYS_ADMIN";
  if (shell("ip -V") != 0) return "the `ip` command (iproute2) is missing";
  if (shell("tc -V") != 0) return "the `tc` command (iproute2) is missing";
  return std::nullopt;
}

FaultNetwork::FaultNetwork(int hosts, bool namespaces) : hosts_(hosts), namespaces_(namespaces) {
  if (!namespaces_) return;
  remove_stale();
  tag_ = "ssf" + std::to_string(::getpid()) + "x" + std::to_string(++g_networks);
  made_ = true;
  try {
    const std::string br = tag_ + "-br";
    must("ip netns add " + br);
    must("ip -n " + br + " link add br0 type bridge");
    must("ip -n " + br + " link set br0 up");
    must("ip -n " + br + " link set lo up");
    for (int h = 1; h <= hosts_; ++h) {
      const std::string host = ns(h);
      const std::string p = "p" + std::to_string(h);
      must("ip netns add " + host);
      must("ip -n " + host + " link set lo up");
      must("ip -n " + host + " link add eth0 type veth peer name " + p);
      must("ip -n " + host + " link set " + p + " netns " + br);
      must("ip -n " + br + " link set " + p + " master br0");
      must("ip -n " + br + " link set " + p + " up");
      must("ip -n " + host + " addr add " + address(h) + "/24 dev eth0");
      must("ip -n " + host + " link set eth0 up");
    }
    // Which impairment this kernel can do: netem when sch_netem exists.
    if (run("ip netns exec " + br + " tc qdisc add dev p1 root netem delay 1ms")) {
      impairment_ = "netem";
      run("ip netns exec " + br + " tc qdisc del dev p1 root");
    } else {
      impairment_ = "tbf";
    }
  } catch (...) {
    remove_all();
    throw;
  }
}

FaultNetwork::~FaultNetwork() { remove_all(); }

std::string FaultNetwork::ns(int host) const {
  return namespaces_ ? tag_ + "-h" + std::to_string(host) : std::string();
}

std::string FaultNetwork::address(int host) const {
  return namespaces_ ? "198.18.0." + std::to_string(host) : "127.0.0.1";
}

void FaultNetwork::cut(int host) {
  if (namespaces_) must("ip -n " + tag_ + "-br link set p" + std::to_string(host) + " down");
}

void FaultNetwork::restore(int host) {
  if (namespaces_) must("ip -n " + tag_ + "-br link set p" + std::to_string(host) + " up");
}

void FaultNetwork::impair(int host, int loss_percent, int delay_ms) {
  if (!namespaces_) return;
  std::string qdisc;
  if (impairment_ == "netem") {
    qdisc = "netem loss " + std::to_string(loss_percent) + "% delay " + std::to_string(delay_ms) + "ms";
  } else {
    // A slow link: the rate falls as the wanted loss rises; packets wait in
    // a queue of about delay_ms and are dropped beyond it.
    const int kbit = loss_percent >= 20 ? 128 : loss_percent >= 5 ? 512 : 2048;
    qdisc = "tbf rate " + std::to_string(kbit) + "kbit burst 4kb latency " + std::to_string(delay_ms) + "ms";
  }
  const std::string h = std::to_string(host);
  must("ip netns exec " + tag_ + "-br tc qdisc replace dev p" + h + " root " + qdisc);
  must("ip netns exec " + ns(host) + " tc qdisc replace dev eth0 root " + qdisc);
}

void FaultNetwork::clear(int host) {
  if (!namespaces_) return;
  const std::string h = std::to_string(host);
  run("ip netns exec " + tag_ + "-br tc qdisc del dev p" + h + " root");
  run("ip netns exec " + ns(host) + " tc qdisc del dev eth0 root");
}

void FaultNetwork::must(const std::string& command) {
  if (!run(command)) throw std::runtime_error("network setup step failed: " + command);
}

bool FaultNetwork::run(const std::string& command) { return shell(command) == 0; }

void FaultNetwork::remove_all() noexcept {
  if (!made_) return;
  made_ = false;
  // Deleting a namespace takes its veth ends (and so their peers) and the bridge.
  for (int h = 1; h <= hosts_; ++h) shell("ip netns del " + ns(h));
  shell("ip netns del " + tag_ + "-br");
}

}  // namespace shopsync::test
