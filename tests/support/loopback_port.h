// A loopback TCP socket bound on a free port, listening when asked: a port
// where nothing listens (the kernel refuses) or where connections are
// taken by the kernel but nobody ever accepts or answers them. Closed when
// it goes away.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdint>

namespace shopsync::test {

struct LoopbackPort {
  explicit LoopbackPort(bool listen) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    BOOST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), len) == 0);
    BOOST_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
    if (listen) BOOST_REQUIRE(::listen(fd, 4) == 0);
  }
  ~LoopbackPort() { ::close(fd); }
  LoopbackPort(const LoopbackPort&) = delete;
  LoopbackPort& operator=(const LoopbackPort&) = delete;
  int fd = -1;
  std::uint16_t port = 0;
};

}  // namespace shopsync::test
