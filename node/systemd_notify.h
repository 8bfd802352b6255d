// Tells systemd how the node is doing, with the sd_notify datagram protocol
// (sd_notify(3)): one AF_UNIX datagram of "NAME=value" lines to the socket
// named by $NOTIFY_SOCKET ('@' at its start: the abstract namespace). Used
// under the unit's Type=notify: READY=1 once the store is open and every
// socket listens, RELOADING=1 around a SIGHUP reload, STOPPING=1 on stop,
// STATUS= for `systemctl status`, WATCHDOG=1 from the event loop.
//
// Without $NOTIFY_SOCKET (not started by systemd) every call does nothing.
// Sending never blocks and a failure is only logged: systemd going away must
// not stop the node.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace shopsync {

class SystemdNotifier {
 public:
  // Reads $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID.
  static SystemdNotifier from_environment();
  SystemdNotifier() = default;
  SystemdNotifier(SystemdNotifier&& other) noexcept;
  SystemdNotifier& operator=(SystemdNotifier&& other) noexcept;
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;
  ~SystemdNotifier();

  bool enabled() const { return fd_ >= 0; }
  // Sends `state` ("READY=1\nSTATUS=serving"). False when it could not be sent.
  bool notify(std::string_view state);
  // How often to send WATCHDOG=1 (half the unit's WatchdogSec=), in ms;
  // nullopt when systemd watches nothing for this process.
  std::optional<std::uint64_t> watchdog_interval_ms() const { return watchdog_interval_ms_; }

 private:
  int fd_ = -1;
  std::string path_;  // the socket address; a leading '\0' for the abstract namespace
  std::optional<std::uint64_t> watchdog_interval_ms_;
  bool failure_logged_ = false;
};

}  // namespace shopsync
