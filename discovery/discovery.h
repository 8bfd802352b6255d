// DNS-SD over mDNS: announce this node as `_shopsync._tcp.local.` and report the
// nodes of the same cluster that appear and vanish on the LAN (DESIGN.md,
// "Discovery"; docs/discovery.md).
//
// A Discovery embeds its own mDNS responder (libavahi-core) and does no I/O of
// its own accord: the owner's event loop polls the descriptors of fds() with the
// timeout of timeout_ms() (both change after every call into Discovery, so ask
// again each turn) and hands what became ready to dispatch(). No thread, no
// avahi-daemon, no D-Bus.
//
// Discovery only proposes addresses. It never grants trust: a PeerEvent carries
// the key the peer *claims*; the CURVE handshake and the trusted-key list decide.
//
// Thread-safety: none. Every call, and every call of the event handler, happens
// on the thread that owns the Discovery.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "discovery/diagnostics.h"
#include "discovery/peer_event.h"
#include "discovery/poll_fd.h"

namespace shopsync::discovery {

// What this node announces. Validated by Discovery::start().
struct Announcement {
  std::string name;         // DNS-SD instance name: 1..63 bytes of UTF-8, no control characters
  std::uint16_t port = 0;   // the sync port (ROUTER); 1..65535
  std::string cluster;      // 1..63 of [A-Za-z0-9._-]
  NodeId node_id = 0;       // never 0
  std::string public_key;   // CURVE public key, Z85 (40 characters)
  Role role = Role::peer;
  std::uint32_t protocol = 1;  // the wire protocol version this node speaks (> 0)
};

// Whether the embedded responder publishes the host's address records (A/AAAA
// for the host name that the SRV record points to).
enum class AddressPublishing {
  // Publish them unless another mDNS responder (avahi-daemon, another node)
  // already holds UDP 5353 on this host; then leave that to it and only add the
  // service records. The default.
  automatic,
  always,  // publish them (no other responder on this host)
  never,   // never publish them (another responder publishes the host name)
};

struct DiscoveryOptions {
  // Host name (one label, without ".local") the SRV record points to. Empty: the
  // system's host name, which is also what an avahi-daemon on this host uses.
  // On a conflict with another host the responder picks "<name>-2" and so on.
  std::string host_name;
  AddressPublishing address_publishing = AddressPublishing::automatic;
  bool use_ipv4 = true;
  bool use_ipv6 = true;
  // Interface names to use (empty: every multicast-capable interface that is up)
  // and to leave out.
  std::vector<std::string> allow_interfaces;
  std::vector<std::string> deny_interfaces;
  // TTL of our PTR/SRV/TXT records: a peer that vanishes without a goodbye is
  // reported lost this long after its last answer. RFC 6762 suggests 120 s for
  // records that name a host.
  std::chrono::seconds record_ttl{120};
  // Treat an interface without link beat (no carrier) as gone: pulling a cable
  // reports the peers behind it lost at once, and plugging it back re-announces
  // and re-queries on it at once.
  bool require_link_beat = true;
  // Receives the responder's log lines (and ours). Empty: warnings and errors go
  // to stderr. Note: libavahi-core's log hook is process-wide; the last started
  // Discovery's sink wins.
  std::function<void(std::string_view)> log;
};

class Discovery {
 public:
  using EventHandler = std::function<void(const PeerEvent&)>;

  // Validates the announcement, starts the responder, begins probing for the
  // name and browsing for peers. Nothing is sent or received before the owner
  // first dispatches. The handler is called only from dispatch(), after the
  // responder's own callbacks have returned; it may call any const method of
  // this Discovery, but must not destroy it or call stop() or dispatch().
  // Errors: invalid_argument (bad announcement or options), io_error (the
  // responder could not start, e.g. no socket for UDP 5353).
  static Result<std::unique_ptr<Discovery>> start(Announcement announcement, DiscoveryOptions options,
                                                  EventHandler on_event);

  // Stops (goodbye) if still running.
  ~Discovery();
  Discovery(const Discovery&) = delete;
  Discovery& operator=(const Discovery&) = delete;

  // Descriptors to poll now: events is a mix of poll_in / poll_out. Empty after stop().
  std::vector<PollFd> fds() const;
  // Milliseconds until dispatch() must be called even if nothing is ready: -1
  // for "no deadline", 0 for "now". Ask again after every dispatch().
  int timeout_ms() const;
  // Runs what is due: callbacks of ready descriptors (`ready` entries with
  // revents set; others are ignored) and expired timers, then delivers the
  // resulting events to the handler. Call it when poll says so or when the
  // timeout expires; calling it early is harmless.
  void dispatch(std::span<const PollFd> ready);

  // Withdraws our service with a goodbye (TTL 0) so that browsers drop it at
  // once, then shuts the responder down. Blocks for at most ~300 ms while the
  // goodbye goes out. No events are delivered afterwards. Idempotent.
  void stop();

  // The instance name actually published: the announced one, or "<name> #2" and
  // so on after a conflict with another host's service of the same name.
  std::string published_name() const;
  // Where publishing stands: "starting", "probing", "announced",
  // "renaming", "failed: <why>", "stopped". Cheap; diagnostics() is not.
  std::string state() const;
  // A failure indication about `peer` (its sync link died without a goodbye,
  // or a dial to it failed): its records are asked for again on each path's
  // interface, and when no answer comes within Reconfirmations::kWindowMs the
  // peer is reported lost at once instead of when its records' TTL runs out
  // (RFC 6762 section 10.4; reconfirm.h). Returns whether this started a
  // reconfirmation (false: the peer is not found, or is being reconfirmed,
  // or answered one less than a minute ago).
  bool reconfirm(NodeId peer);

  // `peer` was heard from otherwise (a sync session came up): if a
  // reconfirmation forgot it, its records are asked for again at once, and
  // its answer makes it found again (its records, unchanged in avahi's cache,
  // would not be reported again).
  void heard_from(NodeId peer);

  // Every path currently known to reach a peer (kind == found).
  std::vector<PeerEvent> peers() const;
  // For `shopsync doctor`.
  DiscoveryDiagnostics diagnostics() const;

  struct Impl;

 private:
  explicit Discovery(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The DNS-SD service type, without the domain.
inline constexpr std::string_view kServiceType = "_shopsync._tcp";

// Validates an announcement against the rules above (also used by start()).
Status validate(const Announcement& announcement);

}  // namespace shopsync::discovery
