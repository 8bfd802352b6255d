// The network the fault harness runs its nodes on.
//
// Namespaces mode (root, `ip` and `tc` available): a netlab::NamespaceLan,
// one network namespace per host on a bridge (198.18.0.<host>/24), removed by
// the destructor (also after a failed test). Faults on host i's link: cut() /
// restore() (host i loses / regains carrier), impair() (loss and delay, or a
// slow link where the kernel has no netem; impairment_kind() says which) and
// clear() (back to a clean link).
//
// Loopback mode (not root): every host is 127.0.0.1; the link faults do
// nothing and the harness uses kill/restart only.
//
// Thread-safety: none; the test's main thread drives it.
#pragma once

#include <optional>
#include <string>

#include "tools/netlab/namespace_lan.h"

namespace shopsync::test {

class FaultNetwork {
 public:
  // Why namespaces cannot be made here, or nullopt.
  static std::optional<std::string> namespaces_unavailable();

  // namespaces: build `hosts` hosts in namespaces (throws std::runtime_error
  // naming the failed step, after removing what it made); otherwise loopback.
  FaultNetwork(int hosts, bool namespaces);

  bool namespaces() const { return lan_.has_value(); }
  std::string ns(int host) const { return lan_ ? lan_->ns(host) : std::string(); }  // host is 1-based
  std::string address(int host) const { return lan_ ? lan_->address(host) : "127.0.0.1"; }

  // "netem", "tbf" or "" (loopback: no link faults).
  std::string impairment_kind() { return lan_ ? lan_->impairment_kind() : std::string(); }

  void cut(int host) {
    if (lan_) lan_->cut(host);
  }
  void restore(int host) {
    if (lan_) lan_->restore(host);
  }
  void impair(int host, int loss_percent, int delay_ms) {
    if (lan_) lan_->impair(host, loss_percent, delay_ms);
  }
  void clear(int host) {
    if (lan_) lan_->clear(host);
  }

 private:
  std::optional<netlab::NamespaceLan> lan_;
};

}  // namespace shopsync::test
