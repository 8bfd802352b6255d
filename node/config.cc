// The one file that includes toml11.
#include "node/config.h"

#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <functional>

#include <toml.hpp>

#include "api/api_client.h"
#include "net/public_key_text.h"
#include "node/gateway/cors.h"
#include "storage/record.h"

namespace shopsync {

namespace {

constexpr std::string_view kStrategies[] = {"newest_wins", "server_wins", "client_wins", "merge", "manual"};

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "shopsync-node";
  std::string name(buf);
  if (auto dot = name.find('.'); dot != std::string::npos) name.resize(dot);
  return name;
}

Result<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return Status::invalid("'" + std::string(text) + "' is not a port number (1-65535)");
  }
  return static_cast<std::uint16_t>(value);
}

Result<std::uint32_t> parse_u32(std::string_view text) {
  std::uint32_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Status::invalid("'" + std::string(text) + "' is not a non-negative integer");
  }
  return value;
}

// Splits "HOST:PORT" / "[V6]:PORT".
Status split_host_port(std::string_view text, std::string& host, std::uint16_t& port) {
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Status::invalid("'" + std::string(text) + "' is not [IPV6]:PORT");
    }
    host = std::string(text.substr(0, close + 1));
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return Status::invalid("'" + std::string(text) + "' has no :PORT");
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (host.empty()) return Status::invalid("'" + std::string(text) + "' has no host");
  auto p = parse_port(port_text);
  if (!p) return p.status();
  port = *p;
  return Status::ok();
}

Status validate_cluster(std::string_view name) {
  if (name.empty() || name.size() > 63) return Status::invalid("a cluster name has 1 to 63 characters");
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.';
    if (!ok) return Status::invalid("cluster name '" + std::string(name) + "' may use only A-Z a-z 0-9 _ - .");
  }
  return Status::ok();
}

Status validate_node_name(std::string_view name) {
  if (name.empty() || name.size() > 63) return Status::invalid("a node name has 1 to 63 bytes");
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return Status::invalid("a node name has no control characters");
  }
  return Status::ok();
}

Status apply_strategy(NodeConfig& config, std::string_view text) {
  auto eq = text.find('=');
  if (eq == std::string_view::npos) return Status::invalid("'" + std::string(text) + "' is not COLLECTION=STRATEGY");
  std::string collection(text.substr(0, eq));
  std::string strategy(text.substr(eq + 1));
  SHOPSYNC_TRY(validate_collection_name(collection));
  if (!is_known_strategy(strategy)) {
    return Status::invalid("unknown strategy '" + strategy +
                           "' (newest_wins, server_wins, client_wins, merge or manual)");
  }
  config.strategies[collection] = strategy;
  return Status::ok();
}

Status apply_trust(NodeConfig& config, std::string_view text) {
  auto key = parse_public_key(text);
  if (!key) return key.status();
  config.trust.push_back(std::move(key).value());
  return Status::ok();
}

