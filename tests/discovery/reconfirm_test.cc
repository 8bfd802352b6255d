// The reconfirm rule (RFC 6762 10.4, discovery/reconfirm.h) on a manual clock:
// a link lost without a goodbye sends a few queries; an answer keeps the
// peer, silence for the window forgets it long before its records' TTL; and
// the queries themselves are DNS that a responder answers.
#include "discovery/reconfirm.h"

#include <boost/test/unit_test.hpp>

#include "discovery/mdns_query.h"

using namespace shopsync;
using namespace shopsync::discovery;

namespace {

constexpr NodeId kPeer = 0x0a1b2c3d4e5f6071ULL;
using State = Reconfirmations::State;

// Runs the rule from `from` to `to` (ms) as a loop would: at each due time.
// Returns the queries sent and whether the peer was forgotten (and when).
struct Run {
  int queries = 0;
  std::optional<std::uint64_t> forgotten_at;
};
Run run(Reconfirmations& r, std::uint64_t from, std::uint64_t to) {
  Run out;
  for (std::uint64_t now = from; now <= to;) {
    const auto due = r.due(now);
    for (NodeId p : due.query) out.queries += p == kPeer;
    for (NodeId p : due.forget) {
      if (p == kPeer && !out.forgotten_at) out.forgotten_at = now;
    }
    const auto next = r.next_ms();
    if (!next || *next > to) break;
    now = std::max(*next, now + 1);
  }
  return out;
}

State state_of(const Reconfirmations& r) { return r.entries().at(kPeer).state; }

}  // namespace

BOOST_AUTO_TEST_SUITE(reconfirm)

BOOST_AUTO_TEST_CASE(a_peer_that_never_answers_is_forgotten_when_the_window_ends_not_at_its_ttl) {
  Reconfirmations r;
  BOOST_TEST(!r.next_ms().has_value());  // nothing to do before a failure
  BOOST_TEST(r.failure(kPeer, 5'000));
  const Run seen = run(r, 5'000, 5'000 + Reconfirmations::kWindowMs - 1);
  BOOST_TEST(seen.queries == 3);  // a few queries inside the window
  BOOST_TEST(!seen.forgotten_at.has_value());
  BOOST_TEST((state_of(r) == State::asking));

  const Run verdict = run(r, 5'000 + Reconfirmations::kWindowMs, 5'000 + Reconfirmations::kWindowMs);
  BOOST_REQUIRE(verdict.forgotten_at.has_value());
  BOOST_TEST(*verdict.forgotten_at == 5'000 + Reconfirmations::kWindowMs);
  BOOST_TEST((state_of(r) == State::forgotten));
  BOOST_TEST(Reconfirmations::kWindowMs < 120'000);  // well before the default TTL
}

BOOST_AUTO_TEST_CASE(a_peer_that_answers_is_kept_and_not_asked_again_for_a_while) {
  Reconfirmations r;
  BOOST_TEST(r.failure(kPeer, 0));
  BOOST_TEST(run(r, 0, 1'500).queries == 2);
  BOOST_TEST((r.answered(kPeer, 1'600) == State::asking));
  const Run after = run(r, 1'600, 200'000);
  BOOST_TEST(after.queries == 0);
  BOOST_TEST(!after.forgotten_at.has_value());
  BOOST_TEST((state_of(r) == State::answered));
  BOOST_TEST(!r.next_ms().has_value());

  // A dial that keeps failing behind a firewall does not flood the LAN...
  BOOST_TEST(!r.failure(kPeer, 1'600 + Reconfirmations::kTrustAnswerMs - 1));
  // ...but a failure a while later asks again.
  BOOST_TEST(r.failure(kPeer, 1'600 + Reconfirmations::kTrustAnswerMs));
  BOOST_TEST((state_of(r) == State::asking));
}

BOOST_AUTO_TEST_CASE(failures_during_a_reconfirmation_change_nothing_and_answers_without_one_are_ignored) {
  Reconfirmations r;
  BOOST_TEST(!r.answered(kPeer, 0).has_value());  // nobody asked
  BOOST_TEST(r.entries().empty());
  BOOST_TEST(r.failure(kPeer, 0));
  BOOST_TEST(!r.failure(kPeer, 2'000));  // the same link lost again: the window does not restart
  BOOST_TEST((run(r, 0, Reconfirmations::kWindowMs).forgotten_at == std::optional<std::uint64_t>(Reconfirmations::kWindowMs)));
  BOOST_TEST(!r.failure(kPeer, Reconfirmations::kWindowMs + 1));  // forgotten already
}

BOOST_AUTO_TEST_CASE(a_forgotten_peer_is_asked_again_until_erased_and_an_answer_brings_it_back) {
  Reconfirmations r;
  r.failure(kPeer, 0);
  run(r, 0, Reconfirmations::kWindowMs);
  const Run rechecks = run(r, Reconfirmations::kWindowMs + 1, Reconfirmations::kWindowMs + 3 * Reconfirmations::kRecheckMs);
  BOOST_TEST(rechecks.queries == 3);
  BOOST_TEST((r.answered(kPeer, 50'000) == State::forgotten));  // it returned: found again
  BOOST_TEST((state_of(r) == State::answered));

  r.erase(kPeer);  // its records expired
  BOOST_TEST(r.entries().empty());
  BOOST_TEST(!r.next_ms().has_value());
}

BOOST_AUTO_TEST_CASE(a_forgotten_peer_whose_session_comes_back_is_asked_again_at_once_and_a_few_times) {
  Reconfirmations r;
  r.failure(kPeer, 0);
  run(r, 0, Reconfirmations::kWindowMs);
  const std::uint64_t up = Reconfirmations::kWindowMs + 2'500;  // between two rechecks
  BOOST_TEST(r.heard_from(kPeer, up));
  BOOST_TEST((state_of(r) == State::asking));
  BOOST_TEST(run(r, up, up + Reconfirmations::kWindowMs - 1).queries == 3);  // not just one: it may still be probing
  BOOST_TEST((r.answered(kPeer, up + 4'000) == State::asking));
  BOOST_TEST(!r.heard_from(kPeer, up + 5'000));  // answered: nothing to ask
  BOOST_TEST(!r.heard_from(0x77, up));           // never asked about: nothing to do
}

BOOST_AUTO_TEST_CASE(the_query_asks_for_the_instance_srv_and_only_an_answer_with_records_counts) {
  const std::string q = encode_srv_query(0x1234, "till 1.back", "_shopsync._tcp", "local");
  const std::string expected = std::string("\x12\x34\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12) +
                               "\x0btill 1.back" + "\x09_shopsync" + "\x04_tcp" + "\x05local" +
                               std::string("\x00\x00\x21\x00\x01", 5);
  BOOST_TEST(q == expected);
  BOOST_TEST(!answered_id(q).has_value());  // a query is no answer
  BOOST_TEST(encode_srv_query(1, "", "_shopsync._tcp", "local").empty());
  BOOST_TEST(encode_srv_query(1, std::string(64, 'x'), "_shopsync._tcp", "local").empty());

  std::string answer = q;
  answer[2] = '\x84';  // QR, AA
  answer[7] = '\x01';  // one answer
  BOOST_TEST((answered_id(answer) == std::optional<std::uint16_t>(0x1234)));
  std::string empty = answer;
  empty[7] = '\x00';
  BOOST_TEST(!answered_id(empty).has_value());
  std::string error = answer;
  error[3] = '\x03';  // NXDOMAIN
  BOOST_TEST(!answered_id(error).has_value());
  BOOST_TEST(!answered_id(answer.substr(0, 11)).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
