// Discovery on top of libavahi-core: the only file that includes its headers.
//
// Publishing. We add the DNS-SD records ourselves (avahi_server_add) rather
// than with avahi_server_add_service() so that their TTL is ours to choose: it
// is what bounds how long a vanished peer stays "found" (DiscoveryOptions::
// record_ttl). Records: PTR _shopsync._tcp -> instance (shared), SRV and TXT of
// the instance (unique: probed, renamed on conflict), and the service type
// enumeration PTR _services._dns-sd._udp -> _shopsync._tcp (shared).
//
// Browsing. One service browser on every interface and protocol; every
// (interface, protocol, instance name) it reports is a *path*, resolved by its
// own service resolver restricted to that interface and protocol, so the
// address we report is one the peer has on the link it was seen on. A path
// that fails to resolve is retried with backoff (1 s doubling to 60 s).
// Expiry and re-query are avahi's: its cache re-queries at 80..95 % of a
// record's TTL while we browse, drops records whose TTL ran out, honours
// goodbyes (TTL 0, gone one second later), and its queriers re-ask with
// exponential backoff.
//
// Reconfirming. avahi-core has no call to reconfirm a record (RFC 6762 10.4)
// and its own queries carry known answers that silence a live peer, so on a
// failure indication we ask with queries of our own (mdns_query.h) and
// forget a peer that answers none in time (reconfirm.h). Its path stays,
// flushed, until avahi's cache drops the records or the peer answers again.
//
// Events raised from inside avahi's callbacks are queued and handed to the
// owner only once dispatch() has left avahi, so an owner's handler never runs
// with avahi's internal state half-updated.
#include <avahi-common/address.h>
#include <avahi-common/alternative.h>
#include <avahi-common/domain.h>
#include <avahi-common/error.h>
#include <avahi-common/malloc.h>
#include <avahi-common/strlst.h>
#include <avahi-common/watch.h>
#include <avahi-core/core.h>
#include <avahi-core/log.h>
#include <avahi-core/lookup.h>
#include <avahi-core/publish.h>
#include <avahi-core/rr.h>
#include <net/if.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <map>
#include <thread>
#include <tuple>

#include "discovery/avahi_poll.h"
#include "discovery/discovery.h"
#include "discovery/interfaces.h"
#include "discovery/mdns_query.h"
#include "discovery/reconfirm.h"
#include "discovery/service_txt.h"

namespace shopsync::discovery {
namespace {

constexpr std::size_t kMaxPaths = 1024;     // services tracked at once; more are refused
constexpr std::size_t kMaxRefusals = 64;    // remembered for diagnostics
constexpr unsigned kMaxRetrySeconds = 60;
constexpr std::chrono::milliseconds kGoodbyeLinger{300};
constexpr int kResponderCheckSeconds = 1;

// avahi's log hook is a plain function pointer: it reaches the sink of the
// Discovery started last (see DiscoveryOptions::log).
std::function<void(std::string_view)>* g_log_sink = nullptr;

void log_to_sink(AvahiLogLevel level, const char* text) {
  if (g_log_sink && *g_log_sink) {
    (*g_log_sink)(text);
  } else if (level <= AVAHI_LOG_WARN && !std::string_view(text).starts_with("*** WARNING: Detected another")) {
    // (Sharing UDP 5353 with another responder is what coexisting means;
    // diagnostics() says so as publishing_addresses == false.)
    std::fprintf(stderr, "discovery: %s\n", text);
  }
}

std::string interface_name_of(int index) {
  char buf[IF_NAMESIZE] = {};
  if (index > 0 && ::if_indextoname(static_cast<unsigned>(index), buf)) return buf;
  return "if" + std::to_string(index);
}

// The longest prefix of `s` of at most `max` bytes that does not split a
// UTF-8 sequence (DNS labels are limited to 63 bytes).
std::string utf8_prefix(const std::string& s, std::size_t max) {
  if (s.size() <= max) return s;
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

bool same_data(const PeerEvent& a, const PeerEvent& b) {
  return std::tie(a.node_id, a.cluster, a.role, a.public_key, a.protocol, a.name, a.host_name, a.address, a.port) ==
         std::tie(b.node_id, b.cluster, b.role, b.public_key, b.protocol, b.name, b.host_name, b.address, b.port);
}

}  // namespace

struct Discovery::Impl {
  // A path (see the top of this file): interface, protocol, instance name.
  struct PathKey {
    int interface = 0;
    int protocol = 0;
    std::string name;
    auto operator<=>(const PathKey&) const = default;
  };
  struct Path {
    Impl* impl = nullptr;
    PathKey key;
    std::string type, domain;
    AvahiSServiceResolver* resolver = nullptr;
    AvahiTimeout* retry = nullptr;
    unsigned retry_seconds = 1;
    bool reported = false;  // a `found` went out and no `lost` since
    bool flushed = false;   // lost to an unanswered reconfirmation; its records still cached
    PeerEvent last;
  };