// One setting, by its long name, from a flag or the file. `value` is nullopt
// for the boolean switches.
Status apply_setting(NodeConfig& config, std::string_view name, const std::string& value) {
  if (name == "data") {
    if (value.empty()) return Status::invalid("the data directory is empty");
    config.data_dir = value;
  } else if (name == "cluster") {
    SHOPSYNC_TRY(validate_cluster(value));
    config.cluster = value;
  } else if (name == "name") {
    SHOPSYNC_TRY(validate_node_name(value));
    config.name = value;
  } else if (name == "api" && (value.starts_with("ipc://") || value.starts_with("/") || value.starts_with("./"))) {
    auto endpoint = api::parse_api_address(value);  // a Unix socket: its file's permissions guard it
    if (!endpoint) return endpoint.status();
    config.api = *endpoint;
  } else if (name == "listen" || name == "api" || name == "http") {
    auto endpoint = parse_bind_address(value);
    if (!endpoint) return endpoint.status();
    (name == "listen" ? config.listen : name == "api" ? config.api : config.http) = *endpoint;
  } else if (name == "web-root") {
    if (value.empty()) return Status::invalid("--web-root needs a directory");
    config.web_root = value;
    config.web_root_given = true;
  } else if (name == "mdns-interface") {
    if (value.empty() || value.size() > 15 || value.find_first_of("/ \t") != std::string::npos) {
      return Status::invalid("'" + value + "' is not an interface name");
    }
    config.mdns_interfaces.push_back(value);
  } else if (name == "peer") {
    auto peer = parse_peer_address(value);
    if (!peer) return peer.status();
    config.peers.push_back(*peer);
  } else if (name == "uplink") {
    auto peer = parse_peer_address(value);
    if (!peer) return peer.status();
    config.uplink = *peer;
  } else if (name == "postgres") {
    if (value.empty()) return Status::invalid("an empty PostgreSQL connection string");
    config.postgres = value;
  } else if (name == "postgres-mapping") {
    if (value.empty()) return Status::invalid("the file name is empty");
    config.postgres_mapping = value;
  } else if (name == "role") {
    auto role = parse_role(value);
    if (!role) return role.status();
    config.role = *role;
  } else if (name == "strategy") {
    SHOPSYNC_TRY(apply_strategy(config, value));
  } else if (name == "trust") {
    SHOPSYNC_TRY(apply_trust(config, value));
  } else if (name == "durability") {
    if (value == "commit") {
      config.sync_each_commit = true;
    } else if (value == "interval") {
      config.sync_each_commit = false;
    } else {
      return Status::invalid("durability '" + value + "' is neither 'commit' nor 'interval'");
    }
  } else if (name == "log-level") {
    auto level = log::parse_level(value);
    if (!level) return Status::invalid("log level '" + value + "' is not debug, info, warn or error");
    config.log_level = *level;
  } else if (name == "mdns-ttl") {
    auto v = parse_u32(value);
    if (!v) return v.status();
    if (*v < 1 || *v > 4500) return Status::invalid("must be 1 to 4500 seconds");
    config.mdns_ttl_s = *v;
  } else if (name == "heartbeat-ms" || name == "peer-timeout-ms" || name == "max-clock-skew-ms" ||
             name == "pull-interval-ms" || name == "progress-log-ms") {
    auto v = parse_u32(value);
    if (!v) return v.status();
    if (*v == 0) return Status::invalid("must be greater than 0");
    if (name == "heartbeat-ms") config.heartbeat_ms = *v;
    if (name == "peer-timeout-ms") config.peer_timeout_ms = *v;
    if (name == "max-clock-skew-ms") config.max_clock_skew_ms = *v;
    if (name == "pull-interval-ms") config.pull_interval_ms = *v;
    if (name == "progress-log-ms") config.progress_log_ms = *v;
  } else if (name == "cors-origin") {
    SHOPSYNC_TRY(gateway::validate_cors_origin(value));
    config.cors_origins.push_back(value);
  } else if (name == "jwt-algorithm") {
    if (value != "HS256" && value != "RS256" && value != "ES256") return Status::invalid("must be HS256, RS256 or ES256");
    config.jwt_algorithm = value;
  } else if (name == "jwt-key-file") {
    if (value.empty()) return Status::invalid("the file name is empty");
    config.jwt_key_file = value;
  } else if (name == "jwt-user-claim" || name == "jwt-device-claim" || name == "jwt-issuer" || name == "jwt-audience") {
    if (name == "jwt-user-claim" && value.empty()) return Status::invalid("the user claim must be named");
    (name == "jwt-user-claim"     ? config.jwt_user_claim
     : name == "jwt-device-claim" ? config.jwt_device_claim
     : name == "jwt-issuer"       ? config.jwt_issuer
                                  : config.jwt_audience) = value;
  } else if (name == "http-head-timeout-ms" || name == "http-body-timeout-ms" || name == "http-max-per-address" ||
             name == "http-max-pipelined") {
    auto v = parse_u32(value);
    if (!v) return v.status();
    if (*v == 0) return Status::invalid("must be greater than 0");
    if (name == "http-head-timeout-ms") config.http_head_timeout_ms = *v;
    if (name == "http-body-timeout-ms") config.http_body_timeout_ms = *v;
    if (name == "http-max-per-address") config.http_max_per_address = *v;
    if (name == "http-max-pipelined") config.http_max_pipelined = *v;
  } else {
    return Status::invalid("unknown option");
  }
  return Status::ok();
}

// Options that take a value (long names without "--").
bool takes_value(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "config", "data",     "cluster",  "name",      "listen",       "api",             "http",
      "peer",   "uplink",   "role",     "strategy",  "trust",        "log-level",       "heartbeat-ms", "durability",
      "peer-timeout-ms",    "max-clock-skew-ms",     "pull-interval-ms", "progress-log-ms", "mdns-ttl", "mdns-interface",
      "http-head-timeout-ms", "http-body-timeout-ms", "http-max-per-address", "http-max-pipelined", "cors-origin",
      "jwt-algorithm", "jwt-key-file", "jwt-user-claim", "jwt-device-claim", "jwt-issuer", "jwt-audience", "web-root",
      "postgres", "postgres-mapping"};
  for (auto n : kNames) {
    if (n == name) return true;
  }
  return false;
}

