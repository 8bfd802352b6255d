#include "node/configured.h"

namespace shopsync {

std::vector<TrustedKeyRow> configured_keys(const NodeConfig& config, std::uint64_t now_ms) {
  std::vector<TrustedKeyRow> rows;
  for (const auto& key : config.trust) rows.push_back({key, "--trust", now_ms});
  for (const auto& peer : config.peers) {
    if (!peer.public_key.empty()) rows.push_back({peer.public_key, "--peer " + peer.to_string(), now_ms});
  }
  if (config.uplink && !config.uplink->public_key.empty()) {
    rows.push_back({config.uplink->public_key, "--uplink " + config.uplink->to_string(), now_ms});
  }
  return rows;
}

Result<StrategyTable> strategy_table_of(const NodeConfig& config) {
  StrategyTable table;
  for (const auto& [collection, name] : config.strategies) {
    auto kind = parse_strategy(name);
    if (!kind) return Status::invalid("unknown strategy '" + name + "' for collection " + collection);
    table.collections[collection] = *kind;
  }
  return table;
}

std::set<std::string> keys_of(const std::vector<TrustedKeyRow>& rows) {
  std::set<std::string> keys;
  for (const auto& row : rows) keys.insert(row.key);
  return keys;
}

std::vector<std::string> restart_only_changes(const NodeConfig& running, const NodeConfig& fresh) {
  std::vector<std::string> changed;
  auto check = [&](bool differs, const char* option) {
    if (differs) changed.emplace_back(option);
  };
  check(running.data_dir != fresh.data_dir, "data");
  check(fresh.cluster && fresh.cluster != running.cluster, "cluster");
  check(running.name != fresh.name, "name");
  check(running.listen != fresh.listen, "listen");
  check(running.api != fresh.api, "api");
  check(running.http != fresh.http, "http");
  check(running.peers != fresh.peers, "peer");
  check(running.uplink != fresh.uplink, "uplink");
  check(running.role != fresh.role, "role");
  check(running.mdns != fresh.mdns || running.mdns_interfaces != fresh.mdns_interfaces ||
            running.mdns_ttl_s != fresh.mdns_ttl_s,
        "mdns");
  check(running.insecure != fresh.insecure, "insecure");
  check(running.sync_each_commit != fresh.sync_each_commit, "durability");
  check(running.heartbeat_ms != fresh.heartbeat_ms || running.peer_timeout_ms != fresh.peer_timeout_ms ||
            running.max_clock_skew_ms != fresh.max_clock_skew_ms || running.pull_interval_ms != fresh.pull_interval_ms,
        "timings");
  check(running.http_head_timeout_ms != fresh.http_head_timeout_ms ||
            running.http_body_timeout_ms != fresh.http_body_timeout_ms ||
            running.http_max_per_address != fresh.http_max_per_address ||
            running.http_max_pipelined != fresh.http_max_pipelined,
        "http limits");
  return changed;
}

}  // namespace shopsync
