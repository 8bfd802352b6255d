#include "tools/inspect/render.h"

#include <cstdio>

#include "replication/grant.h"

namespace shopsync::inspect {

namespace {

using Lines = std::vector<std::string>;

std::string str(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return dump(v);
}

std::string pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string rpad(const std::string& s, std::size_t width) {
  return s.size() < width ? std::string(width - s.size(), ' ') + s : s;
}

std::string when(const json& hlc_or_time) {
  if (!hlc_or_time.is_object()) return "-";
  return hlc_or_time.value("time", std::string("-"));
}

std::string vv_text(const json& vv) {
  if (!vv.is_object()) return "-";
  if (vv.empty()) return "(empty)";
  std::string out;
  for (const auto& [node, counter] : vv.items()) {
    if (!out.empty()) out += ", ";
    out += node + ":" + str(counter);
  }
  return out;
}

std::string bytes_text(std::uint64_t b) {
  char buf[32];
  if (b >= (1ull << 30)) {
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(b) / (1ull << 30));
  } else if (b >= (1ull << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(b) / (1ull << 20));
  } else if (b >= 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(b) / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  }
  return buf;
}

std::string ms_ago(const json& ago) {
  if (!ago.is_number()) return "never";
  return format_duration(ago.get<std::uint64_t>()) + " ago";
}

std::string source_text(const json& src) {
  if (!src.is_object()) return "-";
  if (src.value("kind", "") == "api") return "node API " + src.value("address", "");
  return "data dir " + src.value("path", "");
}

void sibling_lines(Lines& out, const json& sibs, const std::string& indent) {
  for (const auto& s : sibs) {
    std::string line = indent + (s.value("winner", false) ? "* " : "  ") + str(s["dot"]) + "  " + when(s["updated_at"]);
    if (s.value("deleted", false)) line += "  [deleted]";
    if (s["uplink_origin"].is_boolean() && s["uplink_origin"].get<bool>()) line += "  [uplink]";
    if (!s.value("deleted", false)) line += "  " + dump(s["fields"]);
    out.push_back(line);
  }
}

Lines summary(const json& d) {
  Lines out;
  const json& n = d["node"];
  out.push_back("node       " + str(n["id"]) + "   cluster " + str(n["cluster"]) + "   role " + str(n["role"]) +
                (n.value("role_source", "") == "own_writes" ? " (from its writes)" : "") + "   name " + str(n["name"]));
  out.push_back("source     " + source_text(d["source"]));
  if (n["public_key"].is_string()) out.push_back("public key " + str(n["public_key"]));
  if (n.value("grants", 0u) != 0) {
    const std::string own = n["grant"].is_string() ? str(n["grant"]) : std::string();
    out.push_back("grant      " + grant_or_none(own, n.value("admin_named", false)) + "   (" +
                  str(n["grants"]) + " in the cluster)");
  }
  out.push_back("clock      " + when(n["clock"]) + "   own writes " + str(n["counter"]));
  out.push_back("knowledge  " + vv_text(d["knowledge"]));
  out.push_back("horizon    " + (d["tombstone_horizon"].is_null() ? std::string("-") : vv_text(d["tombstone_horizon"])));
  out.emplace_back();
  out.push_back(pad("COLLECTION", 24) + rpad("RECORDS", 10) + rpad("TOMBSTONES", 12) + rpad("CONFLICTED", 12) + "  STRATEGY");
  for (const auto& c : d["collections"]) {
    out.push_back(pad(str(c["name"]), 24) + rpad(str(c["records"]), 10) + rpad(str(c["tombstones"]), 12) +
                  rpad(str(c["conflicted"]), 12) + "  " + str(c["strategy"]) + " (" + str(c["strategy_source"]) + ")");
  }
  const json& t = d["totals"];
  out.push_back(pad("total", 24) + rpad(str(t["records"]), 10) + rpad(str(t["tombstones"]), 12) +
                rpad(str(t["conflicts_open"]), 12));
  out.emplace_back();
  out.push_back("conflicts  " + str(t["conflicts_open"]) + " open, " + str(t["conflict_log_entries"]) +
                " in the log   peers " + str(t["peers"]));
  if (d["pending"].is_array()) {
    for (const auto& p : d["pending"]) {
      out.push_back("pending    " + str(p["changes"]) + " change(s) for " +
                    (str(p["peer_name"]).empty() ? str(p["peer"]) : str(p["peer_name"])));
    }
  }
  for (const auto& u : d.value("unreadable", json::array())) {
    const json& by = u["written_by"];
    std::string writers = by.is_array() ? std::string() : str(by);
    if (by.is_array()) {
      for (const auto& w : by) writers += (writers.empty() ? "" : ", ") + str(w);
    }
    out.push_back("unreadable " + str(u["collection"]) + "/" + str(u["id"]) + ": " + str(u["reason"]) +
                  " (written by " + (writers.empty() ? "unknown" : writers) + "); skipped until overwritten or deleted");
  }
  if (d["store"].is_object()) {
    const json& s = d["store"];
    char pct[16];
    std::snprintf(pct, sizeof pct, "%.1f%%", s.value("map_use_percent", 0.0));
    out.push_back("store      " + bytes_text(s.value("used_bytes", std::uint64_t{0})) + " used (" + pct + " of the " +
                  bytes_text(s.value("max_map_size", std::uint64_t{0})) + " the map may grow to; " +
                  bytes_text(s.value("map_size", std::uint64_t{0})) + " mapped now), schema " +
                  str(s["schema_version"]) + ", readers " + str(s["readers_in_use"]) + "/" + str(s["max_readers"]));
  }
  return out;
}

Lines peers(const json& d) {
  Lines out;
  out.push_back("source " + source_text(d["source"]) + "   tombstone retention " +
                format_duration(d.value("retention_ms", std::uint64_t{0})));
  out.push_back(pad("PEER", 18) + pad("NAME", 14) + pad("FOUND", 8) + pad("STATE", 11) + pad("LAST SEEN", 14) +
                pad("LAST SYNC", 14) + rpad("LAG", 7) + rpad("LAG AGE", 10) + rpad("OFFSET", 9) + rpad("IN", 8) +
                rpad("OUT", 8) + "  LAST ERROR");
  for (const auto& p : d["peers"]) {
    out.push_back(pad(str(p["node_id"]), 18) + pad(str(p["name"]).substr(0, 13), 14) + pad(str(p["found_by"]), 8) +
                  pad(str(p["state"]), 11) + pad(ms_ago(p["last_seen_ago_ms"]), 14) + pad(ms_ago(p["last_sync_ago_ms"]), 14) +
                  rpad(str(p["lag_changes"]), 7) + rpad(format_duration(p.value("lag_ms", std::uint64_t{0})), 10) +
                  rpad(str(p["clock_offset_ms"]) + "ms", 9) + rpad(str(p["records_in"]), 8) + rpad(str(p["records_out"]), 8) +
                  "  " + (str(p["last_error"]).empty() ? "-" : str(p["last_error"])));
    if (!p["address"].is_null() && !str(p["address"]).empty()) out.push_back("    address " + str(p["address"]));
    if (p["knowledge"].is_object()) out.push_back("    knows   " + vv_text(p["knowledge"]));
    if (p["we_lack_changes"].is_number() && p["we_lack_changes"].get<std::uint64_t>() > 0) {
      const double pct = p.value("sync_progress_percent", 0.0);
      const int filled = static_cast<int>(pct / 5);
      char num[16];
      std::snprintf(num, sizeof num, "%.1f%%", pct);
      out.push_back("    pulling [" + std::string(static_cast<std::size_t>(filled), '#') +
                    std::string(static_cast<std::size_t>(20 - filled), '.') + "] " + num + " of what it knows; up to " +
                    str(p["we_lack_changes"]) + " change(s) to go");
    }
  }
  if (d["peers"].empty()) out.push_back("(no peer seen yet)");
  if (!d["warnings"].empty()) out.emplace_back();
  for (const auto& w : d["warnings"]) out.push_back("! " + str(w));
  for (const auto& s : d["skipped_rows"]) out.push_back("? unreadable peer row: " + str(s));
  return out;
}

Lines record(const json& d) {
  Lines out;
  const json& v = d["visible"];
  out.push_back(str(d["collection"]) + "/" + str(d["id"]) + "   strategy " + str(d["strategy"]) + " (" +
                str(d["strategy_source"]) + ")   " + source_text(d["source"]));
  std::string state = v.value("deleted", false) ? "  [deleted]" : "";
  if (v.value("conflicted", false)) state += "  [conflicted: " + str(d["sibling_count"]) + " siblings]";
  if (v["near_simultaneous"].is_boolean() && v["near_simultaneous"].get<bool>()) state += "  [near-simultaneous]";
  out.push_back("visible    winner " + str(v["winner"]) + "   updated_at " + when(v["updated_at"]) + state);
  for (const auto& [name, value] : v["fields"].items()) out.push_back("  " + name + ": " + dump(value));
  out.push_back("version vector  " + vv_text(d["version_vector"]));
  out.push_back("siblings (" + str(d["sibling_count"]) + ", * = visible)");
  sibling_lines(out, d["siblings"], "  ");
  out.push_back("history (conflict log): " + std::to_string(d["history"].size()) + " entr" +
                (d["history"].size() == 1 ? "y" : "ies"));
  for (const auto& h : d["history"]) {
    out.push_back("  #" + str(h["seq"]) + "  " + when(h["detected_at"]) + "  at " + str(h["detected_by"]) + "  " +
                  str(h["strategy"]) + "  winner " + str(h["winner"]) +
                  (h.value("near_simultaneous", false) ? "  [near-simultaneous]" : ""));
    sibling_lines(out, h["siblings"], "    ");
  }
  return out;
}

Lines conflicts(const json& d) {
  Lines out;
  const json& c = d["counts"];
  out.push_back("open conflicts: " + str(c["open"]) + "   resolved: " + str(c["resolved"]) + "   log entries: " +
                str(c["log_entries"]) + "   " + source_text(d["source"]));
  for (const auto& o : d["open"]) {
    std::string seqs;
    for (const auto& s : o["log_seqs"]) seqs += " #" + str(s);
    out.push_back("OPEN  " + str(o["collection"]) + "/" + str(o["id"]) + "  " + str(o["strategy"]) + "  shows " +
                  str(o["winner"]) + "  " + std::to_string(o["siblings"].size()) + " siblings" +
                  (seqs.empty() ? "" : "  log" + seqs));
    sibling_lines(out, o["siblings"], "    ");
  }
  if (d.value("open_truncated", false)) out.push_back("  ... more open conflicts (raise --limit)");
  if (!d["resolved"].empty()) out.push_back("resolved (newest first):");
  for (const auto& r : d["resolved"]) {
    const json& w = r["winner"];
    std::string now = r["current"].is_object() ? "now " + str(r["current"]["dot"]) +
                                                     (r["current"].value("deleted", false) ? " [deleted]" : "")
                                               : "now gone";
    out.push_back("  #" + str(r["seq"]) + "  " + str(r["collection"]) + "/" + str(r["id"]) + "  " + str(r["strategy"]) +
                  "  detected " + when(r["detected_at"]) + "  winner " + (w.is_object() ? str(w["dot"]) : "-") + "  " + now +
                  (r.value("near_simultaneous", false) ? "  [near-simultaneous]" : ""));
    if (w.is_object()) out.push_back("      won:  " + (w.value("deleted", false) ? std::string("[deleted]") : dump(w["fields"])));
    for (const auto& l : r["losers"]) {
      out.push_back("      lost: " + str(l["dot"]) + " " + (l.value("deleted", false) ? std::string("[deleted]") : dump(l["fields"])));
    }
  }
  if (d.value("resolved_truncated", false)) out.push_back("  ... older resolved conflicts (raise --limit)");
  return out;
}

Lines diff(const json& d) {
  Lines out;
  for (const char* side : {"a", "b"}) {
    const json& s = d[side];
    out.push_back(std::string(side[0] == 'a' ? "A" : "B") + "  " + source_text(s["source"]) + "   node " + str(s["node_id"]) +
                  "   records " + str(s["records"]) + "   live versions " + str(s["live_versions"]));
  }
  const json& c = d["counts"];
  out.push_back(d.value("identical", false)
                    ? "identical: same live versions and knowledge"
                    : "DIFFERENT: " + str(c["differing_records"]) + " record(s) differ; A lacks " + str(d["a_lacks"]["count"]) +
                          " dot(s), B lacks " + str(d["b_lacks"]["count"]) +
                          (d["strategies"].value("difference", "").empty() ? "" : "; their conflict strategies differ"));
  const json& st = d["strategies"];
  if (!st.value("difference", "").empty()) {
    out.push_back("strategies differ (the same versions show different values): " + str(st["difference"]));
  } else if (st["equal"].is_null()) {
    out.push_back("strategies: unknown for " + std::string(st["a"].is_null() ? "A" : "B") +
                  " (written by an older node); not compared");
  }
  out.push_back(pad("ORIGIN", 20) + rpad("A", 10) + rpad("B", 10));
  for (const auto& k : d["knowledge"]) {
    out.push_back(pad(str(k["origin"]), 20) + rpad(str(k["a"]), 10) + rpad(str(k["b"]), 10) +
                  (k.value("equal", true) ? "" : "   <- differs"));
  }
  for (const char* which : {"a_lacks", "b_lacks"}) {
    const json& l = d[which];
    if (l.value("count", 0) == 0) continue;
    out.push_back(std::string(which[0] == 'a' ? "A" : "B") + " lacks " + str(l["count"]) + " dot(s):");
    for (const auto& x : l["dots"]) out.push_back("  " + str(x["dot"]) + "  " + str(x["collection"]) + "/" + str(x["id"]));
    if (l.value("truncated", false)) out.push_back("  ...");
  }
  if (!d["records"].empty()) {
    out.push_back(pad("RECORD", 32) + pad("STATUS", 21) + pad("A DOTS", 28) + "B DOTS");
    for (const auto& r : d["records"]) {
      auto join = [](const json& a) {
        std::string s;
        for (const auto& x : a) s += (s.empty() ? "" : ",") + str(x);
        return s.empty() ? std::string("-") : s;
      };
      out.push_back(pad(str(r["collection"]) + "/" + str(r["id"]), 32) + pad(str(r["status"]), 21) +
                    pad(join(r["a_dots"]), 28) + join(r["b_dots"]));
    }
    if (d.value("records_truncated", false)) out.push_back("... more records differ (raise --limit)");
  }
  return out;
}

}  // namespace

std::vector<std::string> render_text(const json& doc) {
  try {
    const std::string view = doc.value("view", "");
    if (view == "summary") return summary(doc);
    if (view == "peers") return peers(doc);
    if (view == "record") return record(doc);
    if (view == "conflicts") return conflicts(doc);
    if (view == "diff") return diff(doc);
  } catch (const std::exception& e) {
    return {std::string("cannot render: ") + e.what(), dump(doc)};
  }
  return {dump(doc, 2)};
}

}  // namespace shopsync::inspect
