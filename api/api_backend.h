// What the local API asks of the node: one method per operation.
//
// ApiServer decodes a request, calls the backend and encodes what it returns;
// the backend never sees bytes or sockets. app::RecordService (the node's
// application service, app/record_service.h) implements the records, tokens
// and users over a Replica and its Store; the daemon adds peers, trust, key.
//
// Errors are Status values with the Errc the client sees (docs/local-api.md):
// not_found, invalid_argument, too_large, refused, unavailable, io_error, ...
// The messages name what failed ("customers/C1: no sibling with dot ...").
//
// Thread-safety: the server calls a backend from the one thread that polls
// the API socket (the node's event loop), one call at a time.
#pragma once

#include <string_view>

#include "api/api_types.h"
#include "core/status.h"

namespace shopsync::api {

class ApiBackend {
 public:
  virtual ~ApiBackend() = default;

  // ---- records
  virtual Result<WriteResult> put(const PutRequest& request) = 0;
  // not_found when the record is unknown or deleted (a deleted record that is
  // still conflicted is returned, with deleted = true).
  virtual Result<RecordView> get(const RecordKey& key) = 0;
  // not_found when the record is unknown or already deleted.
  virtual Result<WriteResult> remove(const RecordKey& key) = 0;
  virtual Result<ListPage> list(const ListRequest& request) = 0;
  virtual Result<CollectionList> collections() = 0;
  // Never waits: the server parks long polls and asks again after
  // ApiServer::notify_changes().
  virtual Result<ChangesPage> changes(const ChangesRequest& request) = 0;
  virtual Result<ConflictsPage> conflicts(const ConflictsRequest& request) = 0;
  virtual Result<WriteResult> resolve(const ResolveRequest& request) = 0;

  // ---- the node
  virtual Result<NodeStatus> status() = 0;
  virtual Result<PeerList> peers() = 0;
  virtual Result<TrustedKeyList> trusted_keys() = 0;
  // invalid_argument when `key` is not a Z85 CURVE public key.
  virtual Status trust(const TrustAddRequest& request) = 0;
  // not_found when the key is not trusted.
  virtual Status distrust(std::string_view key) = 0;
  virtual Result<PublicKey> public_key() = 0;
  // What mDNS discovery sees (`shopsync doctor`); unavailable where no
  // discovery runs in this process.
  virtual Result<DiscoveryReport> discovery() = 0;
  // not_found for a peer never known; refused while it is connected.
  virtual Status forget_peer(NodeId peer) = 0;

  // ---- the HTTP gateway's tokens and users (app/tokens.h, app/users.h)
  // invalid_argument for a bad name, one that exists or a bad scope.
  virtual Result<TokenSecret> create_token(const TokenCreateRequest& request) = 0;
  virtual Result<CredentialList> list_tokens() = 0;
  // not_found when no token has that name.
  virtual Status revoke_token(std::string_view name) = 0;
};

}  // namespace shopsync::api