  Announcement announcement;
  DiscoveryOptions options;
  EventHandler on_event;
  AvahiPollAdapter poll;
  AvahiServer* server = nullptr;
  AvahiSEntryGroup* group = nullptr;
  AvahiSServiceBrowser* browser = nullptr;
  std::string published_name;
  std::string records_host;  // the host name our SRV record names now
  std::string state = "starting";
  bool publishing_addresses = true;
  // Started beside another responder: our own A/AAAA while it is gone
  // (see check_other_responder), and the timer that looks for it.
  AvahiSEntryGroup* address_group = nullptr;
  AvahiTimeout* responder_check = nullptr;
  bool stopped = false;
  std::uint64_t name_conflicts = 0;
  std::uint64_t service_conflicts = 0;
  std::uint64_t mdns_reads = 0;
  std::map<PathKey, std::unique_ptr<Path>> paths;
  std::map<int, std::uint64_t> answers_by_interface;
  std::deque<Refusal> refused;
  std::vector<PeerEvent> pending;
  Reconfirmations reconfirm;
  MdnsQuerier querier;
  std::map<NodeId, std::string> reconfirm_names;

  ~Impl() { shut_down(false); }

  void log(const std::string& text) { log_to_sink(AVAHI_LOG_INFO, text.c_str()); }

  // Six hex digits of our node id: distinct between the nodes of a LAN in
  // practice, and stable across restarts.
  std::string node_suffix() const { return node_id_text(announcement.node_id).substr(10); }

  std::string unique_host_name(const std::string& current) const {
    std::string base = options.host_name.empty() ? current : options.host_name;
    std::string suffix = "-" + node_suffix();
    if (current.size() >= suffix.size() && current.compare(current.size() - suffix.size(), suffix.size(), suffix) == 0) {
      // Already ours and still taken: fall back to avahi's counter.
      char* alt = avahi_alternative_host_name(current.c_str());
      std::string out = alt;
      avahi_free(alt);
      return out;
    }
    return utf8_prefix(base, 63 - suffix.size()) + suffix;
  }

  std::string alternative_service_name() const {
    std::string base = published_name;
    if (service_conflicts >= 2) {
      std::string suffix = " #" + node_suffix();
      base = announcement.name;
      base = utf8_prefix(base, 63 - suffix.size());
      if (published_name != base + suffix) return base + suffix;
      base = published_name;
    }
    char* alt = avahi_alternative_service_name(base.c_str());
    std::string out = alt;
    avahi_free(alt);
    return out;
  }

  // ---- publishing ----------------------------------------------------------

  Status add_records(AvahiServer* s) {
    const char* domain = avahi_server_get_domain_name(s);
    const char* host = avahi_server_get_host_name_fqdn(s);
    char instance[AVAHI_DOMAIN_NAME_MAX];
    if (avahi_service_name_join(instance, sizeof instance, published_name.c_str(), std::string(kServiceType).c_str(),
                                domain) < 0)
      return Status::invalid("node name \"" + published_name + "\" cannot be a DNS-SD instance name");
    std::string type = std::string(kServiceType) + "." + domain;
    std::string enumeration = std::string("_services._dns-sd._udp.") + domain;
    auto ttl = static_cast<std::uint32_t>(options.record_ttl.count());

    ServiceTxt txt{announcement.protocol, announcement.cluster, announcement.node_id, announcement.public_key,
                   announcement.role};
    std::vector<std::string> entries = encode_txt(txt);
    std::vector<const char*> entry_ptrs;
    for (const auto& e : entries) entry_ptrs.push_back(e.c_str());

    struct Spec {
      std::string name;
      std::uint16_t type;
      AvahiPublishFlags flags;
    };
    const Spec specs[] = {
        {type, AVAHI_DNS_TYPE_PTR, AvahiPublishFlags{}},
        {instance, AVAHI_DNS_TYPE_SRV, AVAHI_PUBLISH_UNIQUE},
        {instance, AVAHI_DNS_TYPE_TXT, AVAHI_PUBLISH_UNIQUE},
        {enumeration, AVAHI_DNS_TYPE_PTR, AvahiPublishFlags{}},
    };
    for (const Spec& spec : specs) {
      AvahiRecord* r = avahi_record_new_full(spec.name.c_str(), AVAHI_DNS_CLASS_IN, spec.type, ttl);
      if (!r) return Status::io_error("out of memory building a DNS record");
      if (spec.type == AVAHI_DNS_TYPE_SRV) {
        r->data.srv.priority = 0;
        r->data.srv.weight = 0;
        r->data.srv.port = announcement.port;
        r->data.srv.name = avahi_strdup(host);
      } else if (spec.type == AVAHI_DNS_TYPE_TXT) {
        r->data.txt.string_list =
            avahi_string_list_new_from_array(entry_ptrs.data(), static_cast<int>(entry_ptrs.size()));
      } else {
        r->data.ptr.name = avahi_strdup(spec.name == type ? instance : type.c_str());
      }
      int rc = avahi_server_add(s, group, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, spec.flags, r);
      avahi_record_unref(r);
      if (rc < 0) return Status::io_error(std::string("publishing a DNS record: ") + avahi_strerror(rc));
    }
    int rc = avahi_s_entry_group_commit(group);
    if (rc < 0) return Status::io_error(std::string("committing the service records: ") + avahi_strerror(rc));
    return Status::ok();
  }