std::string line_of(const toml::value& v) {
  const auto loc = v.location();
  return loc.file_name() + ":" + std::to_string(loc.line());
}

Status load_file(NodeConfig& config, const std::string& path) {
  toml::value root;
  try {
    root = toml::parse(path);
  } catch (const toml::syntax_error& e) {
    return Status::invalid("config file " + path + " is not valid TOML:\n" + e.what());
  } catch (const std::exception& e) {
    return Status::invalid("cannot read config file " + path + ": " + e.what());
  }
  if (!root.is_table()) return Status::invalid("config file " + path + " is not a TOML table");
  try {
    for (const auto& [key, value] : root.as_table()) {
      const std::string where = line_of(value) + ": ";
      // `&key = key`: clang 14 cannot capture a structured binding (fuzz build).
      auto fail = [&, &key = key](const std::string& why) { return Status::invalid(where + "'" + key + "' " + why); };
      if (key == "peers" || key == "trust" || key == "mdns-interfaces" || key == "cors-origins") {
        if (!value.is_array()) return fail("must be an array of strings");
        for (const auto& item : value.as_array()) {
          if (!item.is_string()) return Status::invalid(line_of(item) + ": '" + key + "' entries must be strings");
          const char* setting = key == "peers"          ? "peer"
                                : key == "trust"        ? "trust"
                                : key == "cors-origins" ? "cors-origin"
                                                        : "mdns-interface";
          Status s = apply_setting(config, setting, item.as_string().str);
          if (!s) return Status::invalid(line_of(item) + ": " + key + ": " + s.message());
        }
      } else if (key == "strategies") {
        if (!value.is_table()) return fail("must be a table of COLLECTION = \"STRATEGY\"");
        for (const auto& [collection, strategy] : value.as_table()) {
          if (!strategy.is_string()) return Status::invalid(line_of(strategy) + ": strategy of '" + collection + "' must be a string");
          Status s = apply_strategy(config, collection + "=" + strategy.as_string().str);
          if (!s) return Status::invalid(line_of(strategy) + ": " + s.message());
        }
      } else if (key == "mdns" || key == "insecure" || key == "http-login" || key == "api-auth") {
        if (!value.is_boolean()) return fail("must be true or false");
        (key == "mdns"       ? config.mdns
         : key == "insecure" ? config.insecure
         : key == "api-auth" ? config.api_auth
                             : config.http_login) = value.as_boolean();
      } else if (key == "heartbeat-ms" || key == "peer-timeout-ms" || key == "max-clock-skew-ms" ||
                 key == "pull-interval-ms" || key == "progress-log-ms" || key == "mdns-ttl" || key == "http-head-timeout-ms" ||
                 key == "http-body-timeout-ms" || key == "http-max-per-address" || key == "http-max-pipelined") {
        if (!value.is_integer() || value.as_integer() <= 0 || value.as_integer() > 0xffffffffLL) {
          return fail("must be a positive integer");
        }
        Status s = apply_setting(config, key, std::to_string(value.as_integer()));
        if (!s) return fail(s.message());
      } else if (key == "data" || key == "cluster" || key == "name" || key == "listen" || key == "api" ||
                 key == "http" || key == "uplink" || key == "role" || key == "log-level" || key == "durability" ||
                 key.starts_with("jwt-") || key == "web-root" || key == "postgres" ||
                 key == "postgres-mapping") {
        if (!value.is_string()) return fail("must be a string");
        Status s = apply_setting(config, key, value.as_string().str);
        if (!s) return fail(s.message());
      } else {
        return fail("is not a known setting (see shopsyncd --help)");
      }
    }
  } catch (const std::exception& e) {
    return Status::invalid("config file " + path + ": " + e.what());
  }
  return Status::ok();
}

}  // namespace

std::string_view to_string(PeerSource source) {
  switch (source) {
    case PeerSource::static_peer: return "static";
    case PeerSource::mdns: return "mdns";
    case PeerSource::uplink: return "uplink";
    case PeerSource::inbound: return "inbound";
  }
  return "?";
}

