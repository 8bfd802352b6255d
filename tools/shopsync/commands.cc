#include "tools/shopsync/commands.h"

#include <charconv>
#include <chrono>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "api/api_client.h"
#include "app/users.h"
#include "net/public_key_text.h"
#include "node/node_location.h"
#include "replication/grant.h"
#include "replication/hlc.h"
#include "tools/shopsync/doctor.h"
#include "tools/shopsync/exit_codes.h"
#include "tools/shopsync/json_values.h"
#include "tools/shopsync/password_prompt.h"
#include "tools/shopsync/render.h"

namespace shopsync::cli {

namespace {

// Long polls ask the node to hold a watch request this long at most.
constexpr std::uint32_t kWatchWaitMs = 25'000;

struct Globals {
  std::string api;                    // as located (node/node_location.h) before a command runs
  std::optional<std::string> api_flag;     // --api
  std::optional<std::string> config_flag;  // --config
  std::optional<std::string> data_flag;    // --data: where the node's API credential is
  std::string credential;                  // as located, "" when none
  bool json = false;
  std::chrono::milliseconds timeout{5000};
};

// A usage error: the message and the usage line of the command concerned.
struct UsageError {
  std::string message;
};

struct Context {
  Globals globals;
  std::ostream& out;
  std::ostream& err;
  std::optional<api::ApiClient> client;

  // The client, connected on first use. The failure is reported by the caller.
  Result<api::ApiClient*> connect() {
    if (!client) {
      auto c = api::ApiClient::connect(globals.api, api::ApiClientOptions{globals.timeout, globals.credential});
      if (!c) return c.status();
      client.emplace(std::move(c).value());
    }
    return &*client;
  }

  int fail(const Status& s) {
    err << "shopsync: " << s.message() << '\n';
    return exit_code_for(s);
  }

  void emit(const json& value) { out << value.dump(2, ' ', false, json::error_handler_t::replace) << '\n'; }
};

// The words after the command, with the command's own options taken out.
// Operands are the words after "--": never options, whatever they look like
// (a key or a record id may start with '-').
class Words {
 public:
  Words(std::vector<std::string> words, std::vector<std::string> operands)
      : words_(std::move(words)), operands_(std::move(operands)) {}

