# Every dependency comes from a Debian 12 package; nothing is downloaded.
#   liblmdb-dev, libzmq3-dev, cppzmq-dev, libmsgpack-cxx-dev, libavahi-core-dev,
#   libzstd-dev, libsodium-dev, zlib1g-dev, libjwt-dev, nlohmann-json3-dev, libtoml11-dev, libboost-test-dev
find_package(PkgConfig REQUIRED)
pkg_check_modules(LMDB REQUIRED IMPORTED_TARGET lmdb)
# libzmq: only its library. Its pkg-config Cflags name the headers of its
# private dependencies (krb5, pgm, libxml2), which zmq.h does not include; CMake
# files the krb5 one differently on a second configure, which rebuilt every
# ZeroMQ user after the README's other command.
pkg_check_modules(ZMQ REQUIRED libzmq)
add_library(shopsync_zmq INTERFACE)
target_link_libraries(shopsync_zmq INTERFACE ${ZMQ_LINK_LIBRARIES})
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
# The HTTP gateway: gzip bodies (zlib), JWT verification (libjwt 1.10).
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)
pkg_check_modules(JWT REQUIRED IMPORTED_TARGET libjwt)
pkg_check_modules(AVAHI_CORE REQUIRED IMPORTED_TARGET avahi-core)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)  # the uplink's PostgreSQL link (node/postgres/)
find_package(cppzmq REQUIRED)
find_package(msgpack-cxx REQUIRED CONFIG NAMES msgpackc-cxx msgpack-cxx msgpack)  # Debian 12 ships cmake/msgpackc-cxx/msgpack-config.cmake
find_package(nlohmann_json REQUIRED)
find_package(toml11 REQUIRED)
find_package(Threads REQUIRED)

# msgpack-c's C++ API without its optional Boost parts.
add_library(shopsync_msgpack INTERFACE)
target_link_libraries(shopsync_msgpack INTERFACE msgpackc-cxx)
target_compile_definitions(shopsync_msgpack INTERFACE MSGPACK_NO_BOOST)
