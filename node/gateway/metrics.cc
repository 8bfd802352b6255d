// /metrics in the Prometheus text exposition format, version 0.0.4.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "core/version_vector.h"
#include "node/gateway/gateway.h"
#include "node/gateway/gateway_metrics.h"

namespace shopsync::gateway {

namespace {

void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

// As "%.17g" writes it. Most samples are whole numbers (counts), written
// here without printf.
std::string number(double v) {
  constexpr double kExact = 9007199254740992.0;  // 2^53: every whole number below is a double
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < kExact && !(v == 0 && std::signbit(v))) {
    const auto end = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v)).ptr;
    return std::string(buf, end);
  }
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// The page, appended to one string (a scrape may come every few
// milliseconds while a benchmark waits for a count).
class Exposition {
 public:
  void family(const char* name, const char* type, const char* help) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  }
  void sample(std::string_view name, std::initializer_list<std::pair<const char*, std::string>> labels, double value) {
    out_.append(name);
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first) out_ += ',';
        out_.append(k).append("=\"");
        append_label_value(out_, v);
        out_ += '"';
        first = false;
      }
      out_ += '}';
    }
    out_.append(" ").append(number(value)).append("\n");
  }
  std::string str() && { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::vector<PeerSummary> Gateway::peer_summaries() const {
  if (hooks_.peers) return hooks_.peers();
  std::vector<PeerSummary> out;
  for (const auto& p : service_.replica_peers()) {
    out.push_back({p.id, "", "peer", p.connected ? "connected" : "disconnected", p.last_sync_ms});
  }
  return out;
}

HttpResponse Gateway::metrics() {
  Exposition e;
  e.family("shopsync_node_info", "gauge", "This node: id, cluster, role and name (value 1).");
  e.sample("shopsync_node_info",
           {{"node_id", node_id_text(service_.node_id())}, {"cluster", service_.cluster()}, {"role", options_.role},
            {"name", options_.node_name}},
           1);

  const app::RecordCounts counts = service_.counts();
  const std::uint64_t counter = service_.local_writes();
  // Only the entries added since the last scrape.
  auto added = service_.count_conflicts_after(metrics_->conflicts_seq);
  if (!added) return json_error(500, "storage", added.status().to_string());
  metrics_->conflicts_counted += *added;

  e.family("shopsync_records", "gauge", "Live (not deleted) records per collection.");
  for (const auto& [name, c] : counts) e.sample("shopsync_records", {{"collection", name}}, static_cast<double>(c.live));
  e.family("shopsync_records_conflicted", "gauge", "Records holding more than one sibling, per collection.");
  for (const auto& [name, c] : counts) {
    e.sample("shopsync_records_conflicted", {{"collection", name}}, static_cast<double>(c.conflicted));
  }
  e.family("shopsync_conflicts_total", "counter", "Entries in the conflict log (conflicts detected, all time).");
  e.sample("shopsync_conflicts_total", {}, static_cast<double>(metrics_->conflicts_counted));
  e.family("shopsync_node_writes_total", "counter", "Writes made at this node (its dot counter).");
  e.sample("shopsync_node_writes_total", {}, static_cast<double>(counter));
  e.family("shopsync_records_unreadable", "gauge",
           "Stored records found not to decode: skipped by reads and replication until overwritten or deleted.");
  e.sample("shopsync_records_unreadable", {},
           static_cast<double>(hooks_.unreadable_records ? hooks_.unreadable_records() : 0));

  const FullDiskState full = hooks_.full_disk ? hooks_.full_disk() : FullDiskState{};
  e.family("shopsync_writes_refused_disk_full_total", "counter", "Writes refused because the disk was full (since start).");
  e.sample("shopsync_writes_refused_disk_full_total", {}, static_cast<double>(full.refused_writes));
  e.family("shopsync_disk_full", "gauge", "1 while the disk is full (the last write was refused for it), else 0.");
  e.sample("shopsync_disk_full", {}, full.full_since_ms != 0 ? 1 : 0);

  const auto peers = peer_summaries();
  const auto stats = service_.replica_peers();
  std::uint64_t connected = 0;
  for (const auto& p : peers) connected += p.state == "connected";
  e.family("shopsync_peers", "gauge", "Known peers by link state.");
  e.sample("shopsync_peers", {{"state", "connected"}}, static_cast<double>(connected));
  e.sample("shopsync_peers", {{"state", "not_connected"}}, static_cast<double>(peers.size() - connected));
  e.family("shopsync_peer_lag_changes", "gauge", "Changes this node holds that the peer's knowledge lacks.");
  for (const auto& p : peers) {
    auto pending = service_.pending_changes(p.id);
    std::uint64_t total = 0;
    if (pending) {
      for (const auto& [c, n] : *pending) total += n;
    }
    e.sample("shopsync_peer_lag_changes", {{"peer", node_id_text(p.id)}, {"role", p.role}}, static_cast<double>(total));
  }
  e.family("shopsync_peer_last_sync_timestamp_seconds", "gauge", "Unix time of the last successful sync with the peer (0: never).");
  for (const auto& p : peers) {
    e.sample("shopsync_peer_last_sync_timestamp_seconds", {{"peer", node_id_text(p.id)}, {"role", p.role}},
             static_cast<double>(p.last_sync_ms) / 1000.0);
  }
  e.family("shopsync_peer_clock_offset_seconds", "gauge",
           "The peer's clock minus this node's, measured at its last HELLO (beyond --max-clock-skew-ms: refused).");
  for (const auto& p : peers) {
    e.sample("shopsync_peer_clock_offset_seconds", {{"peer", node_id_text(p.id)}, {"role", p.role}},
             static_cast<double>(p.clock_offset_ms) / 1000.0);
  }
  // Sync progress: one sample per peer a sync runs from (docs/operations.md, "Sync progress").
  struct ProgressGauge {
    const char* name;
    const char* help;
    std::uint64_t PeerSummary::*value;
    double scale;
  };
  const ProgressGauge progress_gauges[] = {
      {"shopsync_peer_sync_records_received", "Records received in the sync from the peer running now.",
       &PeerSummary::sync_records_received, 1.0},
      {"shopsync_peer_sync_records_total", "Estimated records in the sync from the peer running now (received + to go).",
       &PeerSummary::sync_records_total, 1.0},
      {"shopsync_peer_sync_bytes_received", "Bytes received in the sync from the peer running now.",
       &PeerSummary::sync_bytes_received, 1.0},
      {"shopsync_peer_sync_bytes_total", "Estimated bytes in the sync from the peer running now.",
       &PeerSummary::sync_bytes_total, 1.0},
      {"shopsync_peer_sync_records_per_second", "Records per second received over the last 10 s of the sync.",
       &PeerSummary::sync_rate, 1.0},
      {"shopsync_peer_sync_eta_seconds", "Estimated seconds left in the sync from the peer (0: not known yet).",
       &PeerSummary::sync_eta_ms, 0.001},
  };
  for (const auto& g : progress_gauges) {
    e.family(g.name, "gauge", g.help);
    for (const auto& p : peers) {
      if (p.syncing) e.sample(g.name, {{"peer", node_id_text(p.id)}, {"role", p.role}}, static_cast<double>(p.*g.value) * g.scale);
    }
  }
  e.family("shopsync_peer_records_received_total", "counter", "Records received from the peer, all time (kept across restarts).");
  for (const auto& p : stats) e.sample("shopsync_peer_records_received_total", {{"peer", node_id_text(p.id)}}, static_cast<double>(p.records_in));
  e.family("shopsync_peer_records_sent_total", "counter", "Records sent to the peer, all time (kept across restarts).");
  for (const auto& p : stats) e.sample("shopsync_peer_records_sent_total", {{"peer", node_id_text(p.id)}}, static_cast<double>(p.records_out));

  const HttpServerStats& h = server_->stats();
  e.family("shopsync_http_requests_total", "counter", "HTTP requests answered by the gateway, by route and status.");
  for (const auto& [k, n] : metrics_->requests) {
    e.sample("shopsync_http_requests_total", {{"route", k.first}, {"code", std::to_string(k.second)}}, static_cast<double>(n));
  }
  e.family("shopsync_http_request_duration_seconds", "histogram", "Time to answer a request, by route (sync_* are the sync durations).");
  for (const auto& [route, hist] : metrics_->durations) {
    for (std::size_t i = 0; i < kDurationBuckets.size(); ++i) {
      e.sample("shopsync_http_request_duration_seconds_bucket", {{"route", route}, {"le", number(kDurationBuckets[i])}},
               static_cast<double>(hist.buckets[i]));
    }
    e.sample("shopsync_http_request_duration_seconds_bucket", {{"route", route}, {"le", "+Inf"}}, static_cast<double>(hist.count));
    e.sample("shopsync_http_request_duration_seconds_sum", {{"route", route}}, hist.sum);
    e.sample("shopsync_http_request_duration_seconds_count", {{"route", route}}, static_cast<double>(hist.count));
  }
  e.family("shopsync_http_malformed_requests_total", "counter", "Requests refused by the HTTP parser (4xx before routing).");
  e.sample("shopsync_http_malformed_requests_total", {}, static_cast<double>(h.malformed));
  e.family("shopsync_http_unauthorized_total", "counter", "Requests refused for a missing or unknown token.");
  e.sample("shopsync_http_unauthorized_total", {}, static_cast<double>(metrics_->unauthorized));
  e.family("shopsync_http_scope_refused_total", "counter",
           "Writes refused because they are outside the token's write scope (nothing of them applied).");
  e.sample("shopsync_http_scope_refused_total", {}, static_cast<double>(metrics_->outside_scope));
  e.family("shopsync_http_received_bytes_total", "counter", "Bytes received on HTTP connections.");
  e.sample("shopsync_http_received_bytes_total", {}, static_cast<double>(h.bytes_in));
  e.family("shopsync_http_sent_bytes_total", "counter", "Bytes sent on HTTP connections.");
  e.sample("shopsync_http_sent_bytes_total", {}, static_cast<double>(h.bytes_out));
  e.family("shopsync_http_connections_open", "gauge", "HTTP connections open now.");
  e.sample("shopsync_http_connections_open", {}, static_cast<double>(h.open_connections));
  e.family("shopsync_http_connections_dropped_total", "counter",
           "HTTP connections the gateway closed itself, by reason (deadlines, caps, clients that do not read).");
  for (std::size_t i = 0; i < kDropReasons.size(); ++i) {
    e.sample("shopsync_http_connections_dropped_total", {{"reason", std::string(to_string(kDropReasons[i]))}},
             static_cast<double>(h.dropped[i]));
  }
  e.family("shopsync_http_log_lines_suppressed_total", "counter", "Gateway log lines left out by the rate limit.");
  e.sample("shopsync_http_log_lines_suppressed_total", {}, static_cast<double>(h.log_lines_suppressed));

  e.family("shopsync_sync_pushed_records_total", "counter", "Records received in /api/sync pushes.");
  e.sample("shopsync_sync_pushed_records_total", {}, static_cast<double>(metrics_->pushed_records));
  e.family("shopsync_sync_pulled_records_total", "counter", "Records sent in /api/sync pulls.");
  e.sample("shopsync_sync_pulled_records_total", {}, static_cast<double>(metrics_->pulled_records));
  e.family("shopsync_sync_push_errors_total", "counter", "Pushed records refused (reported in \"errors\").");
  e.sample("shopsync_sync_push_errors_total", {}, static_cast<double>(metrics_->push_errors));
  e.family("shopsync_sync_push_conflicts_total", "counter", "Pushed records that met a change made since the device last pulled.");
  for (const auto& [k, n] : metrics_->push_conflicts) {
    e.sample("shopsync_sync_push_conflicts_total", {{"strategy", k.first}, {"winner", k.second}}, static_cast<double>(n));
  }

  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = std::move(e).str();
  if (hooks_.more_metrics) r.body += hooks_.more_metrics();
  return r;
}

}  // namespace shopsync::gateway
