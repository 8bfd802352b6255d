// Grants: which records a node key or a gateway token may read and write
// (issue #18; docs/replication.md, "Partial replication").
//
// A grant names, per collection, `read` or `read_write` access and an
// optional record filter: a field whose value is one of a list of strings
// (`branch = north|south`). A subject with no grant, or an admin grant, is not
// restricted. Grants are data: one record per subject in the reserved
// collection kGrantsCollection, field "grant" = the grant's text form, so that
// they replicate with the records' own causality (dots, contexts, the
// collection's strategy) and every node converges on the same grants.
//
// Text form (also what `shopsync grant` takes and prints):
//   admin                           may change grants; reads and writes everything
//   orders:rw:branch=north|south    read-write orders whose branch is north or south
//   customers:r                     read every customer
// (`read` and `read_write` are accepted for `r` and `rw`; the text form says r, rw.)
// entries separated by spaces or commas.
//
// A Scope is the projection a grant allows for reading or for writing: a set
// of collections, each whole or filtered, or every collection but some. Every
// read scope includes the grants collection (a node must know the grants to
// apply them); only admin write scopes include it, and once the cluster names
// an admin, a subject with no grant writes everything but the grants
// (node/grant_policy.h).
//
// Thread-safety: plain values.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/status.h"
#include "storage/record.h"

namespace shopsync {

inline constexpr std::string_view kGrantsCollection = "shopsync_grants";
// The field of a grant record that holds the grant's text form.
inline constexpr std::string_view kGrantField = "grant";

enum class Access { read, read_write };

// A record matches when its field `field` holds one of `values` (compared as
// MessagePack strings).
struct RecordFilter {
  std::string field;
  std::set<std::string> values;  // UTF-8 text, as written in the grant
  bool operator==(const RecordFilter&) const = default;
};

struct CollectionGrant {
  Access access = Access::read;
  std::optional<RecordFilter> filter;  // none: every record of the collection
  bool operator==(const CollectionGrant&) const = default;
};

struct Grant {
  bool admin = false;
  std::map<std::string, CollectionGrant, std::less<>> collections;
  bool operator==(const Grant&) const = default;
};

// invalid_argument naming the bad entry (unknown access, bad collection name,
// empty field or value list, a collection named twice, the grants collection).
Result<Grant> parse_grant(std::string_view text);
// The canonical text form (parse_grant(to_text(g)) == g).
std::string to_text(const Grant& grant);

// The records a subject may read, or may write.
class Scope {
 public:
  // Everything (an admin, or no grant at all).
  static Scope everything();
  // Every collection but the grants (no grant, where the cluster names an admin).
  static Scope everything_but_grants();
  static Scope read_scope(const Grant& grant);
  static Scope write_scope(const Grant& grant);

  bool unrestricted() const { return everything_ && except_.empty(); }
  // The collection is (partly) in scope.
  bool has_collection(std::string_view collection) const;
  // Every version of the collection is in scope (no filter): a writer needs
  // no look at the versions it writes there.
  bool whole_collection(std::string_view collection) const;
  // A version is in scope when its collection is, and, for a filtered
  // collection, it is live and its field matches. A tombstone of a filtered
  // collection is in no filtered scope: a deleted record leaves it.
  bool contains(const RecordKey& key, const Version& version) const;
  // A record is in scope when one of its siblings is (a conflicted record
  // shows to every scope one of its versions is in).
  bool contains(const RecordKey& key, const RecordState& state) const;
  // A stable text for the scope (stored by a scoped node to notice a change).
  std::string fingerprint() const;
  bool operator==(const Scope&) const = default;

 private:
  bool everything_ = false;
  std::set<std::string, std::less<>> except_;  // with everything_: the collections left out
  std::map<std::string, std::optional<RecordFilter>, std::less<>> collections_;
  // Filter values as MessagePack strings, the bytes Field::packed holds.
  std::map<std::string, std::set<std::string>, std::less<>> packed_values_;
};

// A subject's grant as status lines show it: its text, or what having none
// means (every record, or every record but the grants once `admin_named`).
std::string grant_or_none(std::string_view text, bool admin_named);

// Whether a subject with write scope `writer` may write `version`: a
// tombstone where its collection is (deleting a record needs its versions,
// checked as superseded, in scope), any other version when the scope
// contains it.
bool may_write(const Scope& writer, const RecordKey& key, const Version& version);
// Why such a subject may not make `version` the new value of a record that
// holds `current` (what a local write supersedes), "" when it may: the new
// version and every version it supersedes must be writable. The local writes
// of a scoped node and the HTTP gateway's scoped tokens both ask it.
std::string local_write_violation(const Scope& writer, const RecordKey& key, const std::vector<Version>& current,
                                  const Version& version);

}  // namespace shopsync
