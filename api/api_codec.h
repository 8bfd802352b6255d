// The MessagePack encoding of local API requests and responses
// (docs/local-api.md, version kApiVersion).
//
// A request is a map {v, req_id?, op, ...arguments}; a response is a map
// {v, req_id?, op, ok, result | error{code, message}}. Unknown keys are ignored
// so that both sides can grow; a request of a newer version than this node
// speaks is refused with a protocol error.
//
// Decoding takes bytes from any local process and never trusts them: sizes and
// nesting are bounded, trailing bytes rejected, field values checked against
// the data model (no ext types, UTF-8 strings, at most kMaxValueDepth levels).
// Every failure is a Status naming what is wrong; nothing throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/api_types.h"
#include "core/status.h"

namespace shopsync::api {

struct Request {
  std::optional<std::uint64_t> req_id;  // echoed in the response
  RequestBody body;
  std::string auth{};  // the node's API credential (api_credential.h); "": none
  bool operator==(const Request&) const = default;
};

// What a server knows about a request it received, even a malformed one:
// the id and op (when they could be read) let it address its error reply.
struct DecodedRequest {
  std::optional<std::uint64_t> req_id;
  std::optional<Op> op;
  Status status;     // ok, or why the request is refused (invalid_argument / protocol)
  RequestBody body;  // meaningful when status is ok
  std::string auth;  // the credential it carried, "" when none
};

std::string encode_request(const Request& request);
DecodedRequest decode_request(std::string_view bytes);

struct Response {
  std::optional<std::uint64_t> req_id;
  Op op = Op::status;
  Status error;        // ok when the operation succeeded
  ResponseBody body;   // meaningful when error is ok
};

std::string encode_response(std::optional<std::uint64_t> req_id, Op op, const ResponseBody& body);
// `op` may be unknown when the request was too malformed to name one.
std::string encode_error(std::optional<std::uint64_t> req_id, std::optional<Op> op, const Status& error);

// protocol error when the bytes are not a response of a version this client
// reads; an error response decodes fine and carries its Status in `error`.
Result<Response> decode_response(std::string_view bytes);

}  // namespace shopsync::api