  void publish(AvahiServer* s) {
    if (!group) group = avahi_s_entry_group_new(s, &Impl::on_group_state, this);
    if (!group) {
      state = std::string("failed: cannot create entry group: ") + avahi_strerror(avahi_server_errno(s));
      log(state);
      return;
    }
    avahi_s_entry_group_reset(group);
    records_host = avahi_server_get_host_name_fqdn(s);
    if (Status st = add_records(s); !st) {
      state = "failed: " + st.message();
      log(state);
      return;
    }
    state = "probing";
  }

  static void on_server_state(AvahiServer* s, AvahiServerState st, void* userdata) {
    auto* self = static_cast<Impl*>(userdata);
    switch (st) {
      case AVAHI_SERVER_RUNNING:
        // Usually our records went in at start, while the host name was
        // still being probed (both probes then run at once, which halves the
        // time to be announced); here only if they are missing or stale.
        if (!self->group || avahi_s_entry_group_is_empty(self->group) ||
            self->records_host != avahi_server_get_host_name_fqdn(s))
          self->publish(s);
        break;
      case AVAHI_SERVER_COLLISION: {
        // Another host owns our host name. Avahi compares the records of a
        // simultaneous probe one by one, so two hosts whose A and AAAA records
        // order differently can both lose; were both to take the same next
        // name ("-2", "-3", ...) they would collide forever in lockstep. So
        // the new name carries our node id, which no other node has.
        const char* current = avahi_server_get_host_name(s);
        std::string alt = self->unique_host_name(current);
        ++self->name_conflicts;
        self->log("host name conflict for \"" + std::string(current) + "\", renaming to \"" + alt + "\"");
        self->state = "renaming";
        avahi_server_set_host_name(s, alt.c_str());
        break;
      }
      case AVAHI_SERVER_REGISTERING:
        // After a host rename: our SRV must point at the new name.
        if (self->group && !self->records_host.empty() && self->records_host != avahi_server_get_host_name_fqdn(s))
          self->publish(s);
        break;
      case AVAHI_SERVER_FAILURE:
        self->state = std::string("failed: ") + avahi_strerror(avahi_server_errno(s));
        self->log(self->state);
        break;
      case AVAHI_SERVER_INVALID:
        break;
    }
  }

  static void on_group_state(AvahiServer* s, AvahiSEntryGroup*, AvahiEntryGroupState st, void* userdata) {
    auto* self = static_cast<Impl*>(userdata);
    switch (st) {
      case AVAHI_ENTRY_GROUP_ESTABLISHED:
        self->state = "announced";
        break;
      case AVAHI_ENTRY_GROUP_COLLISION: {
        // Another host announces a service of this name with other data. The
        // first time take avahi's usual "<name> #2"; should that collide too
        // (both sides lost the tie-break and renamed alike), use our node id.
        ++self->name_conflicts;
        ++self->service_conflicts;
        std::string alt = self->alternative_service_name();
        self->log("service name conflict for \"" + self->published_name + "\", renaming to \"" + alt + "\"");
        self->published_name = alt;
        self->publish(s);
        break;
      }
      case AVAHI_ENTRY_GROUP_FAILURE:
        self->state = std::string("failed: ") + avahi_strerror(avahi_server_errno(s));
        self->log(self->state);
        break;
      case AVAHI_ENTRY_GROUP_REGISTERING:
        self->state = "probing";
        break;
      case AVAHI_ENTRY_GROUP_UNCOMMITED:
        break;
    }
  }

  // ---- the host's addresses when the other responder goes ------------------
  //
  // Started beside another responder (an avahi-daemon) that publishes this
  // host's A/AAAA records, we publish none. Should it stop, its goodbyes
  // flush them from every cache and nobody answers for them: other machines
  // still find our SRV record but can no longer resolve the host it names.
  // So once a second we look whether a socket other than ours still holds UDP
  // 5353; while none does, we publish the addresses ourselves (on the
  // interfaces we use, so never on `lo` unless it is named), and we withdraw
  // them when one holds it again. The returning daemon probes while ours are
  // still up: identical records are no conflict, so it keeps its host name.

