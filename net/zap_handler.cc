#include "net/zap_handler.h"

#include "net/zmq_socket.h"

namespace shopsync {

ZapDecision answer_zap_request(const std::vector<std::string>& request,
                               const std::function<bool(std::string_view)>& is_trusted) {
  ZapDecision d;
  // version, request id, domain, address, routing id, mechanism, credentials...
  const std::string request_id = request.size() > 1 ? request[1] : std::string();
  auto reply = [&](std::string_view code, std::string_view text, std::string_view user_id) {
    d.reply = {"1.0", request_id, std::string(code), std::string(text), std::string(user_id), ""};
  };
  if (request.size() < 6 || request[0] != "1.0") {
    d.reason = "malformed ZAP request";
    reply("500", d.reason, "");
    return d;
  }
  d.address = request[3];
  const std::string& mechanism = request[5];
  if (mechanism != "CURVE") {
    d.reason = "mechanism " + mechanism + " is not allowed";
    reply("400", d.reason, "");
    return d;
  }
  if (request.size() < 7 || request[6].size() != 32) {
    d.reason = "CURVE request without a 32-byte key";
    reply("400", d.reason, "");
    return d;
  }
  d.client_key = zmq::z85_encode_key(request[6]);
  if (!is_trusted(d.client_key)) {
    d.reason = "key " + d.client_key + " is not trusted";
    reply("400", "key not trusted", "");
    return d;
  }
  d.admitted = true;
  reply("200", "OK", d.client_key);
  return d;
}

}  // namespace shopsync
