// `shopsync doctor`: reads what the node's discovery sees (the API's
// `discovery` answer) and its status, and says, in words, what stops this node
// from finding or reaching its peers, or what in its store needs repair, and
// what to do about it (docs/discovery.md, "Troubleshooting").
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "api/api_types.h"
#include "tools/shopsync/json_values.h"

namespace shopsync::cli {

// Seconds discovery must have listened before silence on the LAN is worth a
// remark: announcements and the first queries take about one second.
inline constexpr std::uint64_t kQuietLanAfterMs = 5000;
// A peer found on the LAN but not connected for this long is stuck: a dial
// answers within a second, and one that fails becomes "unreachable" after
// --peer-timeout-ms (5 s by default).
inline constexpr std::uint64_t kStuckAfterMs = 15'000;

// One remark per problem found, most fundamental first; empty when all is
// well. Each says what was seen and what to do.
// `known`, the node's peers, tells a peer that worked and went quiet (switched
// off?) from one that never connected (a firewall?).
std::vector<std::string> doctor_advice(const api::DiscoveryReport& report, const api::PeerList& known = {});
// The same for the store: records that do not decode, and how to repair them.
std::vector<std::string> store_advice(const api::NodeStatus& status);
// The same for the peers: each peer refused at the handshake (another strategy
// table, another protocol, ...), with the reason the node recorded, and each
// address this node dials that has never answered, with the likely causes.
std::vector<std::string> peer_advice(const api::PeerList& peers);

// The same for clocks: peers whose clock is further off this node's than
// --max-clock-skew-ms (refused at HELLO).
std::vector<std::string> clock_advice(const api::PeerList& peers, const api::NodeStatus& status);

// All of the above, store first; empty when all is well (doctor exits 0).
std::vector<std::string> all_advice(const api::DiscoveryReport& report, const api::NodeStatus& status,
                                    const api::PeerList& peers);

// The report and all the advice, as JSON (`--json`) and as text for people,
// with each known peer's clock offset.
json doctor_json(const api::DiscoveryReport& report, const api::NodeStatus& status = {},
                 const api::PeerList& peers = {});
void print_doctor(std::ostream& out, const api::DiscoveryReport& report, const api::NodeStatus& status = {},
                  const api::PeerList& peers = {});

}  // namespace shopsync::cli
