#include "tools/shopsync/doctor.h"

#include <chrono>

#include "net/public_key_text.h"
#include "tools/shopsync/render.h"

namespace shopsync::cli {

namespace {

constexpr const char* kPeerHint = "give the other nodes explicitly: shopsyncd --peer KEY@HOST:7460 (KEY from `shopsync key` there)";

// Why a peer this node dials never answers its HELLO.
constexpr const char* kNoAnswerCauses =
    "either its sync port is not reachable from here (a firewall on it or between the two, Wi-Fi client isolation, "
    "an address that does not route here), or it does not trust this node's key (there: shopsync trust add KEY, "
    "with KEY from `shopsync key` here), or it is overloaded; both logs say which";

std::string quoted(const std::string& name) { return "'" + name + "'"; }

std::string groups_joined(const api::DiscoveryInterface& i) {
  if (i.joined_ipv4 && i.joined_ipv6) return "ipv4+ipv6";
  if (i.joined_ipv4) return "ipv4";
  if (i.joined_ipv6) return "ipv6";
  return "none";
}

std::string join(const std::vector<std::string>& words, const char* sep = " ") {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : sep) + w;
  return out;
}

void advise_on_lan(const api::DiscoveryReport& r, std::vector<std::string>& out) {
  if (r.interfaces.empty()) {
    out.push_back("no interface is up and multicast-capable (or --mdns-interface names none that is): discovery "
                  "cannot see the LAN; check `ip link`, or " + std::string(kPeerHint));
    return;
  }
  std::uint64_t answers = 0;
  for (const auto& i : r.interfaces) {
    answers += i.answers_received;
    if (!i.joined_ipv4 && !i.joined_ipv6) {
      out.push_back("not a member of the mDNS group on " + i.name + ", so no multicast arrives there: the interface "
                    "may have come up without carrier; restart the node once it has a link");
    }
  }
  if (answers == 0 && r.peers.empty() && r.uptime_ms >= kQuietLanAfterMs) {
    out.push_back("no mDNS answer from another node arrived on any interface in " + format_duration(r.uptime_ms) +
                  ": either no other node of the cluster runs on this LAN, or multicast is blocked here (Wi-Fi "
                  "client isolation, a Docker bridge, a VPN, a firewall dropping UDP 5353). " +
                  (r.static_peers == 0 ? "If the others run, " + std::string(kPeerHint)
                                       : std::to_string(r.static_peers) + " static peer(s) are configured and still "
                                                                          "work"));
  }
}

// When this node last heard from `peer` (Unix ms), 0 when never.
std::uint64_t last_heard(const api::PeerList& known, NodeId peer) {
  for (const auto& k : known.peers) {
    if (k.node_id == peer) return k.last_seen_ms;
  }
  return 0;
}

void advise_on_peers(const api::DiscoveryReport& r, const api::PeerList& known, std::vector<std::string>& out) {
  const auto now_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                     std::chrono::system_clock::now().time_since_epoch())
                                                     .count());
  for (const auto& p : r.peers) {
    const std::string who = quoted(p.name) + " (" + node_id_text(p.node_id) + ") at " + p.address;
    const std::uint64_t heard = last_heard(known, p.node_id);
    const bool stuck = p.state == "unreachable" ||
                       ((p.state == "connecting" || p.state == "waiting") && p.unconnected_ms >= kStuckAfterMs);
    if (stuck && heard != 0 && heard < now_ms) {
      // It worked, then went quiet without a goodbye: a machine switched off
      // is likelier than a firewall that appeared; its mDNS records linger
      // until their TTL runs out.
      out.push_back(who + " was connected until " + format_duration(now_ms - heard) + " ago and has not answered "
                    "since: it looks switched off, unplugged or crashed (its mDNS announcement stays up to "
                    "--mdns-ttl after that). If it runs, " + kNoAnswerCauses);
      continue;
    }
    if (p.state == "untrusted") {
      out.push_back(who + " is not trusted here: if it is one of yours, run `shopsync trust add " + format_public_key(p.public_key) + "`");
    } else if (p.state == "unreachable") {
      out.push_back(who + " was found but cannot be reached: " + p.detail);
    } else if (p.state == "incompatible") {
      out.push_back(who + " cannot sync with this node: " + p.detail);
    } else if ((p.state == "connecting" || p.state == "waiting") && p.unconnected_ms >= kStuckAfterMs) {
      out.push_back(who + " was found on the LAN but has not been connected for " + format_duration(p.unconnected_ms) +
                    " (" + p.state + (p.detail.empty() ? "" : ": " + p.detail) + "): " + kNoAnswerCauses);
    }
  }
}

