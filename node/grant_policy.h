// The daemon's AccessPolicy (replication/access_policy.h): the cluster's
// grants, records of kGrantsCollection whose id is the *subject*, applied to
// node keys (docs/operations.md, "Grants").
//
// A node's subject is its CURVE public key in the spoken form
// (`akyb-m979-...`, what `shopsync key`, `trust ls` and `peers` print;
// grant_subject() turns either key form into it). Other subjects (a gateway
// token's) are plain strings the policy keeps but never matches to a node. A
// node whose key has no grant, or whose key is unknown (an --insecure node),
// reads everything, and writes everything until the cluster names an admin
// (a grant `admin` that parses): from then on only admins change grants, and
// such a node writes everything but the grants. A grant record whose `grant`
// field is missing or does not parse fails closed: its subject reads the
// grants only and writes nothing, and the problem is kept for `doctor` and
// the log.
//
// The Replica asks from inside its write transactions, so the policy never
// reads the store when asked: it answers from what load() read. The node
// calls load() at start, before Replica::open, and again after a commit that
// changed a grant record.
//
// Thread-safety: none; the node's loop thread only.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "replication/access_policy.h"
#include "replication/strategy.h"
#include "storage/store.h"

namespace shopsync {

// What the grants collection says of one subject.
struct SubjectGrant {
  Grant grant;
  std::string text;     // the `grant` field as stored
  std::string problem;  // why it does not parse ("" when it does)
};

class GrantPolicy final : public AccessPolicy {
 public:
  // The subject of a node id: its public key in the spoken form, "" when unknown.
  using SubjectOf = std::function<std::string(NodeId)>;
  explicit GrantPolicy(SubjectOf subject_of) : subject_of_(std::move(subject_of)) {}

  // Reads every grant record, each by its visible value under the grants
  // collection's strategy `kind` (a deleted record is no grant). Store errors
  // only; a record that does not decode is left out (the store logs it).
  Status load(StoreReader& reader, StrategyKind kind, std::uint64_t tolerance_ms);

  // Subject -> grant, as load() read them.
  const std::map<std::string, SubjectGrant, std::less<>>& grants() const { return grants_; }
  // The grant of a node, nullopt when it has none (unrestricted).
  const SubjectGrant* grant_of(NodeId node) const;
  // Some subject's grant is `admin`: only admins change grants.
  bool admin_named() const { return admin_named_; }
  // The subject a node's grant is stored under ("" when its key is unknown).
  std::string subject_of(NodeId node) const { return subject_of_(node); }

  Scope read_scope(NodeId node) const override;
  Scope write_scope(NodeId node) const override;

 private:
  SubjectOf subject_of_;
  std::map<std::string, SubjectGrant, std::less<>> grants_;
  bool admin_named_ = false;
};

}  // namespace shopsync