  std::vector<std::uint64_t> own_socket_inodes() const {
    std::vector<std::uint64_t> out;
    for (const PollFd& f : poll.fds()) {
      struct stat st{};
      if (::fstat(f.fd, &st) == 0 && S_ISSOCK(st.st_mode)) out.push_back(st.st_ino);
    }
    return out;
  }

  void publish_own_addresses() {
    address_group = avahi_s_entry_group_new(server, &Impl::on_address_group_state, this);
    if (!address_group) return;
    const char* host = avahi_server_get_host_name_fqdn(server);
    for (const auto& i : list_mdns_interfaces(options.allow_interfaces, options.deny_interfaces)) {
      for (const auto& text : i.addresses) {
        AvahiAddress a{};
        if (!avahi_address_parse(text.c_str(), AVAHI_PROTO_UNSPEC, &a)) continue;
        if ((a.proto == AVAHI_PROTO_INET && !options.use_ipv4) || (a.proto == AVAHI_PROTO_INET6 && !options.use_ipv6))
          continue;
        (void)avahi_server_add_address(server, address_group, i.index, a.proto, AVAHI_PUBLISH_NO_REVERSE, host, &a);
      }
    }
    if (avahi_s_entry_group_is_empty(address_group) || avahi_s_entry_group_commit(address_group) < 0) {
      avahi_s_entry_group_free(address_group);
      address_group = nullptr;
      return;
    }
    publishing_addresses = true;
    log(std::string("no other mDNS responder runs on this host any more (avahi-daemon stopped?): publishing the "
                    "addresses of ") + host + " ourselves");
  }

  void check_other_responder() {
    const bool others = mdns_port_held_by_others(own_socket_inodes());
    if (!others && !address_group) {
      publish_own_addresses();
    } else if (others && address_group) {
      avahi_s_entry_group_free(address_group);
      address_group = nullptr;
      publishing_addresses = false;
      log("another mDNS responder runs on this host again: leaving the host's addresses to it");
    }
  }

  void schedule_responder_check() {
    timeval tv{};
    gettimeofday(&tv, nullptr);
    tv.tv_sec += kResponderCheckSeconds;
    if (responder_check) {
      poll.api()->timeout_update(responder_check, &tv);
    } else {
      responder_check = poll.api()->timeout_new(poll.api(), &tv, &Impl::on_responder_check, this);
    }
  }

  static void on_responder_check(AvahiTimeout*, void* userdata) {
    auto* self = static_cast<Impl*>(userdata);
    self->check_other_responder();
    self->schedule_responder_check();
  }

  static void on_address_group_state(AvahiServer*, AvahiSEntryGroup*, AvahiEntryGroupState st, void* userdata) {
    auto* self = static_cast<Impl*>(userdata);
    if (st == AVAHI_ENTRY_GROUP_COLLISION) self->log("another host claims this host's name and addresses");
  }

  // ---- browsing ------------------------------------------------------------

  // Answers from the network prove that multicast arrives on an interface;
  // what our own responder answers from its local records proves nothing.
  void count_answer(AvahiIfIndex interface, AvahiLookupResultFlags flags) {
    if (flags & (AVAHI_LOOKUP_RESULT_LOCAL | AVAHI_LOOKUP_RESULT_OUR_OWN)) return;
    ++answers_by_interface[interface];
  }

  void refuse(const PathKey& key, RefusalReason reason, std::string detail) {
    std::string if_name = interface_name_of(key.interface);
    for (auto it = refused.begin(); it != refused.end(); ++it) {
      if (it->name == key.name && it->interface_name == if_name && it->reason == reason) {
        Refusal r = std::move(*it);
        refused.erase(it);
        r.detail = std::move(detail);
        ++r.times;
        refused.push_back(std::move(r));
        return;
      }
    }
    if (refused.size() >= kMaxRefusals) refused.pop_front();
    refused.push_back(Refusal{key.name, if_name, reason, std::move(detail), 1});
  }

  void report_lost(Path& p) {
    if (!p.reported) return;
    p.reported = false;
    PeerEvent e = p.last;
    e.kind = PeerEvent::Kind::lost;
    pending.push_back(std::move(e));
  }

  void start_resolver(Path& p) {
    p.resolver = avahi_s_service_resolver_new(server, p.key.interface, p.key.protocol, p.key.name.c_str(),
                                              p.type.c_str(), p.domain.c_str(), p.key.protocol, AvahiLookupFlags{},
                                              &Impl::on_resolved, &p);
    if (!p.resolver) schedule_retry(p);
  }