// Peers whose link died without a goodbye and whose mDNS records were asked
// for again (RFC 6762 10.4): unanswered, they are forgotten at once.
void advise_on_reconfirmed(const api::DiscoveryReport& r, std::vector<std::string>& out) {
  for (const auto& c : r.reconfirmed) {
    if (c.state != "forgotten") continue;
    out.push_back(quoted(c.name) + " (" + node_id_text(c.node_id) + "): link lost without goodbye; mDNS "
                  "reconfirm sent, no answer after 10 s: it looks switched off, unplugged or crashed, and was "
                  "forgotten from discovery " + format_duration(c.age_ms) + " ago (without waiting out its "
                  "records' TTL). If it runs, " + kNoAnswerCauses);
  }
}

void advise_on_refusals(const api::DiscoveryReport& r, std::vector<std::string>& out) {
  for (const auto& f : r.refused) {
    const std::string who = quoted(f.name) + " on " + f.interface_name;
    if (f.reason == "other_cluster") {
      // A data directory keeps the cluster of its first start (a start with
      // another --cluster is refused): moving a node means a new directory.
      out.push_back(who + " belongs to another cluster (" + f.detail + "): if the two should sync, one of them must "
                    "join the other's cluster, and a data directory stays in the cluster it was created in: start "
                    "that node with a new, empty --data directory and the other's --cluster (it then receives that "
                    "cluster's records; keep the old directory until it has)");
    } else if (f.reason == "malformed_txt" || f.reason == "unsupported_txtvers") {
      out.push_back(who + " announces _shopsync._tcp in a form this node does not read (" + f.detail +
                    "): upgrade the older of the two");
    } else if (f.reason == "unresolved") {
      out.push_back(who + " could not be resolved (" + f.detail + "): its host's address is not published; see "
                    "docs/discovery.md, \"Coexisting with avahi-daemon\"");
    } else if (f.reason == "too_many") {
      out.push_back(who + ": " + f.detail + "; restrict discovery with --mdns-interface");
    }
  }
}

}  // namespace

std::vector<std::string> doctor_advice(const api::DiscoveryReport& r, const api::PeerList& known) {
  std::vector<std::string> out;
  if (!r.enabled) {
    // Off on purpose (the uplink set-up, --no-mdns): a problem only when no
    // peer is configured either. Configured peers that fail are peer_advice's.
    if (r.static_peers == 0) {
      out.push_back("discovery is " + r.off_reason +
                    ": peers come only from --peer and --uplink, and none is configured: this node syncs with nobody");
    }
    return out;
  }
  if (r.state.starts_with("failed")) {
    out.push_back("the mDNS responder " + r.state + ": this node is not announced; " + kPeerHint);
  }
  advise_on_lan(r, out);
  advise_on_peers(r, known, out);
  advise_on_reconfirmed(r, out);
  advise_on_refusals(r, out);
  return out;
}

// WAL held back by the uplink's slot beyond this is worth a warning.
constexpr std::uint64_t kSlotWarnBytes = 1ull << 30;

