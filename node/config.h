// shopsyncd's configuration: command-line flags over an optional TOML file.
//
// parse_config() reads argv (and the file named by --config), applies the
// defaults documented in kUsage, and validates everything before the node
// touches its data directory. Flags win over the file: a scalar given as a flag
// replaces the file's; repeatable options (--peer, --strategy, --trust) add to
// the file's lists, and a --strategy for a collection the file also names
// replaces the file's entry. Every error names the flag, or the file and line,
// that is wrong; main() exits with code 2 on any of them.
//
// docs/operations.md describes each option and the file format.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/role.h"
#include "core/status.h"
#include "node/log.h"

namespace shopsync {

// How a peer became known to this node (kept in the peers table).
enum class PeerSource { static_peer, mdns, uplink, inbound };
std::string_view to_string(PeerSource source);

// "HOST:PORT" or "KEY@HOST:PORT" (KEY: the peer's CURVE public key in either
// text form of public_key_text.h). IPv6 hosts are written in brackets: "[::1]:7460".
struct PeerAddress {
  std::string host;
  std::uint16_t port = 0;
  std::string public_key;  // Z85; empty when not given
  std::string endpoint() const;  // "tcp://host:port"
  std::string to_string() const;  // as the operator wrote it (without the key)
  bool operator==(const PeerAddress&) const = default;
};

// Parses "HOST:PORT" / "KEY@HOST:PORT". invalid_argument naming the problem.
Result<PeerAddress> parse_peer_address(std::string_view text);

// Parses a bind address "HOST:PORT", "*:PORT" or "tcp://HOST:PORT" into a
// ZeroMQ endpoint "tcp://HOST:PORT".
Result<std::string> parse_bind_address(std::string_view text);

// The settings key under which the node keeps its name (written at every
// start), so that the inspector names a data directory's node.
inline constexpr std::string_view kNodeNameSetting = "node/name";

// Where the package installs the web console (CMake: share/shopsync/web).
inline constexpr std::string_view kDefaultWebRoot = "/usr/share/shopsync/web";

struct NodeConfig {
  std::filesystem::path data_dir;           // --data; default ~/.local/share/shopsync
  std::optional<std::string> cluster;       // --cluster; default: the pinned one, else "default"
  std::string name;                         // --name; default: the host name
  std::string listen = "tcp://*:7460";      // --listen: the sync ROUTER (IPv4 and IPv6)
  std::string api = "tcp://127.0.0.1:7461";   // --api: the local API (tcp:// or ipc://)
  // --api-auth: every local API request must carry DATA/api.token's credential
  // (api/api_credential.h); off: loopback or the socket file's permissions only.
  bool api_auth = false;
  std::string http;                         // --http: the HTTP gateway; empty = off
  // --web-root: the web console's files, served by the gateway at /
  // (docs/web-console.md); by default the package's, when installed.
  std::filesystem::path web_root = kDefaultWebRoot;
  bool web_root_given = false;              // --web-root was given: it must exist
  std::vector<PeerAddress> peers;           // --peer (repeatable)
  std::optional<PeerAddress> uplink;        // --uplink
  Role role = Role::peer;           // --role
  std::string postgres;                     // --postgres: libpq conninfo; empty = no PostgreSQL
  std::string postgres_mapping;             // --postgres-mapping: TOML file of typed tables (node/postgres/pg_mapping.h)
  std::map<std::string, std::string> strategies;  // --strategy COLLECTION=STRATEGY
  std::vector<std::string> trust;           // --trust KEY (repeatable, Z85 here): added to the trusted keys
  bool mdns = true;                         // --no-mdns turns it off
  std::vector<std::string> mdns_interfaces; // --mdns-interface (repeatable); empty = all
  std::uint32_t mdns_ttl_s = 120;           // --mdns-ttl: TTL of our PTR/SRV/TXT records
  bool insecure = false;                    // --insecure: no CURVE (development only)
  log::Level log_level = log::Level::info;  // --log-level
  // --durability: "commit" fsyncs every commit (survives power loss);
  // "interval" commits to the OS and flushes to disk every second (survives a
  // crash or kill -9 of the node; a power cut may undo the last second).
  bool sync_each_commit = true;

  // Session timing.
  std::uint32_t heartbeat_ms = 1000;        // --heartbeat-ms: idle link -> HEARTBEAT
  std::uint32_t peer_timeout_ms = 5000;     // --peer-timeout-ms: silence -> peer dead
  std::uint32_t max_clock_skew_ms = 5000;   // --max-clock-skew-ms: peers further off are refused, readings further ahead not adopted
  std::uint32_t pull_interval_ms = 30000;   // --pull-interval-ms: periodic safety-net pulls
  std::uint32_t progress_log_ms = 5000;     // --progress-log-ms: a running sync's progress is logged this often

  // HTTP gateway limits (docs/http-gateway.md).
  std::uint32_t http_head_timeout_ms = 10000;  // --http-head-timeout-ms: a request head must arrive within
  std::uint32_t http_body_timeout_ms = 60000;  // --http-body-timeout-ms: a body must arrive within
  std::uint32_t http_max_per_address = 32;     // --http-max-per-address: connections per client address
  std::uint32_t http_max_pipelined = 64;       // --http-max-pipelined: requests waiting on one connection
  std::vector<std::string> cors_origins;       // --cors-origin (repeatable): web origins allowed to call; "*": any
  bool http_login = false;                     // --http-login: the built-in POST /api/auth/login
  // JWTs of the business's auth server (docs/http-gateway.md, "JWT"); off
  // while jwt_algorithm is empty.
  std::string jwt_algorithm;                   // --jwt-algorithm HS256|RS256|ES256
  std::filesystem::path jwt_key_file;          // --jwt-key-file: the HS256 secret, or a PEM public key or JWKS
  std::string jwt_user_claim = "sub";          // --jwt-user-claim
  std::string jwt_device_claim = "deviceId";   // --jwt-device-claim
  std::string jwt_issuer;                      // --jwt-issuer: required "iss" [any]
  std::string jwt_audience;                    // --jwt-audience: required in "aud" [any]

  // Actions instead of running.
  bool show_help = false;                   // --help
  bool show_version = false;                // --version
  bool print_key = false;                   // --print-key: create the identity if needed, print the public key
};

// The full --help text.
std::string usage_text();

// The default data directory: $SHOPSYNC_DATA, else $HOME/.local/share/shopsync,
// else /var/lib/shopsync.
std::filesystem::path default_data_dir();

// argv[0] is skipped. invalid_argument naming the flag or file:line at fault.
Result<NodeConfig> parse_config(int argc, const char* const* argv);

// The settings of one config file alone: no flags, no defaults filled in
// (data_dir is empty when the file names none). For the tools that find the
// node from its config file (node_location.h).
Result<NodeConfig> read_config_file(const std::string& path);

// Strategy names the replication core accepts.
bool is_known_strategy(std::string_view name);

}  // namespace shopsync
