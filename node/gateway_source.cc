#include "node/gateway_source.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "node/log.h"
#include "node/node.h"

namespace shopsync {

namespace {

// The key of --jwt-key-file: an HS256 secret (one trailing newline left
// out, as editors add one), a PEM public key or a JWKS.
Result<std::string> read_jwt_key(const std::filesystem::path& file, const std::string& algorithm) {
  if (file.empty()) return Status::invalid("--jwt-algorithm " + algorithm + " needs --jwt-key-file");
  std::ifstream in(file, std::ios::binary);
  if (!in) return Status::io_error("cannot read " + file.string());
  std::stringstream text;
  text << in.rdbuf();
  std::string key = text.str();
  if (algorithm == "HS256" && key.ends_with('\n')) key.pop_back();
  if (algorithm == "HS256" && key.ends_with('\r')) key.pop_back();
  if (key.empty()) return Status::invalid(file.string() + " is empty");
  return key;
}

Result<gateway::GatewayOptions> gateway_options(const NodeConfig& cfg) {
  gateway::GatewayOptions options;
  options.node_name = cfg.name;
  options.role = std::string(to_string(cfg.role));
  options.http.head_timeout = std::chrono::milliseconds(cfg.http_head_timeout_ms);
  options.http.body_timeout = std::chrono::milliseconds(cfg.http_body_timeout_ms);
  options.http.max_connections_per_address = cfg.http_max_per_address;
  options.http.max_pipelined = cfg.http_max_pipelined;
  options.http.log = [](std::string_view line) { SHOPSYNC_LOG(warn, line); };
  options.cors_origins = cfg.cors_origins;
  options.login = cfg.http_login;
  if (!cfg.jwt_algorithm.empty()) {
    auto key = read_jwt_key(cfg.jwt_key_file, cfg.jwt_algorithm);
    if (!key) return key.status().context("--jwt-key-file");
    options.jwt = gateway::JwtOptions{cfg.jwt_algorithm, *key, cfg.jwt_user_claim, cfg.jwt_device_claim,
                                      cfg.jwt_issuer, cfg.jwt_audience};
  }
  std::error_code no_dir;
  if (std::filesystem::is_directory(cfg.web_root, no_dir)) {
    options.web_root = cfg.web_root;
  } else if (cfg.web_root_given) {
    return Status::invalid("--web-root " + cfg.web_root.string() + ": no such directory");
  }
  return options;
}

}  // namespace

gateway::GatewayHooks node_gateway_hooks(Node& node, std::function<std::string()> more_metrics) {
  gateway::GatewayHooks hooks;
  Node* self = &node;
  hooks.peers = [self] {
    std::vector<gateway::PeerSummary> out;
    for (const auto& p : self->peering().peer_view()) {
      gateway::PeerSummary summary{p.node_id, p.name, std::string(to_string(p.role)), self->peering().peer_state(p.node_id),
                                   p.sync.last_sync_ms, p.clock_offset_ms};
      if (auto progress = self->peering().sync_progress(p.node_id, self->now_ms())) {
        summary.syncing = true;
        summary.sync_records_received = progress->records_received;
        summary.sync_records_total = progress->records_total;
        summary.sync_bytes_received = progress->bytes_received;
        summary.sync_bytes_total = progress->bytes_total;
        summary.sync_rate = progress->rate;
        summary.sync_eta_ms = progress->eta_ms;
      }
      out.push_back(std::move(summary));
    }
    return out;
  };
  hooks.unreadable_records = [self] { return static_cast<std::uint64_t>(self->store().unreadable().count()); };
  hooks.full_disk = [self] { return self->store().full_disk(); };
  hooks.more_metrics = std::move(more_metrics);
  return hooks;
}

Result<LoopSource> open_gateway_source(void* zmq_context, const NodeConfig& config, app::RecordService& service,
                                       gateway::GatewayHooks hooks, std::function<void()> flush) {
  auto options = gateway_options(config);
  if (!options) return options.status();
  auto gw = gateway::Gateway::bind(zmq_context, config.http, service, std::move(*options), std::move(hooks));
  if (!gw) return gw.status().context("starting the HTTP gateway (--http)");
  std::shared_ptr<gateway::Gateway> g = std::move(*gw);
  SHOPSYNC_LOG(info, "HTTP gateway on " << g->endpoint());
  return LoopSource{
      [g](std::vector<zmq::PollEntry>& entries) {
        entries.push_back({g->socket()});
        auto deadline = g->next_deadline();
        if (!deadline) return -1;
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - gateway::HttpServer::Clock::now());
        return static_cast<int>(std::clamp<std::int64_t>(wait.count(), 0, 60'000));
      },
      [g, flush = std::move(flush)](std::span<const zmq::PollEntry> entries) {
        if (!entries.empty() && entries[0].readable) {
          if (Status s = g->on_readable(); !s) SHOPSYNC_LOG(error, "HTTP gateway: " << s.to_string());
          flush();  // NOTIFY peers of writes made through HTTP at once
        }
        if (auto d = g->next_deadline(); d && *d <= gateway::HttpServer::Clock::now()) g->on_timer();
      }};
}

}  // namespace shopsync
