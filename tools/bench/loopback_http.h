// Plain TCP and HTTP on loopback for the benchmarks that talk to a node's
// gateway (sync reads /metrics, gateway-flood floods it).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace shopsync::bench {

// A TCP connection to 127.0.0.1:port from the loopback address `source`;
// -1 on failure.
int connect_from(const std::string& source, std::uint16_t port);

// The bytes sent (fewer when the server closed the connection meanwhile).
std::size_t send_all(int fd, const std::string& bytes);

// GET `path` from 127.0.0.1:port on a new connection: the whole answer
// (status line, head and body) when it began "HTTP/1.1 200" within `wait`.
std::optional<std::string> http_get(std::uint16_t port, const std::string& path,
                                    std::chrono::milliseconds wait = std::chrono::milliseconds(2000));

}  // namespace shopsync::bench