  // Removes every `--name VALUE` / `--name=VALUE` and returns the values.
  std::vector<std::string> take_values(const std::string& name) {
    std::vector<std::string> values;
    for (std::size_t i = 0; i < words_.size();) {
      const std::string& w = words_[i];
      if (w == name) {
        if (i + 1 >= words_.size()) throw UsageError{name + " needs a value"};
        values.push_back(words_[i + 1]);
        words_.erase(words_.begin() + static_cast<std::ptrdiff_t>(i), words_.begin() + static_cast<std::ptrdiff_t>(i + 2));
      } else if (w.starts_with(name + "=")) {
        values.push_back(w.substr(name.size() + 1));
        words_.erase(words_.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    return values;
  }
  std::optional<std::string> take_value(const std::string& name) {
    auto values = take_values(name);
    if (values.size() > 1) throw UsageError{name + " is given twice"};
    if (values.empty()) return std::nullopt;
    return values.front();
  }
  bool take_flag(const std::string& name) {
    bool found = false;
    for (std::size_t i = 0; i < words_.size();) {
      if (words_[i] == name) {
        found = true;
        words_.erase(words_.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    return found;
  }
  // The remaining words, then the operands; an unknown --option is a usage
  // error (give "--" before a word that starts with '-').
  std::vector<std::string> positional() const {
    for (const auto& w : words_) {
      if (w.size() > 1 && w[0] == '-' && w != "-") {
        throw UsageError{"unknown option " + w + " (a word that starts with '-' goes after --)"};
      }
    }
    std::vector<std::string> all = words_;
    all.insert(all.end(), operands_.begin(), operands_.end());
    return all;
  }

 private:
  std::vector<std::string> words_;
  std::vector<std::string> operands_;
};

std::uint32_t parse_count(const std::string& text, const std::string& what) {
  std::uint32_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr != text.data() + text.size()) throw UsageError{what + " must be a whole number: " + text};
  return n;
}

std::chrono::milliseconds parse_seconds(const std::string& text) {
  char* end = nullptr;
  const double s = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(s > 0) || s > 86400) {
    throw UsageError{"--timeout takes seconds (e.g. 5 or 0.5): " + text};
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000));
}

// Reads a --json argument: the JSON itself, "-" for standard input, or
// "@FILE" for a file.
Result<json> read_json_arg(const std::string& arg) {
  std::string text = arg;
  if (arg == "-") {
    std::ostringstream buf;
    buf << std::cin.rdbuf();
    text = buf.str();
  } else if (arg.starts_with("@")) {
    std::ifstream in(arg.substr(1), std::ios::binary);
    if (!in) return Status::invalid("reading " + arg.substr(1) + ": cannot open it");
    std::ostringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  }
  return parse_json(text, "--json");
}

RecordKey record_key(const std::vector<std::string>& words, std::size_t at) {
  if (words.size() < at + 2) throw UsageError{"give a COLLECTION and an ID"};
  return RecordKey{words[at], words[at + 1]};
}

// Every record of `collection` on the node, page by page.
Status for_each_listed(api::ApiClient& client, const std::string& collection,
                       const std::function<void(const api::RecordView&)>& visit) {
  api::ListRequest page_request{collection, "", api::kMaxPageLimit};
  for (;;) {
    auto page = client.list(page_request);
    if (!page) return page.status();
    for (const auto& r : page->records) visit(r);
    if (!page->next_after) return Status::ok();
    page_request.after = *page->next_after;
  }
}

void expect_words(const std::vector<std::string>& words, std::size_t n) {
  if (words.size() > n) throw UsageError{"unexpected argument '" + words[n] + "'"};
}

// ---- commands -------------------------------------------------------------------

int cmd_put(Context& ctx, Words w) {
  api::PutRequest request;
  request.mode = w.take_flag("--patch") ? api::PutMode::patch : api::PutMode::replace;
  request.unset = w.take_values("--unset");
  auto json_arg = w.take_value("--json");
  const auto& words = w.positional();
  request.key = record_key(words, 0);
  if (!request.unset.empty() && request.mode != api::PutMode::patch) throw UsageError{"--unset needs --patch"};
  if (json_arg) {
    expect_words(words, 2);
    auto doc = read_json_arg(*json_arg);
    if (!doc) throw UsageError{doc.status().message()};  // nothing was sent
    auto fields = fields_from_json(*doc);
    if (!fields) throw UsageError{fields.status().message()};
    request.fields = std::move(fields).value();
  } else {
    for (std::size_t i = 2; i < words.size(); ++i) {
      auto field = parse_field_arg(words[i]);
      if (!field) throw UsageError{field.status().message()};
      request.fields[field->name] = std::move(field->value);
    }
  }
  if (request.fields.empty() && request.unset.empty()) throw UsageError{"give FIELD=TEXT, FIELD:=JSON or --json '{...}'"};
  auto client = ctx.connect();
  if (!client) return ctx.fail(client.status());
  auto written = (*client)->put(request);
  if (!written) return ctx.fail(written.status());
  if (ctx.globals.json) {
    ctx.emit(write_json(*written));
  } else {
    ctx.out << request.key.collection << "/" << request.key.id << " written as " << dot_text(written->dot) << '\n';
  }
  return kExitOk;
}

int cmd_get(Context& ctx, Words w) {
  const auto& words = w.positional();
  const RecordKey key = record_key(words, 0);
  expect_words(words, 2);
  auto client = ctx.connect();
  if (!client) return ctx.fail(client.status());
  auto record = (*client)->get(key);
  if (!record) return ctx.fail(record.status());
  if (ctx.globals.json) {
    ctx.emit(record_json(*record));
  } else {
    print_record(ctx.out, *record);
  }
  return record->conflicted ? kExitConflict : kExitOk;
}

int cmd_rm(Context& ctx, Words w) {
  const auto& words = w.positional();
  const RecordKey key = record_key(words, 0);
  expect_words(words, 2);
  auto client = ctx.connect();
  if (!client) return ctx.fail(client.status());
  auto removed = (*client)->remove(key);
  if (!removed) return ctx.fail(removed.status());
  if (ctx.globals.json) {
    ctx.emit(write_json(*removed));
  } else {
    ctx.out << key.collection << "/" << key.id << " deleted (" << dot_text(removed->dot) << ")\n";
  }
  return kExitOk;
}

int cmd_ls(Context& ctx, Words w) {
  auto after = w.take_value("--after");
  auto limit_text = w.take_value("--limit");
  const bool all = w.take_flag("--all");
  const auto& words = w.positional();
  auto client = ctx.connect();
  if (!client) return ctx.fail(client.status());
  if (words.empty()) {
    if (after || limit_text || all) throw UsageError{"--after, --limit and --all need a COLLECTION"};
    auto list = (*client)->collections();
    if (!list) return ctx.fail(list.status());
    if (ctx.globals.json) {
      ctx.emit(collections_json(*list));
    } else {
      print_collections(ctx.out, *list);
    }
    return kExitOk;
  }
  expect_words(words, 1);
  if (all && limit_text) throw UsageError{"give --all or --limit, not both"};
  std::uint64_t wanted = limit_text ? parse_count(*limit_text, "--limit") : api::kDefaultPageLimit;
  if (wanted == 0) throw UsageError{"--limit must be at least 1"};
  api::ListPage total;
  api::ListRequest request{words[0], after.value_or(""), 0};
  for (;;) {
    const std::uint64_t left = all ? api::kMaxPageLimit : wanted - total.records.size();
    request.limit = static_cast<std::uint32_t>(std::min<std::uint64_t>(left, api::kMaxPageLimit));
    auto page = (*client)->list(request);
    if (!page) return ctx.fail(page.status());
    for (auto& r : page->records) total.records.push_back(std::move(r));
    total.next_after = page->next_after;
    if (!page->next_after || (!all && total.records.size() >= wanted)) break;
    request.after = *page->next_after;
  }
  if (total.records.empty() && !after) {
    // Nothing listed: a collection this node has never held (a typo?) is not
    // an empty one.
    auto known = (*client)->collections();
    if (!known) return ctx.fail(known.status());
    const auto& names = known->collections;
    if (std::none_of(names.begin(), names.end(), [&](const auto& c) { return c.name == words[0]; })) {
      std::string held;
      for (const auto& c : names) held += (held.empty() ? "" : ", ") + c.name;
      return ctx.fail(Status::not_found("no collection '" + words[0] + "' on this node (it holds " +
                                        (held.empty() ? std::string("none") : held) + ")"));
    }
  }
  if (ctx.globals.json) {
    ctx.emit(list_json(total));
  } else {
    print_list(ctx.out, total);
  }
  return kExitOk;
}

// The cursor a page started from, as far as its changes tell: its end
// cursor, each origin that has changes in it set back to just before its
// first one (the page holds a counter prefix of what followed the start).
api::ChangeCursor page_start(const api::ChangesPage& page) {
  api::ChangeCursor start = page.cursor;
  std::set<NodeId> seen;
  for (const auto& c : page.changes) {
    if (seen.insert(c.dot.origin).second) start.set(c.dot.origin, c.dot.counter - 1);
  }
  return start;
}

int cmd_watch(Context& ctx, Words w) {
  auto since = w.take_value("--since");
  const bool from_start = w.take_flag("--from-start");
  auto count_text = w.take_value("--count");
  const auto& words = w.positional();
  expect_words(words, 1);
  if (since && from_start) throw UsageError{"give --since or --from-start, not both"};
  api::ChangesRequest request;
  if (!words.empty()) request.collection = words[0];
  const std::uint64_t count = count_text ? parse_count(*count_text, "--count") : 0;
  if (since) {
    auto cursor = parse_version_vector(*since);
    if (!cursor) throw UsageError{"--since takes a cursor printed by watch --json: " + *since};
    request.since = *cursor;
  } else {
    request.since_now = !from_start;
  }
  auto client = ctx.connect();
  if (!client) return ctx.fail(client.status());
  // A first look without waiting fixes the starting point; everything written
  // after this line is printed (the test suite relies on it).
  request.wait_ms = 0;
  request.limit = api::kMaxPageLimit;
  auto first = (*client)->changes(request);
  if (!first) return ctx.fail(first.status());
  ctx.err << "watching " << (request.collection.empty() ? std::string("all collections") : request.collection)
          << " on " << (*client)->address() << " from cursor '" << version_vector_text(request.since_now ? first->cursor : request.since)
          << "'\n";
  ctx.err.flush();
  std::uint64_t seen = 0;
  // Where the printed lines have got to. Each line's cursor resumes right
  // after that line (a page holds each origin's changes in counter order); the
  // page's own cursor, which may reach further, only after its last line.
  api::ChangeCursor printed = request.since;
  if (request.since_now) printed = page_start(*first);
  api::ChangesPage page = std::move(first).value();
  for (;;) {
    for (std::size_t i = 0; i < page.changes.size(); ++i) {
      const api::Change& c = page.changes[i];
      printed.advance(c.dot);
      if (i + 1 == page.changes.size()) printed = page.cursor;
      if (ctx.globals.json) {
        json line = change_json(c);
        line["cursor"] = version_vector_text(printed);
        ctx.out << line.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
      } else {
        print_change(ctx.out, c);
      }
      ctx.out.flush();
      if (count != 0 && ++seen >= count) return kExitOk;
    }
    request.since = page.cursor;
    request.since_now = false;
    request.wait_ms = page.more ? 0 : kWatchWaitMs;
    auto next = (*client)->changes(request);
    if (!next && next.status().code() == Errc::unavailable) {
      // The node went away (restart, upgrade): keep the cursor and ask again;
      // ZeroMQ reconnects by itself. Only the first look above fails hard.
      ctx.err << "shopsync: " << next.status().message() << "; still watching\n";
      ctx.err.flush();
      std::this_thread::sleep_for(std::chrono::seconds(1));
      page = api::ChangesPage{{}, request.since, false};
      continue;
    }
    if (!next) return ctx.fail(next.status());
    page = std::move(next).value();
  }
}

int cmd_status(Context& ctx, Words w) {
  expect_words(w.positional(), 0);
  auto client = ctx.connect();
  if (!client) return ctx.fail(client.status());
  auto status = (*client)->status();
  if (!status) return ctx.fail(status.status());
  if (ctx.globals.json) {
    ctx.emit(status_json(*status));
  } else {
    print_status(ctx.out, *status);
  }
  return kExitOk;
}

int cmd_peers(Context& ctx, Words w) {
  expect_words(w.positional(), 0);
  auto client = ctx.connect();
  if (!client) return ctx.fail(client.status());
  auto peers = (*client)->peers();
  if (!peers) return ctx.fail(peers.status());
  if (ctx.globals.json) {
    ctx.emit(peers_json(*peers));
  } else {
    print_peers(ctx.out, *peers);
  }
  return kExitOk;
}

int cmd_doctor(Context& ctx, Words w) {
  expect_words(w.positional(), 0);
  auto client = ctx.connect();
  if (!client) return ctx.fail(client.status());
  auto report = (*client)->discovery();
  if (!report && report.status().code() == Errc::invalid_argument) {
    return ctx.fail(Status::protocol("the node does not answer `discovery` (" + report.status().message() +
                                     "): it is older than this shopsync; upgrade it"));
  }
  if (!report) return ctx.fail(report.status());
  auto status = (*client)->status();  // reading it also finds records that do not decode
  if (!status) return ctx.fail(status.status());
  auto peers = (*client)->peers();
  if (!peers) return ctx.fail(peers.status());
  if (ctx.globals.json) {
    ctx.emit(doctor_json(*report, *status, *peers));
  } else {
    print_doctor(ctx.out, *report, *status, *peers);
  }
  return all_advice(*report, *status, *peers).empty() ? kExitOk : kExitAdvice;
}

int cmd_conflicts(Context& ctx, Words w) {
  api::ConflictsRequest request;
  if (auto after = w.take_value("--log-after")) request.log_after = parse_count(*after, "--log-after");
  if (auto limit = w.take_value("--limit")) request.limit = parse_count(*limit, "--limit");
  const auto& words = w.positional();
  expect_words(words, 1);
  if (!words.empty()) request.collection = words[0];
  auto client = ctx.connect();
  if (!client) return ctx.fail(client.status());
  auto page = (*client)->conflicts(request);
  if (!page) return ctx.fail(page.status());
  if (ctx.globals.json) {
    ctx.emit(conflicts_json(*page));
  } else {
    print_conflicts(ctx.out, *page);
  }
  return page->open.empty() ? kExitOk : kExitConflict;
}

int cmd_resolve(Context& ctx, Words w) {
  auto pick = w.take_value("--pick");
  auto json_arg = w.take_value("--json");
  const auto& words = w.positional();
  api::ResolveRequest request;
  request.key = record_key(words, 0);
  expect_words(words, 2);
  if (pick.has_value() == json_arg.has_value()) throw UsageError{"give --pick DOT or --json '{...}'"};
  if (pick) {
    auto dot = parse_dot(*pick);
    if (!dot) throw UsageError{"--pick takes a dot as shown by get or conflicts (NODE:COUNTER): " + *pick};
    request.pick = *dot;
  } else {
    auto doc = read_json_arg(*json_arg);
    if (!doc) throw UsageError{doc.status().message()};  // nothing was sent
    auto fields = fields_from_json(*doc);
    if (!fields) throw UsageError{fields.status().message()};
    request.fields = std::move(fields).value();
  }
  auto client = ctx.connect();
  if (!client) return ctx.fail(client.status());
  auto written = (*client)->resolve(request);
  if (!written) return ctx.fail(written.status());
  if (ctx.globals.json) {
    ctx.emit(write_json(*written));
  } else {
    ctx.out << request.key.collection << "/" << request.key.id << " resolved as " << dot_text(written->dot)
            << '\n';
  }
  return kExitOk;
}

int cmd_trust(Context& ctx, Words w) {
  auto name = w.take_value("--name");
  const auto& words = w.positional();
  if (words.empty()) throw UsageError{"give add KEY, ls or rm KEY"};
  const std::string& action = words[0];
  auto client = ctx.connect();
  if (!client) return ctx.fail(client.status());
  if (action == "ls" || action == "list") {
    expect_words(words, 1);
    auto keys = (*client)->trusted_keys();
    if (!keys) return ctx.fail(keys.status());
    if (ctx.globals.json) {
      ctx.emit(keys_json(*keys));
    } else {
      print_keys(ctx.out, *keys);
    }
    return kExitOk;
  }
  if (action != "add" && action != "rm") throw UsageError{"unknown trust action '" + action + "'"};
  if (words.size() < 2) throw UsageError{"give the KEY"};
  expect_words(words, 2);
  if (name && action != "add") throw UsageError{"--name goes with trust add"};
  auto key = parse_public_key(words[1]);  // either text form; the node keeps Z85
  if (!key) return ctx.fail(key.status());
  const std::string spoken = format_public_key(*key);
  Status s = action == "add" ? (*client)->trust(api::TrustAddRequest{*key, name.value_or("")})
                             : (*client)->distrust(*key);
  if (s.code() == Errc::not_found) s = Status::not_found("key " + spoken + " is not trusted");
  if (!s) return ctx.fail(s);
  if (ctx.globals.json) {
    ctx.emit(json{{"key", spoken}, {"trusted", action == "add"}});
  } else {
    ctx.out << (action == "add" ? "trusted " : "no longer trusted: ") << spoken << '\n';
  }
  return kExitOk;
}

// `forget NODE`: NODE is a peer's name or its node id (16 hex digits), as
// `shopsync peers` shows them.
int cmd_forget(Context& ctx, Words w) {
  const auto& words = w.positional();
  if (words.empty()) throw UsageError{"give the NODE: its name or node id, as shopsync peers shows them"};
  expect_words(words, 1);
  auto client = ctx.connect();
  if (!client) return ctx.fail(client.status());
  auto peers = (*client)->peers();
  if (!peers) return ctx.fail(peers.status());
  std::vector<const api::PeerInfo*> named;
  for (const auto& p : peers->peers) {
    if (p.node_id != 0 && (p.name == words[0] || node_id_text(p.node_id) == words[0])) named.push_back(&p);
  }
  if (named.empty()) return ctx.fail(Status::not_found("no peer named '" + words[0] + "' (shopsync peers lists them)"));
  if (named.size() > 1) {
    return ctx.fail(Status::invalid("several peers are named '" + words[0] + "': give the node id instead"));
  }
  const api::PeerInfo& peer = *named.front();
  if (Status s = (*client)->forget_peer(peer.node_id); !s) return ctx.fail(s);
  if (ctx.globals.json) {
    ctx.emit(json{{"node_id", node_id_text(peer.node_id)}, {"name", peer.name}, {"forgotten", true}});
  } else {
    ctx.out << "forgot " << peer.name << " (" << node_id_text(peer.node_id)
            << "): it no longer holds back tombstone removal\n";
  }
  return kExitOk;
}

int cmd_key(Context& ctx, Words w) {
  expect_words(w.positional(), 0);
  auto client = ctx.connect();
  if (!client) return ctx.fail(client.status());
  auto key = (*client)->public_key();
  if (!key) return ctx.fail(key.status());
  if (ctx.globals.json) {
    ctx.emit(json{{"key", format_public_key(key->key)}});
  } else {
    ctx.out << format_public_key(key->key) << '\n';
  }
  return kExitOk;
}

// `user add NAME | passwd NAME | ls | rm NAME`: the users of the gateway's
// built-in login, records of the cluster's reserved collection
// (app/users.h) written through the node, so they replicate to every
// node. The password is read from standard input and only its hash is sent.
int cmd_user(Context& ctx, Words w) {
  const auto& words = w.positional();
  if (words.empty()) throw UsageError{"give add NAME, passwd NAME, ls or rm NAME"};
  const std::string& action = words[0];
  const bool listing = action == "ls" || action == "list";
  if (!listing && action != "add" && action != "passwd" && action != "rm") {
    throw UsageError{"unknown user action '" + action + "'"};
  }
  expect_words(words, listing ? 1 : 2);
  if (!listing) {
    if (words.size() < 2) throw UsageError{"give the user's NAME"};
    if (Status s = app::validate_user_name(words[1]); !s) throw UsageError{s.message()};
  }
  std::optional<std::string> hash;
  if (action == "add" || action == "passwd") {
    auto password = read_password(ctx.err);
    if (!password) throw UsageError{"no password given on standard input"};
    auto hashed = app::hash_password(*password);
    if (!hashed) return ctx.fail(hashed.status());
    hash = std::move(*hashed);
  }
  auto client = ctx.connect();
  if (!client) return ctx.fail(client.status());
  const std::string users(app::kUsersCollection);
  if (listing) {
    json list = json::array();
    Status listed = for_each_listed(**client, users, [&](const api::RecordView& r) {
      const std::string changed = format_time(HybridClock::wall_ms(r.updated_at));
      if (ctx.globals.json) {
        list.push_back({{"name", r.key.id}, {"changed", changed}});
      } else {
        ctx.out << r.key.id << '\t' << changed << '\n';
      }
    });
    if (!listed) return ctx.fail(listed);
    if (ctx.globals.json) ctx.emit(list);
    return kExitOk;
  }
  const RecordKey key{users, words[1]};
  auto existing = (*client)->get(key);
  if (!existing && existing.status().code() != Errc::not_found) return ctx.fail(existing.status());
  const bool exists = existing && !existing->deleted;
  if (action == "add" && exists) {
    return ctx.fail(Status::invalid("user '" + words[1] + "' exists (shopsync user passwd " + words[1] +
                                    " changes the password)"));
  }
  if (action != "add" && !exists) return ctx.fail(Status::not_found("no user named '" + words[1] + "'"));
  if (action == "rm") {
    auto removed = (*client)->remove(key);
    if (!removed) return ctx.fail(removed.status());
    ctx.out << (ctx.globals.json ? json{{"name", words[1]}, {"removed", true}}.dump() : "removed " + words[1]) << '\n';
    return kExitOk;
  }
  api::PutRequest put;
  put.key = key;
  put.fields.emplace(app::kPasswordField, app::packed_password(*hash));
  auto written = (*client)->put(put);
  if (!written) return ctx.fail(written.status());
  if (ctx.globals.json) {
    ctx.emit(json{{"name", words[1]}, {"saved", true}});
  } else {
    ctx.out << "user " << words[1] << " saved; it replicates to every node and logs in with POST /api/auth/login "
               "(shopsyncd --http-login)\n";
  }
  return kExitOk;
}

// The subject `shopsync grant` names: a node's public key in either form
// (stored in the spoken form), or a subject of another kind, `KIND:NAME` (a
// gateway token's). Anything else is a mistyped key: refused, naming why.
std::string grant_subject_of(const std::string& word) {
  if (auto key = parse_public_key(word)) return format_public_key(*key);
  if (word.find(':') != std::string::npos && word.size() <= 256) return word;
  throw UsageError{parse_public_key(word).status().message() +
                   ": give a node's key as `shopsync key` or `shopsync trust ls` print it, or KIND:NAME"};
}

std::string grant_text_of(const api::RecordView& r) {
  const auto it = r.fields.find(kGrantField);
  if (it == r.fields.end()) return "";
  auto value = to_json(it->second);
  return value && value->is_string() ? value->get<std::string>() : std::string("(not a string)");
}

// `grant SUBJECT 'GRANT'`, `grant SUBJECT`, `grant ls`, `grant rm SUBJECT`:
// the cluster's grants (docs/operations.md, "Grants"), records of the
// reserved collection written through the node like any record, so that a
// change by a node whose grant does not allow it is refused as any write
// outside a grant is.
int cmd_grant(Context& ctx, Words w) {
  const auto& words = w.positional();
  if (words.empty()) throw UsageError{"give SUBJECT 'GRANT', SUBJECT, ls or rm SUBJECT"};
  const bool listing = words[0] == "ls" || words[0] == "list";
  const bool removing = words[0] == "rm";
  expect_words(words, listing ? 1 : 2);
  if (removing && words.size() < 2) throw UsageError{"give the SUBJECT whose grant to remove"};
  std::optional<Grant> grant;
  if (!listing && !removing && words.size() == 2) {
    auto parsed = parse_grant(words[1]);
    if (!parsed) throw UsageError{parsed.status().message()};
    grant = std::move(*parsed);
  }
  const std::string collection(kGrantsCollection);
  auto client = ctx.connect();
  if (!client) return ctx.fail(client.status());
  if (listing) {
    json list = json::array();
    Status listed = for_each_listed(**client, collection, [&](const api::RecordView& r) {
      if (ctx.globals.json) {
        list.push_back({{"subject", r.key.id}, {"grant", grant_text_of(r)}});
      } else {
        ctx.out << r.key.id << '\t' << grant_text_of(r) << '\n';
      }
    });
    if (!listed) return ctx.fail(listed);
    if (ctx.globals.json) ctx.emit(list);
    return kExitOk;
  }
  const std::string subject = grant_subject_of(words[removing ? 1 : 0]);
  const RecordKey key{collection, subject};
  const auto refused_hint = [&](Status s) {
    if (s.code() != Errc::refused) return s;
    return Status::refused(s.message() + ": only a node with an admin grant changes grants (until the cluster names one, a node "
                           "with no grant may too)");
  };
  if (removing) {
    auto removed = (*client)->remove(key);
    if (!removed) return ctx.fail(refused_hint(removed.status()));
    ctx.out << (ctx.globals.json ? json{{"subject", subject}, {"removed", true}}.dump() : "removed the grant of " + subject)
            << '\n';
    return kExitOk;
  }
  if (!grant) {
    auto existing = (*client)->get(key);
    if (!existing && existing.status().code() != Errc::not_found) return ctx.fail(existing.status());
    if (!existing || existing->deleted) {
      return ctx.fail(Status::not_found("no grant for " + subject +
                                        " (it reads and writes every record: the grants too, until the cluster "
                                        "names an admin)"));
    }
    if (ctx.globals.json) {
      ctx.emit(json{{"subject", subject}, {"grant", grant_text_of(*existing)}});
    } else {
      ctx.out << subject << '\t' << grant_text_of(*existing) << '\n';
    }
    return kExitOk;
  }
  api::PutRequest put;
  put.key = key;
  const std::string text = to_text(*grant);
  put.fields.emplace(kGrantField, to_packed(json(text)));
  auto written = (*client)->put(put);
  if (!written) return ctx.fail(refused_hint(written.status()));
  if (ctx.globals.json) {
    ctx.emit(json{{"subject", subject}, {"grant", text}, {"saved", true}});
  } else {
    ctx.out << "grant of " << subject << " set to '" << text
            << "'; it replicates to every node (a node holds the records of a changed grant of its own after its "
               "next start)\n";
  }
  return kExitOk;
}

struct Command {
  const char* name;
  const char* usage;
  int (*run)(Context&, Words);
  bool takes_json_value;  // --json after the command is the command's own option
};

constexpr Command kCommands[] = {
    {"put", "put COLLECTION ID (FIELD=TEXT | FIELD:=JSON)... | --json '{...}'|-|@FILE  [--patch [--unset FIELD]...]",
     cmd_put, true},
    {"get", "get COLLECTION ID", cmd_get, false},
    {"rm", "rm COLLECTION ID", cmd_rm, false},
    {"ls", "ls [COLLECTION [--after ID] [--limit N | --all]]", cmd_ls, false},
    {"watch", "watch [COLLECTION] [--since CURSOR | --from-start] [--count N]", cmd_watch, false},
    {"status", "status", cmd_status, false},
    {"peers", "peers", cmd_peers, false},
    {"doctor", "doctor", cmd_doctor, false},
    {"conflicts", "conflicts [COLLECTION] [--log-after SEQ] [--limit N]", cmd_conflicts, false},
    {"resolve", "resolve COLLECTION ID (--pick DOT | --json '{...}'|-|@FILE)", cmd_resolve, true},
    {"trust", "trust add KEY [--name NAME] | trust ls | trust rm KEY", cmd_trust, false},
    {"key", "key", cmd_key, false},
    {"forget", "forget NODE", cmd_forget, false},
    {"grant", "grant SUBJECT 'COLLECTION:r|rw[:FIELD=V1|V2] ... | admin' | grant SUBJECT | grant ls | grant rm SUBJECT",
     cmd_grant, false},
    {"user", "user add NAME | user passwd NAME | user ls | user rm NAME  (password on standard input)", cmd_user, false},
};

const Command* find_command(const std::string& name) {
  for (const auto& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

}  // namespace

std::string usage_text() {
  std::string text =
      "usage: shopsync [--api ADDR | --config FILE] [--data DIR] [--json] [--timeout SECONDS] COMMAND ...\n"
      "\n"
      "Talks to the local shopsyncd through its API: --api, else $SHOPSYNC_API, else the\n"
      "`api` of --config FILE, $SHOPSYNC_CONFIG or /etc/shopsync/shopsyncd.toml, else " +
      std::string(api::kDefaultApiAddress) +
      ".\n"
      "\n"
      "commands:\n";
  for (const auto& c : kCommands) text += "  shopsync " + std::string(c.usage) + "\n";
  // Handled before the API is involved (main.cc, token_command.h): it opens
  // the data directory's store, so it comes first on the line.
  text += "  shopsync token (create NAME | ls | revoke NAME) [--data DIR] [--json]   (HTTP gateway tokens)\n";
  text +=
      "\n"
      "options (before the command; --api, --config, --timeout and, except for put and\n"
      "resolve, --json are also accepted after it):\n"
      "  --api ADDR         tcp://HOST:PORT, HOST:PORT, ipc://PATH or a socket path\n"
      "  --config FILE      the node's shopsyncd.toml: its `api` is the node's address\n"
      "  --data DIR         the node's data directory, whose api.token a node started with\n"
      "                     --api-auth asks for ($SHOPSYNC_API_TOKEN gives it directly)\n"
      "  --json             machine-readable output (JSON; one object per line for watch)\n"
      "  --timeout SECONDS  how long to wait for the node (default 5)\n"
      "  --                 ends the options: what follows is never one (a key or id starting with -)\n"
      "\n"
      "exit status: 0 ok, 1 not found, 2 usage, 3 node unreachable, 4 rejected input,\n"
      "5 record conflicted, 6 node error, 7 answer not understood, 8 doctor found something to fix\n";
  return text;
}

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Context ctx{Globals{}, out, err, std::nullopt};
  const Command* command = nullptr;
  try {
    std::vector<std::string> rest;
    std::vector<std::string> operands;  // after "--"
    std::size_t i = 0;
    auto value_of = [&](const std::string& name) -> std::string {
      if (i + 1 >= args.size()) throw UsageError{name + " needs a value"};
      return args[++i];
    };
    for (; i < args.size(); ++i) {
      const std::string& a = args[i];
      const bool before_command = command == nullptr;
      if (a == "--") {
        // The end of the options: what follows is the command (when none came
        // yet) and its operands, even a key or an id that starts with '-'.
        for (++i; i < args.size(); ++i) {
          if (command == nullptr) {
            command = find_command(args[i]);
            if (command == nullptr) throw UsageError{"unknown command '" + args[i] + "'"};
          } else {
            operands.push_back(args[i]);
          }
        }
        break;
      } else if (a == "--help" || a == "-h") {
        out << usage_text();
        return kExitOk;
      } else if (a == "--api") {
        ctx.globals.api_flag = value_of(a);
      } else if (a.starts_with("--api=")) {
        ctx.globals.api_flag = a.substr(6);
      } else if (a == "--data") {
        ctx.globals.data_flag = value_of(a);
      } else if (a.starts_with("--data=")) {
        ctx.globals.data_flag = a.substr(7);
      } else if (a == "--config") {
        ctx.globals.config_flag = value_of(a);
      } else if (a.starts_with("--config=")) {
        ctx.globals.config_flag = a.substr(9);
      } else if (a == "--timeout") {
        ctx.globals.timeout = parse_seconds(value_of(a));
      } else if (a.starts_with("--timeout=")) {
        ctx.globals.timeout = parse_seconds(a.substr(10));
      } else if (a == "--json" && (before_command || !command->takes_json_value)) {
        ctx.globals.json = true;
      } else if (before_command) {
        if (a.starts_with("-")) throw UsageError{"unknown option " + a};
        command = find_command(a);
        if (command == nullptr) throw UsageError{"unknown command '" + a + "'"};
      } else {
        rest.push_back(a);
      }
    }
    if (command == nullptr) throw UsageError{"give a command"};
    NodeLocator locator({ctx.globals.api_flag,
                         ctx.globals.data_flag ? std::optional<std::filesystem::path>(*ctx.globals.data_flag) : std::nullopt,
                         ctx.globals.config_flag});
    auto address = locator.api();
    if (!address) throw UsageError{address.status().message()};
    ctx.globals.api = address->value;
    ctx.globals.credential = locator.api_credential();
    return command->run(ctx, Words(std::move(rest), std::move(operands)));
  } catch (const UsageError& e) {
    err << "shopsync: " << e.message << '\n';
    if (command != nullptr) {
      err << "usage: shopsync " << command->usage << '\n';
    } else {
      err << usage_text();
    }
    return kExitUsage;
  }
}

}  // namespace shopsync::cli
