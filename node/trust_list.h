// The node's trust decisions on its store: which CURVE keys may connect,
// what `shopsync trust add/rm` and the keys a configuration names change
// (the rows themselves: trusted_keys.h). What a change means for the peers
// (dialing, ending sessions) is Peering's; the node tells it.
//
// Thread-safety: none; the node's loop thread only. `store` and `clock` (the
// wall clock, for the times kept with each key) must outlive it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "node/trusted_keys.h"
#include "replication/clock.h"
#include "storage/store.h"

namespace shopsync {

class TrustList {
 public:
  TrustList(Store& store, Clock& clock) : store_(store), clock_(clock) {}

  // Whether `key` is trusted now; false (logged) when the list does not read.
  bool contains(std::string_view key) const;
  // Every trusted key; none (logged) when the list does not read.
  std::vector<std::string> keys() const;
  // The operator trusts `key` (again): added, and its revocation lifted.
  Status add(const std::string& key, const std::string& name);
  // The operator revokes `key`: removed and remembered as revoked. false: it
  // was not trusted.
  Result<bool> revoke(const std::string& key);
  // Stores the keys a configuration names, but not those revoked (logged,
  // with how to trust them again). Returns the keys that were not trusted before.
  Result<std::vector<std::string>> add_configured(const std::vector<TrustedKeyRow>& rows);

 private:
  Store& store_;
  Clock& clock_;
};

}  // namespace shopsync
