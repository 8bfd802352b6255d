// The values the local API carries (docs/local-api.md): one request type per
// operation and the answers. Plain value types, shared by the server, the
// client, the CLI and the backends; the MessagePack shapes are in api_codec.h.
//
// Field values cross the API as MessagePack: a PackedValue holds the exact
// encoding of ONE value (what storage's Field::packed holds), never a document.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"
#include "storage/record.h"

namespace shopsync::api {

// The version of the request/response shapes. A request names the version it
// was written for; a node answers requests of versions it speaks.
inline constexpr std::uint64_t kApiVersion = 1;

// The default address of the local API (flag --api of shopsyncd and shopsync).
inline constexpr std::string_view kDefaultApiAddress = "tcp://127.0.0.1:7461";

// Bounds a client may ask for; larger values are clamped, not refused.
inline constexpr std::uint32_t kDefaultPageLimit = 100;
inline constexpr std::uint32_t kMaxPageLimit = 1000;
// The largest request the server reads (ZMQ_MAXMSGSIZE; a bigger one closes
// the connection unanswered, so the client refuses to send it). A record is
// at most 1 MiB encoded: this leaves room for any request that carries one.
inline constexpr std::int64_t kMaxRequestBytes = 8 << 20;
inline constexpr std::uint32_t kMaxWaitMs = 60'000;
inline constexpr std::size_t kMaxUnreadableListed = 100;

using PackedValue = std::string;  // MessagePack encoding of one value
using FieldValues = std::map<std::string, PackedValue, std::less<>>;

enum class Op {
  put, get, remove, list, collections, changes, conflicts, resolve,
  status, peers, trust_add, trust_list, trust_remove, key, discovery, forget_peer,
  token_create, token_list, token_revoke,
};
std::string_view to_string(Op op);              // "put", ..., "delete" for remove
std::optional<Op> parse_op(std::string_view name);

// ---- requests --------------------------------------------------------------

enum class PutMode { replace, patch };

// replace: the record becomes exactly `fields`. patch: `fields` are set, the
// names in `unset` removed, every other field kept.
struct PutRequest {
  RecordKey key;
  FieldValues fields;
  PutMode mode = PutMode::replace;
  std::vector<std::string> unset;  // patch only
  bool operator==(const PutRequest&) const = default;
};

struct GetRequest {
  RecordKey key;
  bool operator==(const GetRequest&) const = default;
};

struct DeleteRequest {
  RecordKey key;
  bool operator==(const DeleteRequest&) const = default;
};

// Live records of one collection in id order, strictly after `after`.
struct ListRequest {
  std::string collection;
  std::string after;
  std::uint32_t limit = kDefaultPageLimit;
  bool operator==(const ListRequest&) const = default;
};

struct CollectionsRequest {
  bool operator==(const CollectionsRequest&) const = default;
};

// Where a changes feed stands: per origin node, the counter up to which the
// reader has seen the changes. Crosses the API as an opaque string
// (version_vector_text / parse_version_vector); "" is the beginning of time.
using ChangeCursor = VersionVector;

// Changes after `since`. With wait_ms > 0 and nothing to report, the node
// holds the request until a change arrives or wait_ms passes (a long poll).
struct ChangesRequest {
  ChangeCursor since;
  bool since_now = false;        // start at the node's present knowledge
  std::string collection;        // "" = every collection
  std::uint32_t limit = kDefaultPageLimit;
  std::uint32_t wait_ms = 0;
  bool operator==(const ChangesRequest&) const = default;
};

// Open conflicts (records still marked conflicted) and conflict log entries
// with seq > log_after.
struct ConflictsRequest {
  std::string collection;        // "" = every collection
  std::uint64_t log_after = 0;
  std::uint32_t limit = kDefaultPageLimit;
  bool operator==(const ConflictsRequest&) const = default;
};

// Exactly one of pick (a sibling's dot) and fields (the merged record).
struct ResolveRequest {
  RecordKey key;
  std::optional<Dot> pick;
  std::optional<FieldValues> fields;
  bool operator==(const ResolveRequest&) const = default;
};

struct StatusRequest {
  bool operator==(const StatusRequest&) const = default;
};
struct PeersRequest {
  bool operator==(const PeersRequest&) const = default;
};

// key: a CURVE public key in Z85 (40 characters). name: a note for people.
struct TrustAddRequest {
  std::string key;
  std::string name;
  bool operator==(const TrustAddRequest&) const = default;
};
struct TrustListRequest {
  bool operator==(const TrustListRequest&) const = default;
};
struct TrustRemoveRequest {
  std::string key;
  bool operator==(const TrustRemoveRequest&) const = default;
};
struct KeyRequest {
  bool operator==(const KeyRequest&) const = default;
};
// What discovery sees and does (`shopsync doctor`).
struct DiscoveryRequest {
  bool operator==(const DiscoveryRequest&) const = default;
};
// Retires a peer that is gone for good (`shopsync forget`): it no longer holds
// back tombstone removal, and leaves the peers and pending lists.
struct ForgetPeerRequest {
  NodeId node = 0;
  bool operator==(const ForgetPeerRequest&) const = default;
};

// The HTTP gateway's Bearer tokens (`shopsync token`, app/tokens.h) and the
// users of its built-in login (`shopsync user`, app/users.h), kept by the
// daemon: the CLI asks it instead of writing its store.
struct TokenCreateRequest {
  std::string name;
  std::string scope{};  // a grant's text form (replication/grant.h); "": unrestricted
  bool operator==(const TokenCreateRequest&) const = default;
};
struct TokenListRequest {
  bool operator==(const TokenListRequest&) const = default;
};
struct TokenRevokeRequest {
  std::string name;
  bool operator==(const TokenRevokeRequest&) const = default;
};

using RequestBody =
    std::variant<PutRequest, GetRequest, DeleteRequest, ListRequest, CollectionsRequest, ChangesRequest,
                 ConflictsRequest, ResolveRequest, StatusRequest, PeersRequest, TrustAddRequest,
                 TrustListRequest, TrustRemoveRequest, KeyRequest, DiscoveryRequest, ForgetPeerRequest,
                 TokenCreateRequest, TokenListRequest, TokenRevokeRequest>;
Op op_of(const RequestBody& body);

// ---- answers ---------------------------------------------------------------

// The outcome of a local write (put, delete, resolve).
struct WriteResult {
  Dot dot;
  Hlc updated_at = 0;
  bool operator==(const WriteResult&) const = default;
};

struct SiblingView {
  Dot dot;
  Hlc updated_at = 0;
  bool deleted = false;
  bool uplink_origin = false;
  FieldValues fields;
  bool operator==(const SiblingView&) const = default;
};

// A record as an application sees it: the visible value chosen by the
// collection's strategy and, when there are several, every sibling.
struct RecordView {
  RecordKey key;
  FieldValues fields;        // the visible value
  Dot dot;                   // the visible version's dot
  Hlc updated_at = 0;
  bool deleted = false;      // the visible version is a tombstone
  bool conflicted = false;   // siblings await a resolution
  std::uint32_t sibling_count = 1;
  std::vector<SiblingView> siblings;  // filled by get and conflicts when sibling_count > 1
  std::string strategy;      // filled by conflicts
  bool operator==(const RecordView&) const = default;
};

struct ListPage {
  std::vector<RecordView> records;
  std::optional<std::string> next_after;  // pass as `after` for the next page; nullopt = done
  bool operator==(const ListPage&) const = default;
};

struct CollectionCount {
  std::string name;
  std::uint64_t records = 0;  // live (not deleted) records
  bool operator==(const CollectionCount&) const = default;
};
struct CollectionList {
  std::vector<CollectionCount> collections;
  bool operator==(const CollectionList&) const = default;
};

struct Change {
  RecordKey key;
  Dot dot;
  Hlc updated_at = 0;
  bool deleted = false;
  bool operator==(const Change&) const = default;
};
struct ChangesPage {
  std::vector<Change> changes;  // oldest first
  ChangeCursor cursor;          // pass as `since` for the next call
  bool more = false;            // more changes are ready now
  bool operator==(const ChangesPage&) const = default;
};

// One entry of the conflict log (storage's ConflictEntry, as the API shows it).
struct ConflictLogEntry {
  std::uint64_t seq = 0;
  RecordKey key;
  std::string strategy;
  Dot winner;
  bool near_simultaneous = false;
  Hlc detected_at = 0;
  NodeId detected_by = 0;
  std::vector<SiblingView> siblings;
  bool operator==(const ConflictLogEntry&) const = default;
};

struct ConflictsPage {
  std::vector<RecordView> open;        // with siblings and strategy
  std::vector<ConflictLogEntry> log;   // seq > log_after, oldest first
  std::uint64_t last_seq = 0;          // pass as log_after for the next page
  bool operator==(const ConflictsPage&) const = default;
};

// How far a running sync from a peer has come (docs/operations.md, "Sync
// progress"). Totals are estimates: the changes the peer's knowledge holds that
// ours lacks, superseded writes included. All 0 when no sync runs.
struct SyncProgress {
  std::uint64_t records_received = 0;  // in this sync
  std::uint64_t records_total = 0;     // received + still to go (estimate)
  std::uint64_t bytes_received = 0;    // frames of this sync's batches
  std::uint64_t bytes_total = 0;       // received + still to go at the average record size (estimate)
  std::uint64_t rate = 0;              // records/s over the last 10 s
  std::uint64_t eta_ms = 0;            // still to go / rate; 0 while the rate is unknown
  bool operator==(const SyncProgress&) const = default;
};

// A peer this node is receiving a sync from (`status`).
struct PeerSync {
  NodeId peer = 0;
  std::string peer_name;
  SyncProgress progress;
  bool operator==(const PeerSync&) const = default;
};

struct PendingChanges {
  NodeId peer = 0;
  std::string peer_name;
  std::uint64_t total = 0;  // changes this node has that the peer's knowledge lacks
  std::map<std::string, std::uint64_t> per_collection;
  bool operator==(const PendingChanges&) const = default;
};

// A stored record that does not decode (storage/unreadable_records.h):
// skipped by every read and by replication until it is overwritten or deleted.
struct UnreadableRecord {
  RecordKey key;
  std::string reason;      // what the decoder said
  std::string written_by;  // the nodes whose writes it holds, by name where known
  bool operator==(const UnreadableRecord&) const = default;
};

struct NodeStatus {
  NodeId node_id = 0;
  std::string name;
  std::string cluster;
  std::string role;  // "peer" | "uplink"
  std::string public_key;
  std::string version;
  VersionVector knowledge;
  std::uint64_t counter = 0;  // writes made at this node (all its writer ids)
  Hlc clock = 0;
  std::vector<CollectionCount> collections;
  std::vector<PendingChanges> pending;
  std::vector<PeerSync> syncing;  // syncs from peers running now
  std::uint64_t open_conflicts = 0;
  std::uint64_t uptime_ms = 0;
  std::uint64_t unreadable_records = 0;      // found so far by this process's reads
  std::vector<UnreadableRecord> unreadable;  // the first kMaxUnreadableListed of them
  std::string strategies;  // the strategy table's text (replication/strategy_table.h); "" from an older node
  std::uint64_t max_clock_skew_ms = 0;       // --max-clock-skew-ms: peers further off are refused (0: unknown)
  std::uint64_t refused_writes_disk_full = 0;  // writes refused for a full disk since the node started
  std::uint64_t disk_full_since_ms = 0;       // Unix ms; 0: the last write worked (the disk is not full)
  std::string disk_full_error;                // the last such refusal's message
  // The uplink's PostgreSQL link (docs/uplink.md, "PostgreSQL"); all empty/0 without --postgres.
  bool postgres = false;                      // --postgres is set
  bool postgres_connected = false;
  std::string postgres_error;                 // why the link last failed ("" never)
  std::uint64_t postgres_slot_retained_bytes = 0;  // WAL the slot holds back (last reading)
  std::string postgres_slot_wal_status;       // pg_replication_slots.wal_status ("" not read yet)
  // Grants (docs/operations.md, "Grants"); all empty/0 from an older node.
  std::string grant;                 // this node's grant as the grants collection says now ("" none: unrestricted)
  bool grant_needs_restart = false;  // it changed since the node started: it holds the old scope until a restart
  std::uint64_t grants = 0;          // grant records in the cluster
  bool admin_named = false;          // one of them is `admin`: a node with no grant changes no grant
  std::string grant_problems;        // "SUBJECT: why; ..." for grants that do not parse
  std::uint64_t records_refused = 0;  // records of peers' batches refused (outside their grant) since start
  // SIGHUP (docs/operations.md, "Reloading the configuration").
  std::uint64_t config_reloads = 0;  // reloads applied since start
  std::string config_reload_error;   // why the last SIGHUP changed nothing ("" when it applied, or none came)
  bool operator==(const NodeStatus&) const = default;
};

struct PeerInfo {
  NodeId node_id = 0;          // 0 while unknown (never connected)
  std::string name;
  std::string address;         // "host:port"
  std::string public_key;
  std::string role;
  std::string state;           // e.g. "connected", "connecting", "backoff", "refused"
  std::string found_by;        // "static", "mdns", "uplink", "inbound"
  std::uint64_t last_seen_ms = 0;  // Unix ms; 0 = never
  std::uint64_t last_sync_ms = 0;
  std::uint64_t lag_changes = 0;   // changes this node has that the peer lacks
  std::uint64_t lag_ms = 0;        // age of the oldest of them
  std::uint64_t records_in = 0;
  std::uint64_t records_out = 0;
  std::int64_t clock_offset_ms = 0;
  std::string last_error;
  std::uint64_t sessions = 0;  // sessions with it begun since this node started (each reconnection adds one)
  bool syncing = false;  // a sync from it runs now: `sync` says how far it came
  SyncProgress sync;
  bool operator==(const PeerInfo&) const = default;
};
struct PeerList {
  std::vector<PeerInfo> peers;
  bool operator==(const PeerList&) const = default;
};

struct TrustedKey {
  std::string key;
  std::string name;
  std::uint64_t added_ms = 0;
  bool operator==(const TrustedKey&) const = default;
};
// A key `shopsync trust rm` revoked: refused even when --trust, --peer or
// --uplink names it, until `shopsync trust add` trusts it again.
struct RevokedKey {
  std::string key;
  std::uint64_t revoked_ms = 0;
  bool operator==(const RevokedKey&) const = default;
};
struct TrustedKeyList {
  std::vector<TrustedKey> keys;
  std::vector<RevokedKey> revoked;
  bool operator==(const TrustedKeyList&) const = default;
};

struct PublicKey {
  std::string key;
  bool operator==(const PublicKey&) const = default;
};

// A token made by token_create: its secret is shown this once.
struct TokenSecret {
  std::string name;
  std::string token;
  bool operator==(const TokenSecret&) const = default;
};
// Tokens (token_list): names and creation times, never a secret.
struct Credential {
  std::string name;
  std::uint64_t created_ms = 0;
  std::string scope{};  // a token's grant, "": unrestricted
  bool operator==(const Credential&) const = default;
};
struct CredentialList {
  std::vector<Credential> entries;  // sorted by name
  bool operator==(const CredentialList&) const = default;
};

// ---- discovery (`shopsync doctor`, docs/discovery.md "Troubleshooting") -------

// One interface mDNS uses.
struct DiscoveryInterface {
  std::string name;
  std::uint32_t index = 0;
  std::vector<std::string> addresses;
  bool joined_ipv4 = false;  // member of 224.0.0.251 there
  bool joined_ipv6 = false;  // member of ff02::fb there
  std::uint64_t answers_received = 0;  // mDNS answers about other nodes' services
  std::uint64_t peers_seen = 0;        // paths to peers of this cluster seen there
  std::uint64_t kernel_ipv6_multicast_sent = 0;      // the kernel's counters, all programs
  std::uint64_t kernel_ipv6_multicast_received = 0;
  bool operator==(const DiscoveryInterface&) const = default;
};

// A node of this cluster seen on the LAN, by the path the node would use
// (IPv4 preferred), and what became of it.
struct DiscoveredPeer {
  NodeId node_id = 0;
  std::string name;
  std::string address;    // "198.18.0.2:7460", "[fe80::1%eth0]:7460"
  std::string interface_name;
  std::string family;     // "ipv4" | "ipv6"
  std::string role;
  std::string public_key;
  std::uint32_t protocol = 0;
  std::uint32_t paths = 0;  // interfaces x families it was seen on
  // connected | connecting (dialed, no answer yet) | waiting (found, not
  // dialed yet) | untrusted (its key is not trusted here) | unreachable
  // (dialing it failed) | incompatible (its protocol is too old)
  std::string state;
  std::string detail;     // what to do, or the last error
  // How long this node has known it without being connected to it: since it
  // was found, or since its last session ended (0 when connected).
  std::uint64_t unconnected_ms = 0;
  bool operator==(const DiscoveredPeer&) const = default;
};

// A service on the LAN that discovery ignored.
struct DiscoveryRefusal {
  std::string name;
  std::string interface_name;
  std::string reason;  // other_cluster | malformed_txt | unsupported_txtvers | unresolved | too_many
  std::string detail;
  std::uint64_t times = 0;
  bool operator==(const DiscoveryRefusal&) const = default;
};

// A peer whose mDNS records were asked for again after its link died without
// a goodbye (RFC 6762 10.4, discovery/reconfirm.h).
struct DiscoveryReconfirm {
  NodeId node_id = 0;
  std::string name;
  // asking (queries out, window open) | forgotten (no answer in the window:
  // dropped from the peers seen) | answered (it is there: kept)
  std::string state;
  std::uint64_t age_ms = 0;   // since the state began
  std::uint32_t queries = 0;  // sent since the failure
  bool operator==(const DiscoveryReconfirm&) const = default;
};

struct DiscoveryReport {
  bool enabled = false;        // discovery runs
  std::string off_reason;      // why not, when !enabled
  std::string state;           // probing | announced | renaming | failed: ... | stopped | off
  std::string published_name;  // the instance name after any renaming
  std::string host_name;       // the SRV target
  bool publishing_addresses = false;  // false: another responder (avahi-daemon) publishes them
  std::uint64_t name_conflicts = 0;
  std::uint64_t uptime_ms = 0;        // how long discovery has been listening
  std::uint32_t static_peers = 0;     // --peer and --uplink addresses configured
  std::vector<DiscoveryInterface> interfaces;
  std::vector<DiscoveredPeer> peers;
  std::vector<DiscoveryRefusal> refused;
  std::vector<DiscoveryReconfirm> reconfirmed;
  bool operator==(const DiscoveryReport&) const = default;
};

// The answer to trust_add / trust_remove.
struct Done {
  bool operator==(const Done&) const = default;
};

using ResponseBody = std::variant<Done, WriteResult, RecordView, ListPage, CollectionList, ChangesPage,
                                  ConflictsPage, NodeStatus, PeerList, TrustedKeyList, PublicKey, DiscoveryReport,
                                  TokenSecret, CredentialList>;

// ---- text forms used across the API ----------------------------------------

// The wall-clock milliseconds of an HLC reading.
inline std::uint64_t hlc_millis(Hlc hlc) { return hlc >> 16; }

// Errc names as they cross the API: the enumerator names ("not_found",
// "invalid_argument", ...). parse_errc gives nullopt for an unknown name.
std::string_view errc_name(Errc code);
std::optional<Errc> parse_errc(std::string_view name);

}  // namespace shopsync::api