  void schedule_retry(Path& p) {
    timeval tv{};
    gettimeofday(&tv, nullptr);
    tv.tv_sec += p.retry_seconds;
    p.retry_seconds = std::min(p.retry_seconds * 2, kMaxRetrySeconds);
    if (p.retry) {
      poll.api()->timeout_update(p.retry, &tv);
    } else {
      p.retry = poll.api()->timeout_new(poll.api(), &tv, &Impl::on_retry, &p);
    }
  }

  static void on_retry(AvahiTimeout*, void* userdata) {
    auto& p = *static_cast<Path*>(userdata);
    if (p.resolver) avahi_s_service_resolver_free(p.resolver);
    p.resolver = nullptr;
    p.impl->start_resolver(p);
  }

  void drop_path(std::map<PathKey, std::unique_ptr<Path>>::iterator it) {
    Path& p = *it->second;
    report_lost(p);
    if (p.resolver) avahi_s_service_resolver_free(p.resolver);
    if (p.retry) poll.api()->timeout_free(p.retry);
    const NodeId peer = p.last.node_id;
    paths.erase(it);
    if (peer != 0 && paths_of(peer).empty()) forget_reconfirmation(peer);  // its records expired
  }

  // ---- reconfirming --------------------------------------------------------

  static std::uint64_t steady_ms() {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
  }

  // The paths to `peer` that were found (and are, or were flushed).
  std::vector<Path*> paths_of(NodeId peer) {
    std::vector<Path*> out;
    for (auto& [key, p] : paths) {
      if ((p->reported || p->flushed) && p->last.node_id == peer) out.push_back(p.get());
    }
    return out;
  }

  void forget_reconfirmation(NodeId peer) {
    reconfirm.erase(peer);
    reconfirm_names.erase(peer);
  }

  bool start_reconfirm(NodeId peer) {
    const std::vector<Path*> found = paths_of(peer);
    if (std::none_of(found.begin(), found.end(), [](const Path* p) { return p->reported; })) return false;
    if (!reconfirm.failure(peer, steady_ms())) return false;
    reconfirm_names[peer] = found.front()->key.name;
    log("reconfirming the mDNS records of '" + found.front()->key.name + "' (RFC 6762 10.4): asking for them again");
    run_reconfirm();
    return true;
  }

  void run_reconfirm() {
    const Reconfirmations::Due due = reconfirm.due(steady_ms());
    for (NodeId peer : due.query) {
      for (Path* p : paths_of(peer)) {
        const IpFamily family = p->key.protocol == AVAHI_PROTO_INET6 ? IpFamily::ipv6 : IpFamily::ipv4;
        const std::string why = querier.send(peer, p->key.interface, family, p->key.name, p->domain);
        if (!why.empty()) {
          log("reconfirm query for '" + p->key.name + "' on " + interface_name_of(p->key.interface) +
              " not sent: " + why);
        }
      }
    }
    for (NodeId peer : due.forget) {
      bool forgotten = false;
      for (Path* p : paths_of(peer)) {
        if (!p->reported) continue;  // flushed before (asked again after its session came back)
        p->flushed = true;
        p->last.why = "no answer to mDNS reconfirm queries within " +
                      std::to_string(Reconfirmations::kWindowMs / 1000) + " s";
        report_lost(*p);
        forgotten = true;
      }
      if (forgotten) log("no answer about '" + reconfirm_names[peer] + "' to its reconfirm queries: forgotten");
    }
  }

  void reconfirmed(NodeId peer) {
    const auto before = reconfirm.answered(peer, steady_ms());
    if (!before) return;
    log("'" + reconfirm_names[peer] + "' answered its reconfirm query: kept");
    for (Path* p : paths_of(peer)) {  // flushed ones: forgotten, or asked again since its session came back
      if (!p->flushed) continue;
      p->flushed = false;
      p->reported = true;
      p->last.why.clear();
      pending.push_back(p->last);
    }
  }

  static void on_browse(AvahiSServiceBrowser*, AvahiIfIndex interface, AvahiProtocol protocol, AvahiBrowserEvent event,
                        const char* name, const char* type, const char* domain, AvahiLookupResultFlags flags,
                        void* userdata) {
    auto* self = static_cast<Impl*>(userdata);
    if (event == AVAHI_BROWSER_FAILURE) {
      self->log(std::string("browsing failed: ") + avahi_strerror(avahi_server_errno(self->server)));
      return;
    }
    if (event != AVAHI_BROWSER_NEW && event != AVAHI_BROWSER_REMOVE) return;  // CACHE_EXHAUSTED, ALL_FOR_NOW
    PathKey key{interface, protocol, name ? name : ""};
    self->count_answer(interface, flags);
    auto it = self->paths.find(key);
    if (event == AVAHI_BROWSER_REMOVE) {
      if (it != self->paths.end()) self->drop_path(it);
      return;
    }
    if (it != self->paths.end()) return;
    // Even a name we publish ourselves is resolved: while two hosts contend
    // for one instance name, the PTR record of the other host's service is
    // identical to ours (and flagged local); it becomes theirs when we rename.
    // Our own records are recognised by the node id in the TXT.
    if (self->paths.size() >= kMaxPaths) {
      self->refuse(key, RefusalReason::too_many, "more than " + std::to_string(kMaxPaths) + " services on the LAN");
      return;
    }
    auto path = std::make_unique<Path>();
    path->impl = self;
    path->key = key;
    path->type = type;
    path->domain = domain;
    Path& p = *path;
    self->paths.emplace(key, std::move(path));
    self->start_resolver(p);
  }

