// The network the fault harness runs its nodes on.
//
// Namespaces mode (root, `ip` available): one network namespace per host and
// one for a bridge, made by this object and removed by its destructor (also
// after a failed test), with names unique to this process:
//
//   ssf<pid>x<n>-h1  eth0 198.18.0.1/24 ── p1 ─┐
//   ssf<pid>x<n>-h2  eth0 198.18.0.2/24 ── p2 ─┼─ br0 in ssf<pid>x<n>-br
//   ssf<pid>x<n>-h3  eth0 198.18.0.3/24 ── p3 ─┘
//
// Faults on host i's link: cut() / restore() (the bridge side of the veth
// goes down / up, so host i loses carrier), impair() (packet loss and delay
// with `tc ... netem` on both ends of the veth when the kernel has sch_netem;
// otherwise a slow link with `tc ... tbf` (rate limit with a short queue:
// queueing delay and tail drops under load), which is what impairment_kind()
// says), clear() (back to a clean link).
//
// Loopback mode (not root): every host is 127.0.0.1; the link faults are not
// available (available() false) and the harness uses kill/restart only.
//
// Thread-safety: none; the test's main thread drives it.
#pragma once

#include <optional>
#include <string>

namespace shopsync::test {

class FaultNetwork {
 public:
  // Why namespaces cannot be made here, or nullopt.
  static std::optional<std::string> namespaces_unavailable();

  // namespaces: build `hosts` hosts in namespaces (throws std::runtime_error
  // naming the failed step, after removing what it made); otherwise loopback.
  FaultNetwork(int hosts, bool namespaces);
  ~FaultNetwork();
  FaultNetwork(const FaultNetwork&) = delete;
  FaultNetwork& operator=(const FaultNetwork&) = delete;

  bool namespaces() const { return namespaces_; }
  int hosts() const { return hosts_; }
  std::string ns(int host) const;       // "" in loopback mode; host is 1-based
  std::string address(int host) const;  // "198.18.0.<host>" or "127.0.0.1"

  // "netem", "tbf" or "" (loopback: no link faults).
  const std::string& impairment_kind() const { return impairment_; }

  void cut(int host);
  void restore(int host);
  // loss_percent and delay_ms are used as given with netem; with tbf they
  // pick the rate (lower for more loss) and the queue length (delay_ms).
  void impair(int host, int loss_percent, int delay_ms);
  void clear(int host);

 private:
  void must(const std::string& command);
  bool run(const std::string& command);
  void remove_all() noexcept;

  int hosts_ = 0;
  bool namespaces_ = false;
  std::string tag_;
  std::string impairment_;
  bool made_ = false;
};

}  // namespace shopsync::test
