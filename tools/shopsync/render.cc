#include "tools/shopsync/render.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "net/public_key_text.h"
#include "replication/grant.h"

namespace shopsync::cli {

namespace {

using api::hlc_millis;

std::string short_node(NodeId id) { return node_id_text(id); }

// One line of JSON, cut to `max` characters (0: whole).
std::string compact(const json& value, std::size_t max = 0) {
  std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (max > 3 && text.size() > max) text = text.substr(0, max - 3) + "...";
  return text;
}

}  // namespace

std::string format_time(std::uint64_t unix_ms) {
  if (unix_ms == 0) return "never";
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  char ms[8];
  std::snprintf(ms, sizeof ms, ".%03u", static_cast<unsigned>(unix_ms % 1000));
  return std::string(buf) + ms + "Z";
}

std::string format_duration(std::uint64_t ms) {
  if (ms < 1000) return std::to_string(ms) + " ms";
  const std::uint64_t s = ms / 1000;
  if (s < 120) return std::to_string(s) + " s";
  if (s < 7200) return std::to_string(s / 60) + " min";
  if (s < 2 * 86400) return std::to_string(s / 3600) + " h";
  return std::to_string(s / 86400) + " d";
}

namespace {
std::string format_mib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

}  // namespace

std::string format_sync_progress(const api::SyncProgress& p) {
  const std::uint64_t percent = p.records_total > 0 ? p.records_received * 100 / p.records_total : 0;
  return std::to_string(p.records_received) + " of ~" + std::to_string(p.records_total) + " records (" +
         std::to_string(percent) + "%), " + format_mib(p.bytes_received) + " of ~" + format_mib(p.bytes_total) +
         " MiB, " + std::to_string(p.rate) + " rec/s, ETA " + (p.rate > 0 ? format_duration(p.eta_ms) : "unknown");
}

void Table::print(std::ostream& out) const {
  std::vector<std::size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows_) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  }
}

void print_record(std::ostream& out, const api::RecordView& r) {
  out << r.key.collection << "/" << r.key.id << (r.deleted ? "  (deleted)" : "") << '\n';
  const json fields = fields_json(r.fields);
  std::size_t width = 0;
  for (auto it = fields.begin(); it != fields.end(); ++it) width = std::max(width, it.key().size());
  for (auto it = fields.begin(); it != fields.end(); ++it) {
    out << "  " << it.key() << std::string(width - it.key().size() + 2, ' ') << compact(it.value()) << '\n';
  }
  out << "version " << dot_text(r.dot) << ", updated " << format_time(hlc_millis(r.updated_at)) << '\n';
  if (r.sibling_count > 1) {
    out << (r.conflicted ? "CONFLICT: " : "") << r.sibling_count << " concurrent versions"
        << (r.conflicted ? " await a resolution (shopsync resolve " + r.key.collection + " " + r.key.id +
                               " --pick DOT)"
                         : " (the strategy chose the one shown)")
        << '\n';
    for (const auto& s : r.siblings) {
      out << "  " << dot_text(s.dot) << "  " << format_time(hlc_millis(s.updated_at)) << "  "
          << (s.deleted ? std::string("(deleted)") : compact(fields_json(s.fields), 100)) << '\n';
    }
  }
}

void print_list(std::ostream& out, const api::ListPage& page) {
  Table table({"ID", "UPDATED", "FIELDS"});
  for (const auto& r : page.records) {
    table.add({r.key.id + (r.conflicted ? " (!)" : ""), format_time(hlc_millis(r.updated_at)),
               compact(fields_json(r.fields), 80)});
  }
  table.print(out);
  out << page.records.size() << (page.records.size() == 1 ? " record" : " records");
  if (page.next_after) out << "; more after " << *page.next_after << " (--after " << *page.next_after << ")";
  out << '\n';
}

void print_collections(std::ostream& out, const api::CollectionList& list) {
  Table table({"COLLECTION", "RECORDS"});
  for (const auto& c : list.collections) table.add({c.name, std::to_string(c.records)});
  table.print(out);
}

void print_change(std::ostream& out, const api::Change& c) {
  out << format_time(hlc_millis(c.updated_at)) << "  " << (c.deleted ? "delete" : "put   ") << "  "
      << c.key.collection << "/" << c.key.id << "  " << dot_text(c.dot) << '\n';
}

void print_conflicts(std::ostream& out, const api::ConflictsPage& page) {
  if (page.open.empty()) {
    out << "No open conflicts.\n";
  } else {
    out << page.open.size() << " open conflict" << (page.open.size() == 1 ? "" : "s")
        << " (resolve with: shopsync resolve COLLECTION ID --pick DOT | --json '{...}'):\n";
    for (const auto& r : page.open) {
      out << "  " << r.key.collection << "/" << r.key.id << "  strategy " << r.strategy << ", showing "
          << dot_text(r.dot) << '\n';
      for (const auto& s : r.siblings) {
        out << "    " << dot_text(s.dot) << "  " << format_time(hlc_millis(s.updated_at)) << "  "
            << (s.deleted ? std::string("(deleted)") : compact(fields_json(s.fields), 100)) << '\n';
      }
    }
  }
  if (page.log.empty()) return;
  out << "\nConflict log:\n";
  Table table({"SEQ", "RECORD", "STRATEGY", "WINNER", "SIBLINGS", "DETECTED", "BY"});
  for (const auto& e : page.log) {
    table.add({std::to_string(e.seq), e.key.collection + "/" + e.key.id,
               e.strategy + (e.near_simultaneous ? " (near-simultaneous)" : ""), dot_text(e.winner),
               std::to_string(e.siblings.size()), format_time(hlc_millis(e.detected_at)), short_node(e.detected_by)});
  }
  table.print(out);
}

