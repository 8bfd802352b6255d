// A client of the local API (docs/local-api.md): what the shopsync CLI, the
// inspector and tests use to talk to a node.
//
// One DEALER socket in a context of its own. Each call sends one request and
// waits for its answer (matched by req_id; late answers to earlier calls that
// timed out are skipped). ZeroMQ connects in the background, so an absent node
// shows as a timeout on the first call:
//   unavailable "connecting to tcp://127.0.0.1:7461: refused: is shopsyncd running?"
//   (at once, when nothing listens there) or "...: no answer within 5 s"
// An error the node answered comes back as that Status (its Errc and message);
// an answer that does not decode is a protocol error.
//
// Thread-safety: none; use one client per thread. Move-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "api/api_codec.h"
#include "api/api_types.h"
#include "core/status.h"

namespace shopsync::api {

// Accepts "tcp://HOST:PORT", "ipc://PATH", "HOST:PORT" (tcp) and "/path" or
// "./path" (ipc); returns the ZeroMQ endpoint. invalid_argument otherwise.
Result<std::string> parse_api_address(std::string_view text);

struct ApiClientOptions {
  ApiClientOptions(std::chrono::milliseconds wait = std::chrono::milliseconds(5000), std::string secret = "")
      : timeout(wait), credential(std::move(secret)) {}
  // How long a call waits for its answer (long polls wait this much more than
  // the wait they ask for).
  std::chrono::milliseconds timeout;
  // Sent with every request: the node's API credential (api_credential.h),
  // needed by a node started with --api-auth; "": none.
  std::string credential;
};

class ApiClient {
 public:
  // Does not wait for the node (see above). Errors: invalid_argument (bad
  // address), io_error (ZeroMQ could not start).
  static Result<ApiClient> connect(std::string_view address, ApiClientOptions options = {});
  ApiClient(ApiClient&&) noexcept;
  ApiClient& operator=(ApiClient&&) noexcept;
  ~ApiClient();

  const std::string& address() const;

  // Sends `request` and waits for its answer.
  Result<ResponseBody> call(const RequestBody& request);

  Result<WriteResult> put(const PutRequest& r) { return typed<WriteResult>(r); }
  Result<RecordView> get(const RecordKey& key) { return typed<RecordView>(GetRequest{key}); }
  Result<WriteResult> remove(const RecordKey& key) { return typed<WriteResult>(DeleteRequest{key}); }
  Result<ListPage> list(const ListRequest& r) { return typed<ListPage>(r); }
  Result<CollectionList> collections() { return typed<CollectionList>(CollectionsRequest{}); }
  Result<ChangesPage> changes(const ChangesRequest& r) { return typed<ChangesPage>(r); }
  Result<ConflictsPage> conflicts(const ConflictsRequest& r) { return typed<ConflictsPage>(r); }
  Result<WriteResult> resolve(const ResolveRequest& r) { return typed<WriteResult>(r); }
  Result<NodeStatus> status() { return typed<NodeStatus>(StatusRequest{}); }
  Result<PeerList> peers() { return typed<PeerList>(PeersRequest{}); }
  Result<DiscoveryReport> discovery() { return typed<DiscoveryReport>(DiscoveryRequest{}); }
  Result<TrustedKeyList> trusted_keys() { return typed<TrustedKeyList>(TrustListRequest{}); }
  Status trust(const TrustAddRequest& r) { return typed<Done>(r).status(); }
  Status distrust(std::string key) { return typed<Done>(TrustRemoveRequest{std::move(key)}).status(); }
  Status forget_peer(NodeId node) { return typed<Done>(ForgetPeerRequest{node}).status(); }
  Result<PublicKey> public_key() { return typed<PublicKey>(KeyRequest{}); }
  Result<TokenSecret> create_token(std::string name, std::string scope = "") {
    return typed<TokenSecret>(TokenCreateRequest{std::move(name), std::move(scope)});
  }
  Result<CredentialList> list_tokens() { return typed<CredentialList>(TokenListRequest{}); }
  Status revoke_token(std::string name) { return typed<Done>(TokenRevokeRequest{std::move(name)}).status(); }

  struct Impl;

 private:
  explicit ApiClient(std::unique_ptr<Impl> impl);

  template <class T>
  Result<T> typed(const RequestBody& request) {
    auto r = call(request);
    if (!r) return r.status();
    if (auto* v = std::get_if<T>(&r.value())) return std::move(*v);
    return Status::protocol("the node answered " + std::string(to_string(op_of(request))) +
                            " with a result of another operation");
  }

  std::unique_ptr<Impl> impl_;
};

}  // namespace shopsync::api
