#include "api/api_server.h"

#include <exception>
#include <type_traits>
#include <utility>

#include "api/api_credential.h"

namespace shopsync::api {

namespace {

// A REQ client sends [delimiter, body]; with the routing id ROUTER adds, the
// envelope is two frames. Allow a little more for proxies in between.
constexpr std::size_t kMaxEnvelopeFrames = 8;

template <class T>
Result<ResponseBody> widen(Result<T> r) {
  if (!r) return r.status();
  return ResponseBody(std::move(r).value());
}

Result<ResponseBody> done(Status s) {
  if (!s) return s;
  return ResponseBody(Done{});
}

bool is_write(Op op) { return op == Op::put || op == Op::remove || op == Op::resolve; }

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::bind(void* zmq_context, const std::string& address,
                                                   ApiBackend& backend, ApiServerOptions options) {
  zmq::Context context = zmq::Context::borrow(zmq_context);
  if (zmq_context == nullptr) {
    auto created = zmq::Context::create();
    if (!created) return created.status();
    context = std::move(created).value();
  }
  auto socket = zmq::Socket::open(context, zmq::SocketType::router);
  if (!socket) return socket.status().context("opening the API socket");
  SHOPSYNC_TRY(socket->set_max_message_size(options.max_request_bytes));
  SHOPSYNC_TRY(socket->bind(address));
  auto endpoint = socket->last_endpoint();
  if (!endpoint) return endpoint.status();
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(context), std::move(socket).value(),
                                                  std::move(endpoint).value(), backend, options));
}

ApiServer::ApiServer(zmq::Context context, zmq::Socket socket, std::string endpoint,
                     ApiBackend& backend, ApiServerOptions options)
    : context_(std::move(context)),
      socket_(std::move(socket)),
      endpoint_(std::move(endpoint)),
      backend_(backend),
      options_(options) {}

ApiServer::~ApiServer() = default;

Status ApiServer::on_readable() {
  for (int i = 0; i < options_.max_requests_per_call; ++i) {
    auto received = socket_.receive();
    if (!received) return received.status().context("API socket");
    if (!received->has_value()) break;
    handle(std::move((*received)->parts));
  }
  return Status::ok();
}

void ApiServer::handle(std::vector<std::string> parts) {
  ++stats_.requests;
  // ROUTER puts the sender's routing id first, so there are at least two parts
  // when the client sent anything; the last part is the request.
  if (parts.size() < 2) {
    ++stats_.malformed;
    return;  // nothing to address a reply to
  }
  std::string body = std::move(parts.back());
  parts.pop_back();
  if (parts.size() > kMaxEnvelopeFrames) {
    ++stats_.malformed;
    parts.resize(1);  // answer the sender, on a plain delimiter
    parts.emplace_back();
    reply(parts, error_reply(std::nullopt, std::nullopt,
                             Status::protocol("a request has at most " + std::to_string(kMaxEnvelopeFrames) +
                                              " envelope frames")));
    return;
  }
  DecodedRequest decoded = decode_request(body);
  if (!decoded.status) {
    ++stats_.malformed;
    reply(parts, error_reply(decoded.req_id, decoded.op, decoded.status));
    return;
  }
  if (!options_.credential.empty() && !same_secret(decoded.auth, options_.credential)) {
    ++stats_.unauthenticated;
    reply(parts, error_reply(decoded.req_id, decoded.op,
                             Status::refused(decoded.auth.empty() ? std::string(kNoCredential) : std::string(kWrongCredential))));
    return;
  }
  Request request{decoded.req_id, std::move(decoded.body), {}};
  std::optional<std::string> answer_bytes;
  try {
    answer_bytes = answer(parts, request);
  } catch (const std::exception& e) {
    // Backends return Status values; this is the last line against a bug or
    // an allocation failure taking the node down with it.
    answer_bytes = error_reply(request.req_id, op_of(request.body),
                               Status::io_error(std::string("internal error: ") + e.what()));
  }
  if (answer_bytes) reply(parts, *answer_bytes);
}

std::optional<std::string> ApiServer::answer(const std::vector<std::string>& envelope, const Request& request) {
  const Op op = op_of(request.body);
  if (const auto* changes = std::get_if<ChangesRequest>(&request.body)) {
    bool parked = false;
    std::string bytes = answer_changes(envelope, request, *changes, parked);
    if (parked) return std::nullopt;
    return bytes;
  }
  Result<ResponseBody> result = std::visit(
      [&](const auto& args) -> Result<ResponseBody> {
        using T = std::decay_t<decltype(args)>;
        if constexpr (std::is_same_v<T, PutRequest>) return widen(backend_.put(args));
        if constexpr (std::is_same_v<T, GetRequest>) return widen(backend_.get(args.key));
        if constexpr (std::is_same_v<T, DeleteRequest>) return widen(backend_.remove(args.key));
        if constexpr (std::is_same_v<T, ListRequest>) return widen(backend_.list(args));
        if constexpr (std::is_same_v<T, CollectionsRequest>) return widen(backend_.collections());
        if constexpr (std::is_same_v<T, ChangesRequest>) return widen(backend_.changes(args));
        if constexpr (std::is_same_v<T, ConflictsRequest>) return widen(backend_.conflicts(args));
        if constexpr (std::is_same_v<T, ResolveRequest>) return widen(backend_.resolve(args));
        if constexpr (std::is_same_v<T, StatusRequest>) return widen(backend_.status());
        if constexpr (std::is_same_v<T, PeersRequest>) return widen(backend_.peers());
        if constexpr (std::is_same_v<T, TrustAddRequest>) return done(backend_.trust(args));
        if constexpr (std::is_same_v<T, TrustListRequest>) return widen(backend_.trusted_keys());
        if constexpr (std::is_same_v<T, TrustRemoveRequest>) return done(backend_.distrust(args.key));
        if constexpr (std::is_same_v<T, KeyRequest>) return widen(backend_.public_key());
        if constexpr (std::is_same_v<T, DiscoveryRequest>) return widen(backend_.discovery());
        if constexpr (std::is_same_v<T, ForgetPeerRequest>) return done(backend_.forget_peer(args.node));
        if constexpr (std::is_same_v<T, TokenCreateRequest>) return widen(backend_.create_token(args));
        if constexpr (std::is_same_v<T, TokenListRequest>) return widen(backend_.list_tokens());
        if constexpr (std::is_same_v<T, TokenRevokeRequest>) return done(backend_.revoke_token(args.name));
      },
      request.body);
  if (!result) return error_reply(request.req_id, op, result.status());
  std::string bytes = encode_response(request.req_id, op, result.value());
  if (is_write(op)) {
    // Answer the writer first, then the watchers who see its write.
    reply(envelope, bytes);
    notify_changes();
    return std::nullopt;
  }
  return bytes;
}

