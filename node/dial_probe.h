// Why a TCP connection to a peer's HOST:PORT fails, found by trying it once
// ourselves: ZeroMQ retries a failed connect without saying why (its monitor
// carries no errno), so an unresolvable name, a host or network out of reach
// and a port where nothing listens all looked alike (node/dial_watch.h).
//
// The probe resolves the host (numeric hosts at once; names on a helper
// thread, so a slow DNS server never stalls the node's loop), then makes one
// non-blocking connect and reads its errno. A connect that succeeds is closed
// at once: the probe found nothing wrong with the network.
//
// Thread-safety: the owner's thread only (the helper thread touches only the
// shared resolution state). Lifetime: may be destroyed at any time; a
// resolution still running finishes on its own and is dropped.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace shopsync {

class DialProbe {
 public:
  // Starts resolving `host` (a name, an IPv4 address, or an IPv6 address with
  // or without brackets and with an optional %interface). Never blocks.
  static DialProbe start(const std::string& host, std::uint16_t port);
  DialProbe() = default;
  DialProbe(DialProbe&& o) noexcept;
  DialProbe& operator=(DialProbe&& o) noexcept;
  DialProbe(const DialProbe&) = delete;
  DialProbe& operator=(const DialProbe&) = delete;
  ~DialProbe();

  // Advances the probe without blocking and returns what it found: "" while
  // it runs, when it was never started, or when its connect succeeded;
  // otherwise one of "name resolution failed for HOST (...)", "connection
  // refused by ADDRESS (nothing listens on that port)", "host unreachable
  // (ADDRESS: ...)", "network unreachable (...)" or "no answer from ADDRESS
  // (...)". Final once not empty.
  const std::string& verdict();
  // True while neither a verdict nor a successful connect is known.
  bool running() const { return state_ == State::resolving || state_ == State::connecting; }
  bool started() const { return state_ != State::idle; }

  struct Resolution;  // shared with the helper thread

 private:
  enum class State { idle, resolving, connecting, done };
  void connect_to_resolved();
  void read_connect_result(bool final);

  State state_ = State::idle;
  std::string host_;
  std::uint16_t port_ = 0;
  std::shared_ptr<Resolution> resolution_;
  std::string address_;  // what is being connected to, as text
  int fd_ = -1;
  std::string verdict_;
};

}  // namespace shopsync
