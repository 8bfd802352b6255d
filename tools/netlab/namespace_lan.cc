#include "tools/netlab/namespace_lan.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "tools/netlab/process.h"

namespace shopsync::netlab {
namespace {

constexpr const char* kPrefix = "sdisc-";

// Deletes namespaces of earlier runs whose process is gone.
void remove_stale() {
  auto list = run_command({"ip", "netns", "list"});
  std::istringstream in(list.output);
  std::string line;
  while (std::getline(in, line)) {
    std::string name = line.substr(0, line.find(' '));
    if (name.rfind(kPrefix, 0) != 0) continue;
    std::string rest = name.substr(std::string(kPrefix).size());
    pid_t pid = static_cast<pid_t>(std::atol(rest.substr(0, rest.find('-')).c_str()));
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(pid, 0) == 0 || errno == EPERM) continue;  // its owner still runs
    run_command({"ip", "netns", "del", name});
  }
}

}  // namespace

std::optional<std::string> NamespaceLan::unavailable() {
  if (::geteuid() != 0) return "network namespaces need root (euid is " + std::to_string(::geteuid()) + ")";
  std::string probe = std::string(kPrefix) + std::to_string(::getpid()) + "-check";
  auto add = run_command({"ip", "netns", "add", probe});
  if (add.exit_code != 0) return "cannot create a network namespace: " + add.output;
  run_command({"ip", "netns", "del", probe});
  return std::nullopt;
}

NamespaceLan::NamespaceLan(int hosts, Addressing addressing) : hosts_(hosts) {
  static std::atomic<int> counter{0};
  tag_ = std::string(kPrefix) + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  remove_stale();
  try {
    const std::string br = tag_ + "-br";
    must({"ip", "netns", "add", br});
    made_.push_back(br);
    must({"ip", "-n", br, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0"});
    must({"ip", "-n", br, "link", "set", "br0", "up"});
    for (int i = 1; i <= hosts; ++i) {
      const std::string h = ns(i);
      const std::string port = "b" + std::to_string(i);
      must({"ip", "netns", "add", h});
      made_.push_back(h);
      must({"ip", "netns", "exec", h, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0",
            "net.ipv6.conf.default.accept_dad=0"});
      must({"ip", "link", "add", "eth0", "netns", h, "type", "veth", "peer", "name", port, "netns", br});
      must({"ip", "-n", br, "link", "set", port, "master", "br0", "up"});
      if (addressing == Addressing::ipv4_and_ipv6) must({"ip", "-n", h, "addr", "add", address(i) + "/24", "dev", "eth0"});
      must({"ip", "-n", h, "link", "set", "eth0", "multicast", "on", "up"});
      must({"ip", "-n", h, "link", "set", "lo", "up"});
    }
  } catch (...) {
    remove_all();
    throw;
  }
}

NamespaceLan::~NamespaceLan() { remove_all(); }

std::string NamespaceLan::ns(int host) const { return tag_ + "-h" + std::to_string(host); }

std::string NamespaceLan::address(int host) const { return "198.18.0." + std::to_string(host); }

std::vector<std::string> NamespaceLan::exec(int host) const { return {"ip", "netns", "exec", ns(host)}; }

std::vector<std::string> NamespaceLan::exec_as_host(int host) const {
  auto argv = exec(host);
  // unshare and sh both exec the next program: the pid stays the command's.
  argv.insert(argv.end(), {"unshare", "--uts", "sh", "-c", "hostname \"$0\" && exec \"$@\"", "host" + std::to_string(host)});
  return argv;
}

void NamespaceLan::cut(int host) { must({"ip", "-n", tag_ + "-br", "link", "set", "b" + std::to_string(host), "down"}); }

void NamespaceLan::restore(int host) {
  must({"ip", "-n", tag_ + "-br", "link", "set", "b" + std::to_string(host), "up"});
}

void NamespaceLan::partition(int host) {
  must({"ip", "netns", "exec", tag_ + "-br", "bridge", "link", "set", "dev", "b" + std::to_string(host), "state", "0"});
}

void NamespaceLan::heal(int host) {
  must({"ip", "netns", "exec", tag_ + "-br", "bridge", "link", "set", "dev", "b" + std::to_string(host), "state", "3"});
}

void NamespaceLan::deafen(int host) {
  must({"ip", "netns", "exec", tag_ + "-br", "bridge", "link", "set", "dev", "b" + std::to_string(host), "mcast_flood",
        "off"});
}

const std::string& NamespaceLan::impairment_kind() {
  if (impairment_.empty()) {
    const std::string br = tag_ + "-br";
    const bool netem = run_command({"ip", "netns", "exec", br, "tc", "qdisc", "add", "dev", "b1", "root", "netem",
                                    "delay", "1ms"})
                           .exit_code == 0;
    if (netem) run_command({"ip", "netns", "exec", br, "tc", "qdisc", "del", "dev", "b1", "root"});
    impairment_ = netem ? "netem" : "tbf";
  }
  return impairment_;
}

void NamespaceLan::impair(int host, int loss_percent, int delay_ms) {
  if (impairment_kind() == "netem") {
    tc_both_ends(host,
                 {"replace", "root", "netem", "loss", std::to_string(loss_percent) + "%", "delay",
                  std::to_string(delay_ms) + "ms"},
                 true);
    return;
  }
  const int kbit = loss_percent >= 20 ? 128 : loss_percent >= 5 ? 512 : 2048;
  tc_both_ends(host,
               {"replace", "root", "tbf", "rate", std::to_string(kbit) + "kbit", "burst", "4kb", "latency",
                std::to_string(delay_ms) + "ms"},
               true);
}

void NamespaceLan::clear(int host) { tc_both_ends(host, {"del", "root"}, false); }

void NamespaceLan::tc_both_ends(int host, const std::vector<std::string>& qdisc_args, bool must_succeed) {
  const std::pair<std::string, std::string> ends[] = {{tag_ + "-br", "b" + std::to_string(host)}, {ns(host), "eth0"}};
  for (const auto& [space, device] : ends) {
    std::vector<std::string> argv = {"ip", "netns", "exec", space, "tc", "qdisc", qdisc_args[0], "dev", device};
    argv.insert(argv.end(), qdisc_args.begin() + 1, qdisc_args.end());
    if (must_succeed) {
      must(argv);
    } else {
      run_command(argv);
    }
  }
}

void NamespaceLan::must(const std::vector<std::string>& argv) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_command(argv);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  if (took > 1000) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    std::fprintf(stderr, "test network: `%s` took %lld ms\n", cmd.c_str(), static_cast<long long>(took));
  }
  if (r.exit_code != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    throw std::runtime_error("test network: `" + cmd + "` failed: " + r.output);
  }
}

void NamespaceLan::remove_all() noexcept {
  for (auto it = made_.rbegin(); it != made_.rend(); ++it) run_command({"ip", "netns", "del", *it});
  made_.clear();
}

}  // namespace shopsync::netlab
