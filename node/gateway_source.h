// The HTTP gateway (--http; node/gateway/gateway.h) as a loop source of the
// node: its options taken from the configuration, bound, and polled by the
// node's loop. The gateway lives in the source's closures.
#pragma once

#include <functional>

#include "app/record_service.h"
#include "node/config.h"
#include "node/gateway/gateway.h"
#include "node/loop_source.h"

namespace shopsync {

class Node;

// What the gateway shows of the node beyond the service (peers with names
// and states, unreadable records, the full disk, `more_metrics`). `node`
// must outlive the gateway.
gateway::GatewayHooks node_gateway_hooks(Node& node, std::function<std::string()> more_metrics);

// Binds the gateway to config.http. `service` must outlive the source;
// `flush` runs after each turn that read requests (the peers are told of
// writes made through HTTP at once). Errors: invalid_argument (--jwt-* or
// --web-root), the gateway's (a port in use).
Result<LoopSource> open_gateway_source(void* zmq_context, const NodeConfig& config, app::RecordService& service,
                                       gateway::GatewayHooks hooks, std::function<void()> flush);

}  // namespace shopsync