std::string ApiServer::answer_changes(const std::vector<std::string>& envelope, const Request& request,
                                      const ChangesRequest& changes, bool& parked) {
  parked = false;
  auto page = backend_.changes(changes);
  if (!page) return error_reply(request.req_id, Op::changes, page.status());
  const bool nothing = page->changes.empty() && !page->more;
  if (nothing && changes.wait_ms > 0 && parked_.size() >= options_.max_parked) {
    // Answering an empty page at once would make the client ask again at
    // once, in a loop: tell it to back off instead.
    return error_reply(request.req_id, Op::changes,
                       Status(Errc::unavailable, "the node already holds " + std::to_string(parked_.size()) +
                                                     " waiting changes requests; try again later"));
  }
  if (nothing && changes.wait_ms > 0) {
    ChangesRequest later = changes;
    later.since = page->cursor;  // "now" is fixed at the first look
    later.since_now = false;
    parked_.push_back(Parked{envelope, request.req_id, std::move(later),
                             Clock::now() + std::chrono::milliseconds(changes.wait_ms)});
    parked = true;
    return {};
  }
  return encode_response(request.req_id, Op::changes, std::move(page).value());
}

void ApiServer::notify_changes() {
  if (parked_.empty()) return;
  // Taken out first: answering may not re-enter, but a backend could call
  // notify_changes() from inside changes(); the list stays consistent.
  std::deque<Parked> waiting;
  waiting.swap(parked_);
  for (auto& p : waiting) {
    auto page = backend_.changes(p.request);
    if (!page) {
      ++stats_.errors;
      reply(p.envelope, encode_error(p.req_id, Op::changes, page.status()));
      continue;
    }
    if (page->changes.empty() && !page->more) {
      p.request.since = page->cursor;
      parked_.push_back(std::move(p));
      continue;
    }
    reply(p.envelope, encode_response(p.req_id, Op::changes, std::move(page).value()));
  }
}

std::optional<ApiServer::Clock::time_point> ApiServer::next_deadline() const {
  std::optional<Clock::time_point> earliest;
  for (const auto& p : parked_) {
    if (!earliest || p.deadline < *earliest) earliest = p.deadline;
  }
  return earliest;
}

void ApiServer::on_timer() {
  const auto now = Clock::now();
  std::deque<Parked> waiting;
  waiting.swap(parked_);
  for (auto& p : waiting) {
    if (p.deadline > now) {
      parked_.push_back(std::move(p));
      continue;
    }
    ChangesPage empty;
    empty.cursor = p.request.since;
    reply(p.envelope, encode_response(p.req_id, Op::changes, empty));
  }
}

void ApiServer::refuse_all(const Status& why) {
  for (auto& p : parked_) reply(p.envelope, error_reply(p.req_id, Op::changes, why));
  parked_.clear();
  // Bounded: what clients sent before the stop, not what they keep sending.
  for (int i = 0; i < 10'000; ++i) {
    auto received = socket_.receive();
    if (!received || !received->has_value()) break;
    std::vector<std::string> parts = std::move((*received)->parts);
    ++stats_.requests;
    if (parts.size() < 2) continue;  // nothing to address a reply to
    const std::string body = std::move(parts.back());
    parts.pop_back();
    if (parts.size() > kMaxEnvelopeFrames) continue;
    const DecodedRequest decoded = decode_request(body);
    reply(parts, error_reply(decoded.req_id, decoded.op, why));
  }
  constexpr int kAnswerLingerMs = 1000;
  (void)socket_.set_linger(kAnswerLingerMs);
}

ApiServerStats ApiServer::stats() const {
  ApiServerStats s = stats_;
  s.parked = parked_.size();
  return s;
}

void ApiServer::reply(const std::vector<std::string>& envelope, const std::string& body) {
  std::vector<std::string_view> parts(envelope.begin(), envelope.end());
  parts.emplace_back(body);
  // A full queue toward one client (it stopped reading) drops that answer; the
  // loop never waits for a client.
  (void)socket_.send(parts);
}

std::string ApiServer::error_reply(std::optional<std::uint64_t> req_id, std::optional<Op> op, const Status& status) {
  ++stats_.errors;
  if (options_.on_error) options_.on_error(op, status);
  return encode_error(req_id, op, status);
}

}  // namespace shopsync::api