std::vector<std::string> store_advice(const api::NodeStatus& s) {
  std::vector<std::string> out;
  if (s.disk_full_since_ms != 0) {
    out.push_back("the disk is full: " + std::to_string(s.refused_writes_disk_full) +
                  " writes refused since the node started, the last: " + s.disk_full_error +
                  "; free space there (nothing stored is lost; writes work again once there is room)");
  }
  for (const auto& u : s.unreadable) {
    out.push_back("record " + u.key.collection + "/" + u.key.id + " does not decode (" + u.reason + "), written by " +
                  u.written_by + ": reads and replication skip it; overwrite it, or delete it with `shopsync rm " +
                  u.key.collection + " " + u.key.id + "`");
  }
  if (s.postgres && !s.postgres_connected) {
    out.push_back("PostgreSQL is not connected" + (s.postgres_error.empty() ? std::string() : ": " + s.postgres_error) +
                  "; the uplink retries by itself and nothing is lost meanwhile (docs/uplink.md, \"PostgreSQL\")");
  }
  if (s.postgres_slot_wal_status == "lost") {
    out.push_back("PostgreSQL invalidated this uplink's replication slot (max_slot_wal_keep_size): at its next "
                  "connection it makes a new one and reads every row again (docs/uplink.md, \"Slot hygiene\")");
  } else if (s.postgres_slot_retained_bytes > kSlotWarnBytes || s.postgres_slot_wal_status == "unreserved") {
    out.push_back("this uplink's replication slot holds back " + std::to_string(s.postgres_slot_retained_bytes >> 20) +
                  " MiB of PostgreSQL WAL (wal_status " + s.postgres_slot_wal_status +
                  "): the uplink is behind; set max_slot_wal_keep_size so that it cannot fill PostgreSQL's disk "
                  "(docs/uplink.md, \"Slot hygiene\")");
  }
  if (s.grant_needs_restart) {
    out.push_back("this node's grant changed to '" + s.grant +
                  "' since it started: it writes under the new grant, but holds the records of the old one until "
                  "shopsyncd is restarted (docs/operations.md, \"Grants\")");
  }
  if (!s.grant_problems.empty()) {
    out.push_back("grants that do not parse (their subject may read the grants only and write nothing): " +
                  s.grant_problems + "; set them again with `shopsync grant SUBJECT '...'`");
  }
  if (s.records_refused != 0) {
    out.push_back(std::to_string(s.records_refused) +
                  " records from peers were refused as outside the sender's grant since the node started; the log "
                  "names each (a till writing beyond its grant, or a relay that arrives later from a full node)");
  }
  if (!s.config_reload_error.empty()) {
    out.push_back("the last SIGHUP changed nothing: " + s.config_reload_error +
                  "; the node runs on the configuration it had; fix the file and send SIGHUP again "
                  "(systemctl reload shopsyncd)");
  }
  if (s.unreadable_records > s.unreadable.size()) {
    out.push_back(std::to_string(s.unreadable_records - s.unreadable.size()) +
                  " more records do not decode; the node's log names each one");
  }
  return out;
}

std::vector<std::string> peer_advice(const api::PeerList& peers) {
  std::vector<std::string> out;
  for (const auto& p : peers.peers) {
    const std::string who = p.name.empty() ? p.address
                                           : quoted(p.name) + " (" + node_id_text(p.node_id) + ") at " + p.address;
    if (p.state == "refused") {
      out.push_back(who + " and this node refuse to sync: " +
                    (p.last_error.empty() ? std::string("no reason recorded; see the logs of both nodes") : p.last_error));
    } else if (p.node_id == 0 && (p.state == "connecting" || p.state == "backoff") && !p.last_error.empty()) {
      // A --peer or --uplink address dialed, and never once answered.
      out.push_back(who + " (" + p.found_by + ") was dialed but has never answered (" + p.last_error + "): " +
                    kNoAnswerCauses);
    }
  }
  return out;
}

