// The sync sockets under Peering (node/peering/io.h): the ROUTER that inbound
// links arrive on (--listen, CURVE server), one DEALER per outbound link,
// and the ZAP handler that admits a CURVE client only when its key is
// trusted (net/zap_handler.h). What arrives becomes Peering events; Peering's
// dials, sends and closes become socket calls.
//
// A link is one ZeroMQ connection: an outbound DEALER, or an inbound routing
// id on the ROUTER. A frame is one message part.
//
// Thread-safety: none; the node's loop thread only. The context outlives it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/zmq_socket.h"
#include "node/dial_watch.h"
#include "node/identity.h"
#include "node/loop_source.h"
#include "node/peering/io.h"

namespace shopsync {

class Peering;

class SyncTransport final : public peering::Io {
 public:
  struct Options {
    std::string listen;              // --listen
    bool insecure = false;           // no CURVE and no ZAP (--insecure)
    std::uint64_t handshake_ms = 0;  // a CURVE handshake that takes longer fails (--peer-timeout)
  };
  // What it asks of the node. Each may be empty but is_trusted and trusted_keys.
  struct Hooks {
    std::function<bool(std::string_view key)> is_trusted;
    std::function<std::vector<std::string>()> trusted_keys;
    std::function<void(NodeId peer)> heard_from;  // a link to `peer` exchanged HELLOs
    std::function<void(NodeId peer)> vanished;    // peering::Io::vanished
  };

  // Binds the ZAP handler (before any CURVE client can arrive) and the sync
  // port. unavailable when the port is taken.
  static Result<std::unique_ptr<SyncTransport>> open(zmq::Context& ctx, const NodeIdentity& identity,
                                                     Options options, Hooks hooks);
  ~SyncTransport() override;
  SyncTransport(const SyncTransport&) = delete;
  SyncTransport& operator=(const SyncTransport&) = delete;

  // What arrives goes to `peering` from now on, stamped with `now()`.
  void attach(Peering& peering, std::function<peering::Now()> now);
  // The bound endpoint (with the real port when --listen asked for port 0).
  const std::string& endpoint() const { return endpoint_; }
  std::uint16_t port() const { return port_; }
  // The sockets for the node's loop to poll, and what to do when they are ready.
  LoopSource source();
  // For a clean stop: closing sockets wait up to `ms` for what is queued
  // (the GOODBYEs) to leave.
  void linger(int ms);

  // peering::Io
  Status dial(std::uint64_t link, const PeerAddress& address, const std::string& key, bool retry) override;
  Sent send(std::uint64_t link, std::string_view frame) override;
  void close(std::uint64_t link, bool end_connection) override;
  void established(std::uint64_t link) override;
  peering::DialState dial_state(std::uint64_t link) override;
  void vanished(NodeId peer) override;
  bool is_trusted(std::string_view key) override { return hooks_.is_trusted(key); }
  std::vector<std::string> trusted_keys() override { return hooks_.trusted_keys(); }

 private:
  struct Dealer {
    zmq::Socket socket;
    DialWatch watch;  // why its connection is not up (declared after `socket`,
                      // so it stops its monitor before the DEALER closes)
  };
  struct Inbound {
    std::string routing_id;
    int fd = -1;  // its TCP connection, ended when its key is revoked
    std::string ip;
  };

  SyncTransport(zmq::Context& ctx, const NodeIdentity& identity, Options options, Hooks hooks);
  Status bind();
  void answer_zap();
  void receive_inbound();
  void receive_outbound(std::uint64_t link);

  zmq::Context& ctx_;
  const NodeIdentity& identity_;
  Options options_;
  Hooks hooks_;
  Peering* peering_ = nullptr;
  std::function<peering::Now()> now_;
  zmq::Socket zap_;
  zmq::Socket router_;
  std::string endpoint_;
  std::uint16_t port_ = 0;
  std::map<std::uint64_t, Dealer> dealers_;          // outbound links
  std::map<std::uint64_t, Inbound> inbound_;         // inbound links
  std::map<std::string, std::uint64_t> by_routing_;  // routing id -> inbound link
  std::vector<std::uint64_t> polled_dealers_;        // the dealers of this turn's poll entries
  std::map<std::string, std::uint64_t> zap_logged_ms_;  // key|address -> last "refused" line
};

}  // namespace shopsync
