// The spoken form of a public key (net/public_key_text.h): what `shopsync key`
// prints reads back to the same key, typos are caught, and the operator may
// type it in any case, with or without the dashes; Z85 is still accepted.
#include <algorithm>
#include <cctype>
#include <random>
#include <string>

#include <boost/test/unit_test.hpp>

#include "net/public_key_text.h"
#include "net/zmq_socket.h"

namespace shopsync {
namespace {

constexpr std::string_view kSpokenAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";

struct Keys {
  std::mt19937_64 rng;
  explicit Keys(std::uint64_t seed) : rng(seed) { BOOST_TEST_MESSAGE("seed " << seed); }
  std::string raw() {
    std::string r(32, '\0');
    for (char& c : r) c = static_cast<char>(rng() & 0xFF);
    return r;
  }
  std::string z85() { return zmq::z85_encode_key(raw()); }
  // A Z85 key that starts with '-', as one in 85 does.
  std::string z85_with_leading_dash() {
    for (;;) {
      const std::string k = z85();
      if (k.front() == '-') return k;
    }
  }
};

std::string without_dashes(std::string s) {
  s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
  return s;
}

BOOST_AUTO_TEST_SUITE(public_key_text)

BOOST_AUTO_TEST_CASE(the_spoken_form_reads_back_to_the_same_key) {
  Keys keys(20261206);
  for (int i = 0; i < 2000; ++i) {
    const std::string z85 = i % 10 == 0 ? keys.z85_with_leading_dash() : keys.z85();
    const std::string spoken = format_public_key(z85);
    BOOST_REQUIRE_EQUAL(spoken.size(), 69u);  // 56 letters and digits in 14 groups of 4
    BOOST_REQUIRE(std::isalnum(static_cast<unsigned char>(spoken.front())));
    for (std::size_t at = 0; at < spoken.size(); ++at) {
      if (at % 5 == 4) {
        BOOST_REQUIRE_EQUAL(spoken[at], '-');
      } else {
        BOOST_REQUIRE(kSpokenAlphabet.find(spoken[at]) != std::string_view::npos);
      }
    }
    auto back = parse_public_key(spoken);
    BOOST_REQUIRE_MESSAGE(back.is_ok(), back.status().message());
    BOOST_REQUIRE_EQUAL(*back, z85);
  }
}

BOOST_AUTO_TEST_CASE(z85_is_still_accepted_even_when_it_starts_with_a_dash) {
  Keys keys(7);
  for (int i = 0; i < 50; ++i) {
    const std::string z85 = keys.z85_with_leading_dash();
    auto back = parse_public_key(z85);
    BOOST_REQUIRE_MESSAGE(back.is_ok(), back.status().message());
    BOOST_TEST(*back == z85);
    BOOST_TEST(*parse_public_key("  " + z85 + "\n") == z85);  // as read from a file
  }
}

BOOST_AUTO_TEST_CASE(case_groups_and_spaces_do_not_matter) {
  Keys keys(11);
  for (int i = 0; i < 200; ++i) {
    const std::string z85 = keys.z85();
    const std::string spoken = format_public_key(z85);
    std::string upper = spoken;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string spaced = spoken;
    std::replace(spaced.begin(), spaced.end(), '-', ' ');
    std::string regrouped = without_dashes(spoken);
    for (std::size_t at = 7; at < regrouped.size(); at += 8) regrouped.insert(at, "-");
    for (const std::string& typed : {upper, spaced, without_dashes(spoken), regrouped, " " + spoken + " "}) {
      auto back = parse_public_key(typed);
      BOOST_REQUIRE_MESSAGE(back.is_ok(), typed << ": " << back.status().message());
      BOOST_REQUIRE_EQUAL(*back, z85);
    }
  }
}

BOOST_AUTO_TEST_CASE(letters_that_look_like_digits_read_as_those_digits) {
  Keys keys(13);
  int tried = 0;
  for (int i = 0; i < 500 && tried < 40; ++i) {
    const std::string z85 = keys.z85();
    std::string spoken = format_public_key(z85);
    const auto zero = spoken.find('0');
    const auto one = spoken.find('1');
    if (zero == std::string::npos || one == std::string::npos) continue;
    ++tried;
    spoken[zero] = tried % 2 ? 'O' : 'o';
    spoken[one] = tried % 3 == 0 ? 'I' : tried % 3 == 1 ? 'l' : 'L';
    auto back = parse_public_key(spoken);
    BOOST_REQUIRE_MESSAGE(back.is_ok(), spoken << ": " << back.status().message());
    BOOST_TEST(*back == z85);
  }
  BOOST_TEST(tried == 40);
}

BOOST_AUTO_TEST_CASE(every_mistyped_symbol_and_every_swap_of_neighbours_is_caught) {
  Keys keys(17);
  for (int k = 0; k < 20; ++k) {
    const std::string spoken = without_dashes(format_public_key(keys.z85()));
    for (std::size_t at = 0; at < spoken.size(); ++at) {
      for (char c : kSpokenAlphabet) {
        if (c == spoken[at]) continue;
        std::string typo = spoken;
        typo[at] = c;
        auto r = parse_public_key(typo);
        BOOST_REQUIRE_MESSAGE(!r.is_ok(), "typo at " << at << " accepted: " << typo);
        BOOST_REQUIRE(r.status().message().find("mistyped") != std::string::npos);
      }
      if (at + 1 < spoken.size() && spoken[at] != spoken[at + 1]) {
        std::string swapped = spoken;
        std::swap(swapped[at], swapped[at + 1]);
        BOOST_REQUIRE_MESSAGE(!parse_public_key(swapped).is_ok(), "swap at " << at << " accepted");
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(what_is_not_a_key_is_refused_with_the_reason) {
  Keys keys(19);
  const std::string spoken = format_public_key(keys.z85());
  const std::string z85 = keys.z85();
  struct Case {
    std::string text;
    std::string reason;
  };
  const Case cases[] = {
      {"", "empty"},
      {"   ", "empty"},
      {spoken.substr(0, spoken.size() - 1), "55 letters and digits"},  // one symbol short
      {spoken + "a", "57 letters and digits"},
      {"u" + spoken.substr(1), "'u' at position 1"},                 // not in Crockford's alphabet
      {z85.substr(0, 39), "is not a letter or digit"},              // a Z85 key the shell cut short
      {z85.substr(0, 39) + " ", "is not a letter or digit"},
      {"#####" + z85.substr(5), "do not decode"},                      // a Z85 group above 2^32
      {std::string("abc\0def", 7), "byte 0x00"},
  };
  for (const auto& c : cases) {
    auto r = parse_public_key(c.text);
    BOOST_REQUIRE_MESSAGE(!r.is_ok(), "accepted: " << c.text);
    BOOST_TEST((r.status().code() == Errc::invalid_argument));
    BOOST_TEST(r.status().message().find(c.reason) != std::string::npos, r.status().message());
  }
  BOOST_TEST(format_public_key("") == "");  // an --insecure node has no key
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync
