// The ZAP (ZeroMQ Authentication Protocol, RFC 27) decision for the sync
// ROUTER: a CURVE client is admitted only when its public key is in the
// trusted-key list. The node polls an inproc REP socket bound to
// inproc://zeromq.zap.01 in its event loop and answers each request with
// answer_zap_request(). The user id of an admitted connection is the client's
// key in Z85: ZeroMQ attaches it to every message of that connection
// ("User-Id"), and that is how the node knows who a peer is.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace shopsync {

inline constexpr std::string_view kZapEndpoint = "inproc://zeromq.zap.01";
inline constexpr std::string_view kZapDomain = "shopsync";

struct ZapDecision {
  std::vector<std::string> reply;  // the frames to send back
  bool admitted = false;
  std::string client_key;   // Z85, when the request carried a CURVE key
  std::string address;      // the client's IP address
  std::string reason;       // why it was refused (for the log)
};

// `request`: the frames of one ZAP request. `is_trusted(z85_key)` decides.
ZapDecision answer_zap_request(const std::vector<std::string>& request,
                               const std::function<bool(std::string_view)>& is_trusted);

}  // namespace shopsync
