// A LAN of hosts made of network namespaces, for the multi-host tests, the
// fault harness and `shopsync-bench discovery` (root only; see
// NamespaceLan::unavailable()):
//
//   <tag>-h1 eth0 198.18.0.1/24 ─┐
//   <tag>-h2 eth0 198.18.0.2/24 ─┼─ br0 in <tag>-br (multicast snooping off)
//   <tag>-h3 eth0 198.18.0.3/24 ─┘
//
// Each host also has IPv6 link-local addresses (duplicate address detection
// off so they are usable at once) and its loopback up. An IPv6-only LAN
// leaves the 198.18.0.x addresses out: hosts have link-local IPv6 alone.
// Names are unique per run (pid and a counter); the destructor deletes every
// namespace, which takes the veth pairs and the bridge with it, and the
// constructor first removes what an earlier, killed run of a program left behind.
// Nothing touches the root namespace's interfaces.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace shopsync::netlab {

class NamespaceLan {
 public:
  // Why namespaces cannot be made here (not root, no `ip`), or nullopt.
  static std::optional<std::string> unavailable();

  enum class Addressing { ipv4_and_ipv6, ipv6_only };

  // Builds `hosts` hosts. Throws std::runtime_error naming the failed step
  // (after removing whatever it had made).
  explicit NamespaceLan(int hosts, Addressing addressing = Addressing::ipv4_and_ipv6);
  ~NamespaceLan();
  NamespaceLan(const NamespaceLan&) = delete;
  NamespaceLan& operator=(const NamespaceLan&) = delete;

  int hosts() const { return hosts_; }
  std::string ns(int host) const;             // namespace name, host is 1-based
  std::string address(int host) const;        // "198.18.0.<host>"
  // argv prefix that runs a command inside the host: {"ip","netns","exec",ns}
  std::vector<std::string> exec(int host) const;
  // The same, and the command sees the host name "host<N>" (a UTS namespace of
  // its own), as on a LAN of distinct machines; the command keeps the pid.
  std::vector<std::string> exec_as_host(int host) const;

  // Pulls / plugs the host's cable at the bridge: the host's eth0 loses /
  // regains carrier.
  void cut(int host);
  void restore(int host);
  // The bridge stops / resumes forwarding the host's port; every link keeps
  // its carrier, so no side sees a link change (a fault between switches).
  void partition(int host);
  void heal(int host);
  // The bridge stops passing multicast to the host (its port floods none):
  // the host still sends mDNS but hears none, like a host whose firewall
  // drops inbound UDP 5353. Unicast and broadcast (ARP) still pass.
  void deafen(int host);

  // Impairs the host's link both ways: packet loss and delay with `tc netem`
  // when the kernel has sch_netem, otherwise a slow link with `tc tbf` (a rate
  // limit with a short queue: queueing delay and tail drops under load; the
  // rate falls as loss_percent rises, the queue holds about delay_ms).
  // clear() gives the clean link back. Both need `tc` (iproute2).
  void impair(int host, int loss_percent, int delay_ms);
  void clear(int host);
  // "netem" or "tbf": what impair() does on this kernel (probed once).
  const std::string& impairment_kind();

 private:
  void must(const std::vector<std::string>& argv);
  // The same `tc qdisc` command on both ends of the host's link.
  void tc_both_ends(int host, const std::vector<std::string>& qdisc_args, bool must_succeed);
  void remove_all() noexcept;

  std::string tag_;
  int hosts_ = 0;
  std::vector<std::string> made_;  // namespaces created, for removal
  std::string impairment_;         // "" until probed
};

}  // namespace shopsync::netlab