  static void on_resolved(AvahiSServiceResolver*, AvahiIfIndex interface, AvahiProtocol, AvahiResolverEvent event,
                          const char* name, const char*, const char*, const char* host_name, const AvahiAddress* a,
                          std::uint16_t port, AvahiStringList* txt, AvahiLookupResultFlags flags, void* userdata) {
    auto& p = *static_cast<Path*>(userdata);
    Impl& self = *p.impl;
    self.count_answer(interface, flags);
    if (event != AVAHI_RESOLVER_FOUND) {
      // Nothing (or no longer everything) answered in time. A path that was
      // found stays so until the browser removes it; others are retried.
      if (!p.reported) {
        self.refuse(p.key, RefusalReason::unresolved, "no SRV, TXT or address answer; retrying");
        self.schedule_retry(p);
      }
      return;
    }
    if (!a) {  // avahi resolves the address too (we never pass NO_ADDRESS); be safe anyway
      self.refuse(p.key, RefusalReason::unresolved, "no address for the SRV target");
      return;
    }
    p.retry_seconds = 1;

    // The TXT strings as avahi parsed them from the packet: untrusted.
    std::vector<std::string_view> entries;
    std::size_t count = 0;
    for (AvahiStringList* l = txt; l; l = avahi_string_list_get_next(l)) {
      if (++count > kMaxTxtEntries + 1) break;  // decode_txt refuses it; don't copy a flood
      entries.emplace_back(reinterpret_cast<const char*>(avahi_string_list_get_text(l)),
                           avahi_string_list_get_size(l));
    }
    Result<ServiceTxt> decoded = decode_txt(entries);
    if (!decoded) {
      auto reason = decoded.status().code() == Errc::protocol ? RefusalReason::unsupported_txtvers
                                                              : RefusalReason::malformed_txt;
      self.refuse(p.key, reason, decoded.status().message());
      self.report_lost(p);
      return;
    }
    if (decoded->node_id == self.announcement.node_id) {  // ourselves, another way round
      self.report_lost(p);  // (the name was a peer's until it became ours)
      return;
    }
    if (decoded->cluster != self.announcement.cluster) {
      self.refuse(p.key, RefusalReason::other_cluster, "cluster \"" + decoded->cluster + "\"");
      self.report_lost(p);
      return;
    }

    PeerEvent e;
    e.kind = PeerEvent::Kind::found;
    e.node_id = decoded->node_id;
    e.cluster = decoded->cluster;
    e.role = decoded->role;
    e.public_key = decoded->public_key;
    e.protocol = decoded->protocol;
    e.name = name ? name : "";
    e.host_name = host_name ? host_name : "";
    char addr[AVAHI_ADDRESS_STR_MAX] = {};
    avahi_address_snprint(addr, sizeof addr, a);
    e.address = addr;
    e.family = a->proto == AVAHI_PROTO_INET6 ? IpFamily::ipv6 : IpFamily::ipv4;
    e.port = port;
    e.interface_index = interface;
    e.interface_name = interface_name_of(interface);
    if (p.flushed) {
      if (same_data(p.last, e)) return;  // the stale records again, from avahi's cache
      p.flushed = false;                 // new data: it is back
      self.forget_reconfirmation(e.node_id);
    }
    if (p.reported && same_data(p.last, e)) return;
    p.reported = true;
    p.last = e;
    self.pending.push_back(std::move(e));
  }

  // ---- lifecycle -----------------------------------------------------------

  void deliver() {
    std::vector<PeerEvent> events;
    events.swap(pending);
    if (stopped) return;
    for (const auto& e : events) on_event(e);
  }