std::string describe_offset(std::int64_t offset_ms) {
  const auto magnitude = static_cast<std::uint64_t>(offset_ms < 0 ? -offset_ms : offset_ms);
  if (magnitude == 0) return "in step";
  return format_duration(magnitude) + (offset_ms > 0 ? " ahead" : " behind");
}

std::vector<std::string> clock_advice(const api::PeerList& peers, const api::NodeStatus& s) {
  std::vector<std::string> out;
  if (s.max_clock_skew_ms == 0) return out;
  for (const auto& p : peers.peers) {
    const auto magnitude = static_cast<std::uint64_t>(p.clock_offset_ms < 0 ? -p.clock_offset_ms : p.clock_offset_ms);
    if (magnitude <= s.max_clock_skew_ms) continue;
    out.push_back("the clock of " + quoted(p.name) + " (" + node_id_text(p.node_id) + ") is " +
                  describe_offset(p.clock_offset_ms) + " of this node's, more than --max-clock-skew-ms " +
                  std::to_string(s.max_clock_skew_ms) + ": it is refused until NTP puts one of the two right");
  }
  return out;
}

std::vector<std::string> all_advice(const api::DiscoveryReport& r, const api::NodeStatus& s, const api::PeerList& p) {
  auto out = store_advice(s);
  auto peers = peer_advice(p);
  out.insert(out.end(), peers.begin(), peers.end());
  auto discovery = doctor_advice(r, p);
  out.insert(out.end(), discovery.begin(), discovery.end());
  auto clocks = clock_advice(p, s);
  out.insert(out.end(), clocks.begin(), clocks.end());
  return out;
}

json doctor_json(const api::DiscoveryReport& r, const api::NodeStatus& s, const api::PeerList& known) {
  json clocks = json::array();
  for (const auto& peer : known.peers) {
    clocks.push_back(json{{"node_id", node_id_text(peer.node_id)},
                          {"name", peer.name},
                          {"clock_offset_ms", peer.clock_offset_ms}});
  }
  json interfaces = json::array();
  for (const auto& i : r.interfaces) {
    interfaces.push_back(json{{"name", i.name},
                              {"index", i.index},
                              {"addresses", i.addresses},
                              {"joined_ipv4", i.joined_ipv4},
                              {"joined_ipv6", i.joined_ipv6},
                              {"answers_received", i.answers_received},
                              {"peers_seen", i.peers_seen},
                              {"kernel_ipv6_multicast_sent", i.kernel_ipv6_multicast_sent},
                              {"kernel_ipv6_multicast_received", i.kernel_ipv6_multicast_received}});
  }
  json peers = json::array();
  for (const auto& p : r.peers) {
    peers.push_back(json{{"node_id", node_id_text(p.node_id)},
                         {"name", p.name},
                         {"address", p.address},
                         {"interface", p.interface_name},
                         {"family", p.family},
                         {"role", p.role},
                         {"public_key", format_public_key(p.public_key)},
                         {"protocol", p.protocol},
                         {"paths", p.paths},
                         {"state", p.state},
                         {"detail", p.detail},
                         {"unconnected_ms", p.unconnected_ms}});
  }
  json refused = json::array();
  for (const auto& f : r.refused) {
    refused.push_back(json{{"name", f.name},
                           {"interface", f.interface_name},
                           {"reason", f.reason},
                           {"detail", f.detail},
                           {"times", f.times}});
  }
  json reconfirmed = json::array();
  for (const auto& c : r.reconfirmed) {
    reconfirmed.push_back(json{{"node_id", node_id_text(c.node_id)},
                               {"name", c.name},
                               {"state", c.state},
                               {"age_ms", c.age_ms},
                               {"queries", c.queries}});
  }
  return json{{"enabled", r.enabled},
              {"off_reason", r.off_reason},
              {"state", r.state},
              {"published_name", r.published_name},
              {"host_name", r.host_name},
              {"publishing_addresses", r.publishing_addresses},
              {"name_conflicts", r.name_conflicts},
              {"uptime_ms", r.uptime_ms},
              {"static_peers", r.static_peers},
              {"interfaces", std::move(interfaces)},
              {"peers", std::move(peers)},
              {"refused", std::move(refused)},
              {"reconfirmed", std::move(reconfirmed)},
              {"unreadable_records", s.unreadable_records},
              {"max_clock_skew_ms", s.max_clock_skew_ms},
              {"disk_full_since_ms", s.disk_full_since_ms},
              {"refused_writes_disk_full", s.refused_writes_disk_full},
              {"peer_clocks", std::move(clocks)},
              {"advice", all_advice(r, s, known)}};
}

