// One-off mDNS queries of our own (for Reconfirmations, reconfirm.h): sent
// from an ordinary UDP port to the mDNS group on one interface, so that, as
// RFC 6762 section 6.7 asks of responders, the owner of the record answers us
// directly by unicast, whatever its cache-sharing neighbours already know
// (no known-answer suppression applies). libavahi-core has no such call.
//
// Thread-safety: none; the owner's loop polls fds() and calls read().
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "discovery/peer_event.h"
#include "discovery/poll_fd.h"

namespace shopsync::discovery {

// The DNS message asking for the SRV record of `instance` of `service_type`
// ("_shopsync._tcp") in `domain` ("local"), with message id `id`. Empty when
// a label is empty or longer than 63 bytes.
std::string encode_srv_query(std::uint16_t id, std::string_view instance, std::string_view service_type,
                             std::string_view domain);

// The id of a DNS response that answers something (QR set, no error, at
// least one answer); nullopt for a query, an error, an empty answer or bytes
// too short to be DNS.
std::optional<std::uint16_t> answered_id(std::string_view message);

class MdnsQuerier {
 public:
  MdnsQuerier() = default;
  ~MdnsQuerier();
  MdnsQuerier(const MdnsQuerier&) = delete;
  MdnsQuerier& operator=(const MdnsQuerier&) = delete;

  // Sends the query for `instance`'s SRV record to 224.0.0.251 resp. ff02::fb
  // port 5353 on interface `interface_index`; an answer is reported for
  // `peer`. Returns "" or why it could not be sent.
  std::string send(NodeId peer, int interface_index, IpFamily family, std::string_view instance,
                   std::string_view domain);
  // Its sockets (poll_in), once a query went out.
  std::vector<PollFd> fds() const;
  // Reads what arrived on `fd`: the peers an answer came for.
  std::vector<NodeId> read(int fd);

 private:
  int socket_for(IpFamily family);
  int ipv4_ = -1;
  int ipv6_ = -1;
  std::uint16_t next_id_ = 1;
  std::map<std::uint16_t, NodeId> asked_;  // message id -> peer, the newest 256
};

}  // namespace shopsync::discovery