  // Frees every avahi object. With `goodbye`, first withdraws the service and
  // keeps the responder running briefly so the TTL-0 answers go out.
  void shut_down(bool goodbye) {
    if (!server) return;
    for (auto it = paths.begin(); it != paths.end();) {
      Path& p = *it->second;
      if (p.resolver) avahi_s_service_resolver_free(p.resolver);
      if (p.retry) poll.api()->timeout_free(p.retry);
      it = paths.erase(it);
    }
    if (browser) avahi_s_service_browser_free(browser);
    browser = nullptr;
    if (responder_check) poll.api()->timeout_free(responder_check);
    responder_check = nullptr;
    if (address_group) avahi_s_entry_group_free(address_group);  // schedules the goodbyes
    address_group = nullptr;
    if (group) avahi_s_entry_group_free(group);  // schedules the goodbyes
    group = nullptr;
    if (goodbye) {
      auto deadline = std::chrono::steady_clock::now() + kGoodbyeLinger;
      while (std::chrono::steady_clock::now() < deadline) {
        int wait = poll.timeout_ms();
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        // Goodbyes are due at once; what comes later (history expiry) need not wait.
        if (wait < 0 || wait > 50) break;
        std::vector<PollFd> fds = poll.fds();
        std::vector<pollfd> sys;
        for (const auto& f : fds) sys.push_back({f.fd, to_poll_events(f.events), 0});
        int n = ::poll(sys.data(), sys.size(), std::min<int>(wait, static_cast<int>(left.count())));
        for (std::size_t i = 0; n > 0 && i < sys.size(); ++i) fds[i].revents = from_poll_events(sys[i].revents);
        poll.dispatch(fds);
      }
    }
    avahi_server_free(server);
    server = nullptr;
    pending.clear();
    if (g_log_sink == &options.log) g_log_sink = nullptr;
  }
};

Discovery::Discovery(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Discovery::~Discovery() { stop(); }

Result<std::unique_ptr<Discovery>> Discovery::start(Announcement announcement, DiscoveryOptions options,
                                                    EventHandler on_event) {
  SHOPSYNC_TRY(validate(announcement));
  if (!on_event) return Status::invalid("discovery needs an event handler");
  if (options.record_ttl.count() < 1 || options.record_ttl.count() > 4500)
    return Status::invalid("record TTL must be 1 to 4500 seconds");
  if (!options.use_ipv4 && !options.use_ipv6) return Status::invalid("neither IPv4 nor IPv6 enabled");
  if (!options.host_name.empty() &&
      (options.host_name.size() > 63 || options.host_name.find('.') != std::string::npos))
    return Status::invalid("host name must be one label of at most 63 bytes, got \"" + options.host_name + "\"");

  auto impl = std::make_unique<Impl>();
  impl->announcement = std::move(announcement);
  impl->options = std::move(options);
  impl->on_event = std::move(on_event);
  impl->published_name = impl->announcement.name;
  switch (impl->options.address_publishing) {
    case AddressPublishing::always: impl->publishing_addresses = true; break;
    case AddressPublishing::never: impl->publishing_addresses = false; break;
    case AddressPublishing::automatic: impl->publishing_addresses = !mdns_port_taken(); break;
  }

  g_log_sink = &impl->options.log;
  avahi_set_log_function(&log_to_sink);

  AvahiServerConfig config;
  avahi_server_config_init(&config);
  if (!impl->options.host_name.empty()) {
    avahi_free(config.host_name);
    config.host_name = avahi_strdup(impl->options.host_name.c_str());
  }
  config.use_ipv4 = impl->options.use_ipv4;
  config.use_ipv6 = impl->options.use_ipv6;
  for (const auto& name : impl->options.allow_interfaces)
    config.allow_interfaces = avahi_string_list_add(config.allow_interfaces, name.c_str());
  for (const auto& name : impl->options.deny_interfaces)
    config.deny_interfaces = avahi_string_list_add(config.deny_interfaces, name.c_str());
  // The host's own records only when no other responder publishes them; never
  // HINFO, _workstation or browse domains: that is an avahi-daemon's business.
  config.publish_addresses = impl->publishing_addresses;
  config.publish_hinfo = 0;
  config.publish_workstation = 0;
  config.publish_domain = 0;
  config.publish_a_on_ipv6 = 0;
  config.publish_aaaa_on_ipv4 = 0;
  config.add_service_cookie = 0;
  config.enable_reflector = 0;
  config.enable_wide_area = 0;       // no unicast DNS: mDNS on the LAN only
  config.disallow_other_stacks = 0;  // share UDP 5353 with an avahi-daemon
  config.use_iff_running = impl->options.require_link_beat;

  int error = 0;
  Impl* raw = impl.get();
  AvahiServer* server = avahi_server_new(raw->poll.api(), &config, &Impl::on_server_state, raw, &error);
  avahi_server_config_free(&config);
  if (!server) {
    g_log_sink = nullptr;
    return Status::io_error(std::string("starting the mDNS responder: ") + avahi_strerror(error));
  }
  raw->server = server;
  if (raw->state.starts_with("failed")) return Status::io_error("starting the mDNS responder: " + raw->state);

  std::string type(kServiceType);
  raw->browser = avahi_s_service_browser_new(server, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, type.c_str(), nullptr,
                                             AvahiLookupFlags{}, &Impl::on_browse, raw);
  if (!raw->browser)
    return Status::io_error(std::string("browsing for ") + type + ": " + avahi_strerror(avahi_server_errno(server)));
  // Publish now rather than when the host name is established: avahi probes
  // the host's and the service's records side by side. Should the host name
  // turn out to be taken, the records are re-added for the new one.
  AvahiServerState st = avahi_server_get_state(server);
  if (!raw->group && (st == AVAHI_SERVER_REGISTERING || st == AVAHI_SERVER_RUNNING)) raw->publish(server);
  if (raw->state.starts_with("failed")) return Status::io_error("publishing the service: " + raw->state);
  if (raw->options.address_publishing == AddressPublishing::automatic && !raw->publishing_addresses)
    raw->schedule_responder_check();
  return std::unique_ptr<Discovery>(new Discovery(std::move(impl)));
}

std::vector<PollFd> Discovery::fds() const {
  if (impl_->stopped) return {};
  std::vector<PollFd> out = impl_->poll.fds();
  for (const PollFd& f : impl_->querier.fds()) out.push_back(f);
  return out;
}

int Discovery::timeout_ms() const {
  if (impl_->stopped) return -1;
  if (!impl_->pending.empty()) return 0;
  int wait = impl_->poll.timeout_ms();
  if (auto next = impl_->reconfirm.next_ms()) {
    const std::uint64_t now = Impl::steady_ms();
    const int until = *next <= now ? 0 : static_cast<int>(std::min<std::uint64_t>(*next - now, 60'000));
    wait = wait < 0 ? until : std::min(wait, until);
  }
  return wait;
}

void Discovery::dispatch(std::span<const PollFd> ready) {
  if (impl_->stopped) return;
  const std::vector<PollFd> queriers = impl_->querier.fds();
  for (const auto& r : ready) {
    if (!(r.revents & poll_in)) continue;
    if (std::any_of(queriers.begin(), queriers.end(), [&](const PollFd& q) { return q.fd == r.fd; })) {
      for (NodeId peer : impl_->querier.read(r.fd)) impl_->reconfirmed(peer);  // our reconfirm queries' answers
    } else {
      ++impl_->mdns_reads;
    }
  }
  impl_->poll.dispatch(ready);
  impl_->run_reconfirm();
  impl_->deliver();
}

void Discovery::heard_from(NodeId peer) {
  if (!impl_->stopped && impl_->reconfirm.heard_from(peer, Impl::steady_ms())) impl_->run_reconfirm();
}

bool Discovery::reconfirm(NodeId peer) { return !impl_->stopped && impl_->start_reconfirm(peer); }

void Discovery::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->shut_down(true);
  impl_->state = "stopped";
}

std::string Discovery::published_name() const { return impl_->published_name; }

std::string Discovery::state() const { return impl_->state; }

std::vector<PeerEvent> Discovery::peers() const {
  std::vector<PeerEvent> out;
  for (const auto& [key, p] : impl_->paths) {
    if (p->reported) out.push_back(p->last);
  }
  return out;
}

DiscoveryDiagnostics Discovery::diagnostics() const {
  const Impl& d = *impl_;
  DiscoveryDiagnostics out;
  out.published_name = d.published_name;
  if (d.server) out.host_name = avahi_server_get_host_name_fqdn(d.server);
  out.publishing_addresses = d.publishing_addresses;
  out.state = d.state;
  out.name_conflicts = d.name_conflicts;
  out.mdns_reads = d.mdns_reads;
  out.peers = peers();
  out.refused.assign(d.refused.begin(), d.refused.end());
  const std::uint64_t now = Impl::steady_ms();
  for (const auto& [peer, e] : d.reconfirm.entries()) {
    auto name = d.reconfirm_names.find(peer);
    out.reconfirmations.push_back({peer, name == d.reconfirm_names.end() ? std::string() : name->second,
                                   std::string(to_string(e.state)), now - std::min(now, e.since_ms), e.queries});
  }
  out.interfaces = list_mdns_interfaces(d.options.allow_interfaces, d.options.deny_interfaces);
  for (auto& i : out.interfaces) {
    if (auto it = d.answers_by_interface.find(i.index); it != d.answers_by_interface.end())
      i.answers_received = it->second;
    i.peers_seen = static_cast<std::uint64_t>(
        std::count_if(out.peers.begin(), out.peers.end(), [&](const PeerEvent& e) { return e.interface_index == i.index; }));
  }
  return out;
}

}  // namespace shopsync::discovery
