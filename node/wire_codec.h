// The sync protocol's frames: what crosses a ZeroMQ sync socket between two
// nodes (docs/wire-format.md is the normative description; keep them in step).
//
// A frame is one ZeroMQ message part holding the MessagePack array
//   [protocol version, message type, flags, body]
// where body is a bin holding the MessagePack array of the message's fields,
// zstd-compressed when flags has kFlagZstd. Bodies only grow: a decoder reads
// the fields it knows and ignores trailing ones it does not.
//
// Decoding takes untrusted bytes: every size is bounded by WireLimits, nesting
// depth is bounded, trailing bytes after the frame or the body are rejected,
// and every failure is a DecodeError value (never an exception or a crash) that
// the caller answers with an ERROR frame.
//
// Thread-safety: the functions are reentrant (the zstd contexts they cache are
// per thread).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "core/role.h"
#include "replication/messages.h"
#include "storage/record.h"

namespace shopsync::wire {

// Protocol versions this build speaks. A peer whose range does not overlap is
// refused at HELLO with ERROR unsupported_version.
inline constexpr std::uint32_t kProtocolMin = 1;
inline constexpr std::uint32_t kProtocolMax = 2;
// GOODBYE exists from version 2: it is sent only on a link whose negotiated
// version is at least this, so an older peer never sees it.
inline constexpr std::uint32_t kGoodbyeSince = 2;

enum class MessageType : std::uint32_t {
  hello = 1,
  pull = 2,
  batch = 3,
  credit = 4,
  notify = 5,
  snapshot_required = 6,
  heartbeat = 7,
  error = 8,
  goodbye = 9,
};
std::string_view to_string(MessageType type);

inline constexpr std::uint32_t kFlagZstd = 1;  // body is a zstd frame

// First message on a link, both ways: who I am and what I know.
struct Hello {
  std::string cluster;
  NodeId node_id = 0;
  std::string name;
  Role role = Role::peer;
  std::uint32_t protocol_min = kProtocolMin;
  std::uint32_t protocol_max = kProtocolMax;
  VersionVector knowledge;
  std::uint64_t clock_ms = 0;   // sender's wall clock, ms since the Unix epoch
  std::uint16_t listen_port = 0;  // sender's sync port, so that a node it dialed can dial back (0 = unknown)
  // The sender's strategy table (replication/strategy_table.h): its digest
  // and its text, at most kMaxStrategiesText bytes (longer ones are cut and
  // end in "..."). Both empty from an older node, which did not send them.
  std::string strategies_digest;
  std::string strategies;
  // Drawn at random by the sender at each start of its process (0 from an
  // older node): two connections whose HELLOs carry the same non-zero value
  // reach the same running process, so a conversation can move from one to
  // the other without starting over (node/peering/handshake.cc, Peering::confirm).
  std::uint64_t incarnation = 0;
  bool operator==(const Hello&) const = default;
};

inline constexpr std::size_t kMaxStrategiesText = 4096;

// "Still here", sent on a link idle for the heartbeat interval.
struct Heartbeat {
  std::uint64_t clock_ms = 0;
  bool operator==(const Heartbeat&) const = default;
};

enum class ErrorCode : std::uint32_t {
  malformed = 1,            // the frame or body does not decode
  unknown_type = 2,         // a message type this node does not know
  unsupported_version = 3,  // no common protocol version
  wrong_cluster = 4,        // the peer belongs to another cluster
  not_ready = 5,            // a message other than HELLO before the handshake
  refused = 6,              // the peer is not allowed (e.g. its id is this node's own)
  too_large = 7,            // a size limit was exceeded
  internal = 8,             // this node failed to handle a valid message
  wrong_strategies = 9,     // the peer applies another strategy table (HELLO)
};
std::string_view to_string(ErrorCode code);

struct Error {
  std::uint32_t code = 0;  // an ErrorCode; unknown codes are kept as they came
  std::string text;
  bool operator==(const Error&) const = default;
};

// "I am going away" (a clean stop): the last message on a link; the peer
// ends the session at once instead of waiting for silence.
struct Goodbye {
  std::string reason;  // "stopped", at most 1024 bytes
  bool operator==(const Goodbye&) const = default;
};

using WireMessage = std::variant<Hello, Heartbeat, Error, Pull, Batch, Credit, Notify, SnapshotRequired, Goodbye>;
MessageType type_of(const WireMessage& message);

struct WireLimits {
  std::size_t max_frame_bytes = 32u << 20;   // also ZMQ_MAXMSGSIZE on every sync socket
  std::size_t max_body_bytes = 64u << 20;    // after decompression
  std::size_t max_elements = 200000;         // per array or map
  std::size_t max_string_bytes = 16u << 20;  // per str or bin
  std::size_t max_depth = 8;                 // nesting of arrays and maps
};

// Bodies at least this long are tried with zstd; the compressed form is sent
// only when it is smaller.
inline constexpr std::size_t kCompressMinBytes = 256;

// Encodes one frame at protocol `version`.
std::string encode(const WireMessage& message, std::uint32_t version = kProtocolMax);

struct Decoded {
  std::uint32_t version = 0;
  WireMessage message;
};

struct DecodeError {
  ErrorCode code = ErrorCode::malformed;
  std::string text;           // what was wrong, for the log and the ERROR reply
  std::uint32_t type = 0;     // the message type, when the header decoded
};

using DecodeResult = std::variant<Decoded, DecodeError>;

// Decodes one frame. Frames whose version is outside [kProtocolMin,
// kProtocolMax] fail with unsupported_version, unknown types with unknown_type.
DecodeResult decode(std::string_view bytes, const WireLimits& limits = {});

// The CURVE-independent maximum message size to configure on sockets.
inline std::int64_t max_message_size(const WireLimits& limits = {}) {
  return static_cast<std::int64_t>(limits.max_frame_bytes);
}

}  // namespace shopsync::wire