void print_status(std::ostream& out, const api::NodeStatus& s) {
  Table table({"node", node_id_text(s.node_id) + (s.name.empty() ? "" : "  (" + s.name + ")")});
  table.add({"cluster", s.cluster});
  table.add({"role", s.role.empty() ? "-" : s.role});
  if (!s.public_key.empty()) table.add({"key", format_public_key(s.public_key)});
  if (!s.version.empty()) table.add({"version", s.version});
  if (s.uptime_ms != 0) table.add({"uptime", format_duration(s.uptime_ms)});
  table.add({"clock", format_time(hlc_millis(s.clock))});
  std::string knowledge;
  for (const auto& [node, counter] : s.knowledge.entries()) {
    if (!knowledge.empty()) knowledge += ", ";
    knowledge += node_id_text(node) + ":" + std::to_string(counter);
  }
  table.add({"knowledge", knowledge.empty() ? "-" : knowledge});
  std::uint64_t total = 0;
  std::string per;
  for (const auto& c : s.collections) {
    total += c.records;
    if (!per.empty()) per += ", ";
    per += c.name + " " + std::to_string(c.records);
  }
  table.add({"records", std::to_string(total) + (per.empty() ? "" : "  (" + per + ")")});
  table.add({"conflicts", std::to_string(s.open_conflicts) + " open"});
  if (s.unreadable_records != 0) {
    table.add({"unreadable", std::to_string(s.unreadable_records) + " records do not decode (shopsync doctor)"});
  }
  if (s.disk_full_since_ms != 0) table.add({"disk", "full: writes refused (shopsync doctor)"});
  if (s.grants != 0) {
    table.add({"grant", grant_or_none(s.grant, s.admin_named) + "  (" + std::to_string(s.grants) + " in the cluster" +
                            (s.grant_needs_restart ? "; changed: restart shopsyncd to apply it" : "") + ")"});
  }
  if (!s.config_reload_error.empty()) {
    table.add({"config", "the last reload changed nothing: " + s.config_reload_error + " (shopsync doctor)"});
  }
  if (s.records_refused != 0) {
    table.add({"refused", std::to_string(s.records_refused) + " records from peers outside their grant (see the log)"});
  }
  for (const auto& p : s.pending) {
    std::string detail;
    for (const auto& [name, n] : p.per_collection) {
      if (!detail.empty()) detail += ", ";
      detail += name + " " + std::to_string(n);
    }
    table.add({"pending", "to " + node_id_text(p.peer) + (p.peer_name.empty() ? "" : " (" + p.peer_name + ")") +
                              ": " + std::to_string(p.total) + (detail.empty() ? "" : "  (" + detail + ")")});
  }
  if (s.pending.empty()) table.add({"pending", "no peers known"});
  for (const auto& p : s.syncing) {
    table.add({"syncing", "from " + node_id_text(p.peer) + (p.peer_name.empty() ? "" : " (" + p.peer_name + ")") +
                              ": " + format_sync_progress(p.progress)});
  }
  table.print(out);
}

void print_peers(std::ostream& out, const api::PeerList& list) {
  if (list.peers.empty()) {
    out << "No peers known.\n";
    return;
  }
  Table table({"NAME", "NODE", "STATE", "SESSIONS", "ADDRESS", "FOUND", "LAST SEEN", "LAST SYNC", "LAG", "IN", "OUT",
               "CLOCK", "ERROR"});
  for (const auto& p : list.peers) {
    std::string lag = std::to_string(p.lag_changes);
    if (p.lag_changes > 0) lag += " / " + format_duration(p.lag_ms);
    table.add({p.name.empty() ? "-" : p.name, p.node_id ? node_id_text(p.node_id) : "-", p.state,
               std::to_string(p.sessions), p.address.empty() ? "-" : p.address, p.found_by.empty() ? "-" : p.found_by,
               format_time(p.last_seen_ms), format_time(p.last_sync_ms), lag, std::to_string(p.records_in),
               std::to_string(p.records_out), std::to_string(p.clock_offset_ms) + " ms",
               p.last_error.empty() ? "-" : p.last_error});
  }
  table.print(out);
  for (const auto& p : list.peers) {
    if (p.syncing) out << "syncing from " << (p.name.empty() ? node_id_text(p.node_id) : p.name) << ": " << format_sync_progress(p.sync) << "\n";
  }
}

void print_keys(std::ostream& out, const api::TrustedKeyList& list) {
  if (list.keys.empty()) {
    out << "No trusted keys.\n";
  } else {
    Table table({"KEY", "NAME", "ADDED"});
    for (const auto& k : list.keys) table.add({format_public_key(k.key), k.name.empty() ? "-" : k.name, format_time(k.added_ms)});
    table.print(out);
  }
  if (list.revoked.empty()) return;
  out << "\nRevoked (refused even where --trust, --peer or --uplink names them; `shopsync trust add KEY` lifts it):\n";
  Table table({"KEY", "REVOKED"});
  for (const auto& k : list.revoked) table.add({format_public_key(k.key), format_time(k.revoked_ms)});
  table.print(out);
}

}  // namespace shopsync::cli