std::string PeerAddress::endpoint() const { return "tcp://" + host + ":" + std::to_string(port); }
std::string PeerAddress::to_string() const { return host + ":" + std::to_string(port); }

Result<PeerAddress> parse_peer_address(std::string_view text) {
  PeerAddress out;
  // A host never contains '@' but a Z85 key may: the key ends at the last one.
  if (auto at = text.rfind('@'); at != std::string_view::npos) {
    auto key = parse_public_key(text.substr(0, at));
    if (!key) return key.status();
    out.public_key = std::move(key).value();
    text.remove_prefix(at + 1);
  }
  SHOPSYNC_TRY(split_host_port(text, out.host, out.port));
  if (out.host == "*" || out.host == "0.0.0.0") return Status::invalid("a peer address needs a real host, not " + out.host);
  return out;
}

Result<std::string> parse_bind_address(std::string_view text) {
  if (text.starts_with("tcp://")) text.remove_prefix(6);
  std::string host;
  std::uint16_t port = 0;
  SHOPSYNC_TRY(split_host_port(text, host, port));
  return "tcp://" + host + ":" + std::to_string(port);  // "*": every address (and IPv6 where the socket allows)
}

bool is_known_strategy(std::string_view name) {
  for (auto s : kStrategies) {
    if (s == name) return true;
  }
  return false;
}

std::filesystem::path default_data_dir() {
  if (const char* d = std::getenv("SHOPSYNC_DATA"); d && *d) return d;
  if (const char* home = std::getenv("HOME"); home && *home) return std::filesystem::path(home) / ".local/share/shopsync";
  return "/var/lib/shopsync";
}

std::string usage_text() {
  return R"(usage: shopsyncd [OPTIONS]

Runs a shopsync node: stores records in DIR, finds peers on the LAN (mDNS) and
through --peer/--uplink, and keeps every node of the cluster identical.

Options (flags win over the config file; defaults in brackets):
  --config FILE            read settings from a TOML file first [none]
  --data DIR               data directory [$SHOPSYNC_DATA, else ~/.local/share/shopsync]
  --cluster NAME           cluster to join; pinned at first start, a later start
                           with another name is refused [the pinned one, else "default"]
  --name NAME              this node's name, shown to peers [the host name]
  --listen ADDR            sync port (ZeroMQ ROUTER, CURVE), IPv4 and IPv6 [*:7460]
  --api ADDR               local API for applications and the CLI: HOST:PORT, or
                           ipc://PATH for a Unix socket [127.0.0.1:7461]
  --api-auth               the local API answers only requests that carry the
                           credential in DATA/api.token (made at start, mode 0640) [off]
  --http ADDR              HTTP gateway (sync endpoints, /metrics) [off]
  --web-root DIR           the web console's files, served by --http at /
                           [/usr/share/shopsync/web when it exists]
  --http-head-timeout-ms N a request head must arrive within N ms, else 408 [10000]
  --http-body-timeout-ms N a request body must arrive within N ms of its head [60000]
  --http-max-per-address N HTTP connections open per client address [32]
  --http-max-pipelined N   requests waiting on one HTTP connection; beyond, 503 [64]
  --cors-origin ORIGIN     a web origin (https://shop.example) whose pages may call
                           the gateway; repeatable; * for any [none]
  --http-login             serve POST /api/auth/login for users of `shopsync user` [off]
  --jwt-algorithm ALG      accept JWTs of your auth server: HS256, RS256 or ES256 [off]
  --jwt-key-file FILE      the HS256 secret, or the PEM public key or JWKS (RS256/ES256)
  --jwt-user-claim NAME    the claim naming the user [sub]
  --jwt-device-claim NAME  the claim binding a token to a deviceId [deviceId]
  --jwt-issuer ISS         require this "iss" [any]
  --jwt-audience AUD       require this in "aud" [any]
  --peer [KEY@]HOST:PORT   static peer; repeatable. Without KEY every trusted key
                           is tried; with KEY the key is also added to the trusted keys
  --uplink [KEY@]HOST:PORT the uplink (cloud) node to sync with when reachable [none]
  --role peer|uplink       this node's role [peer]
  --postgres CONNINFO      keep a PostgreSQL database in step with the cluster, both ways
                           (libpq conninfo; docs/uplink.md, "PostgreSQL") [none]
  --postgres-mapping FILE  collections kept in existing typed tables (TOML; docs/uplink.md,
                           "Typed tables") [none: the default layout]
  --strategy COLL=STRATEGY conflict strategy of a collection; repeatable. STRATEGY is
                           newest_wins, server_wins, client_wins, merge or manual [newest_wins]
  --trust KEY              add a peer's CURVE public key to the trusted keys; repeatable
  --no-mdns                do not announce or browse on mDNS [mDNS on]
  --mdns-interface NAME    use only this interface for mDNS; repeatable [every
                           multicast-capable interface that is up]
  --mdns-ttl SECONDS       TTL of our mDNS records: a node that vanishes without
                           a goodbye is forgotten this long after [120]
  --insecure               no CURVE encryption or authentication: development only [off]
  --log-level LEVEL        debug, info, warn or error [info]
  --durability MODE        commit: fsync every commit, survives power loss;
                           interval: commits reach the OS at once (a crash or
                           kill -9 of the node loses nothing) and the disk every
                           second (a power cut may undo the last second) [commit]
  --heartbeat-ms N         heartbeat on an idle peer link every N ms [1000]
  --peer-timeout-ms N      a peer silent for N ms is dead and reconnected [5000]
  --max-clock-skew-ms N    refuse peers whose clock is further off [5000]
  --pull-interval-ms N     periodic safety-net pull from each peer [30000]
  --progress-log-ms N      log the progress of a running sync every N ms [5000]
  --print-key              create the node identity if needed, print its public key, exit
  --version                print the version and exit
  --help                   print this text and exit
  --                       ends the options

A KEY is written as `shopsync key` and --print-key show it (56 letters and
digits in groups of four, any case, dashes optional) or in Z85 (40 characters).

Exit codes: 0 clean stop, 1 runtime failure, 2 bad option or config file.
)";
}