void print_doctor(std::ostream& out, const api::DiscoveryReport& r, const api::NodeStatus& s,
                  const api::PeerList& known) {
  if (r.enabled) {
    out << "discovery: " << r.state << " as " << quoted(r.published_name) << " on host " << r.host_name << " for "
        << format_duration(r.uptime_ms) << (r.publishing_addresses ? "" : " (host addresses left to avahi-daemon)")
        << '\n';
    out << "\ninterfaces:\n";
    Table interfaces({"  NAME", "MDNS GROUP", "ANSWERS", "PEERS", "ADDRESSES"});
    for (const auto& i : r.interfaces) {
      interfaces.add({"  " + i.name, groups_joined(i), std::to_string(i.answers_received), std::to_string(i.peers_seen),
                      join(i.addresses)});
    }
    if (r.interfaces.empty()) interfaces.add({"  (none)", "-", "-", "-", "-"});
    interfaces.print(out);
    out << "\npeers seen:\n";
    Table peers({"  NAME", "NODE", "STATE", "ADDRESS", "VIA", "DETAIL"});
    for (const auto& p : r.peers) {
      peers.add({"  " + p.name, node_id_text(p.node_id), p.state, p.address,
                 p.interface_name + "/" + p.family, p.detail.empty() ? "-" : p.detail});
    }
    if (r.peers.empty()) peers.add({"  (none)", "-", "-", "-", "-", "-"});
    peers.print(out);
    if (!r.refused.empty()) {
      out << "\nrefused:\n";
      Table refused({"  NAME", "INTERFACE", "REASON", "TIMES", "DETAIL"});
      for (const auto& f : r.refused) {
        refused.add({"  " + f.name, f.interface_name, f.reason, std::to_string(f.times), f.detail});
      }
      refused.print(out);
    }
    if (!r.reconfirmed.empty()) {
      out << "\nreconfirmed (link lost without goodbye, mDNS records asked for again):\n";
      Table reconfirmed({"  NAME", "NODE", "STATE", "QUERIES", "SINCE"});
      for (const auto& c : r.reconfirmed) {
        reconfirmed.add({"  " + c.name, node_id_text(c.node_id), c.state, std::to_string(c.queries),
                         format_duration(c.age_ms) + " ago"});
      }
      reconfirmed.print(out);
    }
  } else {
    out << "discovery: off (" << r.off_reason << "): peers come only from --peer and --uplink (" << r.static_peers
        << " configured)\n";
  }
  if (!known.peers.empty()) {
    out << "\npeer clocks (limit --max-clock-skew-ms " << s.max_clock_skew_ms << "):\n";
    Table clocks({"  NAME", "NODE", "CLOCK"});
    for (const auto& peer : known.peers) {
      clocks.add({"  " + (peer.name.empty() ? std::string("-") : peer.name), node_id_text(peer.node_id),
                  describe_offset(peer.clock_offset_ms)});
    }
    clocks.print(out);
  }
  const auto advice = all_advice(r, s, known);
  if (advice.empty()) {
    out << "\nno problem found.\n";
    return;
  }
  out << "\nto look at:\n";
  for (const auto& a : advice) out << "  - " << a << '\n';
}

}  // namespace shopsync::cli