Result<NodeConfig> read_config_file(const std::string& path) {
  NodeConfig config;
  SHOPSYNC_TRY(load_file(config, path));
  return config;
}

Result<NodeConfig> parse_config(int argc, const char* const* argv) {
  NodeConfig config;
  // Flags as (name, value) pairs first, so that --config is read before them.
  struct Flag {
    std::string name;
    std::string value;
  };
  std::vector<Flag> flags;
  std::string config_file;
  bool options_ended = false;  // after "--": shopsyncd has no operands, so whatever follows is refused
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--" && !options_ended) {
      options_ended = true;
      continue;
    }
    if (options_ended || !arg.starts_with("--") || arg.size() == 2) {
      return Status::invalid("'" + std::string(arg) + "': unexpected argument (options start with --; see --help)");
    }
    std::string name(arg.substr(2));
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (name == "help" || name == "version" || name == "print-key" || name == "no-mdns" || name == "insecure" ||
        name == "mdns" || name == "http-login" || name == "api-auth") {
      if (value) return Status::invalid("--" + name + " takes no value");
      if (name == "help") config.show_help = true;
      flags.push_back({name, ""});
      continue;
    }
    if (!takes_value(name)) return Status::invalid("--" + name + ": unknown option (see --help)");
    if (!value) {
      if (i + 1 >= argc) return Status::invalid("--" + name + " needs a value");
      value = argv[++i];
    }
    if (name == "config") {
      config_file = *value;
    } else {
      flags.push_back({name, *value});
    }
  }
  if (config.show_help) return config;
  if (!config_file.empty()) SHOPSYNC_TRY(load_file(config, config_file));
  for (const auto& f : flags) {
    if (f.name == "version") {
      config.show_version = true;
    } else if (f.name == "print-key") {
      config.print_key = true;
    } else if (f.name == "no-mdns") {
      config.mdns = false;
    } else if (f.name == "mdns") {
      config.mdns = true;
    } else if (f.name == "insecure") {
      config.insecure = true;
    } else if (f.name == "http-login") {
      config.http_login = true;
    } else if (f.name == "api-auth") {
      config.api_auth = true;
    } else if (Status s = apply_setting(config, f.name, f.value); !s) {
      return Status::invalid("--" + f.name + " " + f.value + ": " + s.message());
    }
  }
  if (config.data_dir.empty()) config.data_dir = default_data_dir();
  if (config.name.empty()) config.name = host_name();
  if (config.heartbeat_ms >= config.peer_timeout_ms) {
    return Status::invalid("--heartbeat-ms must be smaller than --peer-timeout-ms");
  }
  return config;
}

}  // namespace shopsync
