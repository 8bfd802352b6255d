// The data model's rules on names and text (storage/record.h): what every
// record, key and field value a node stores or receives is checked against.
#include <random>
#include <string>

#include <boost/test/unit_test.hpp>

#include "storage/record.h"
#include "tests/support/seeds.h"

namespace shopsync {
namespace {

// Well-formed UTF-8 as RFC 3629 defines it, one code point at a time: the
// reference the fast check is held to.
bool reference_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int extra = 0;
    char32_t cp = 0;
    if (c <= 0x7F) {
      ++i;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (int k = 1; k <= extra; ++k) {
      if (i + k >= s.size()) return false;
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(record_rules)

BOOST_AUTO_TEST_CASE(utf8_is_checked_as_the_standard_says) {
  const std::string valid[] = {"",          "a",          "Müller",       "Zoë's timber", "東京都",
                               "\xF0\x9F\x8C\xB2 pine", "12345678",   "1234567\xC3\xA9", "\xC3\xA9" "1234567"};
  for (const std::string& s : valid) BOOST_TEST(is_valid_utf8(s), s);
  const std::string invalid[] = {
      "\x80",                  // a continuation byte alone
      "abc\xC3",               // truncated at the end
      "abcdefg\xC3",           // truncated, in the last of two overlapping words
      "\xC0\xAF",              // overlong
      "\xE0\x80\xAF",          // overlong
      "\xED\xA0\x80",          // a surrogate
      "\xF4\x90\x80\x80",      // above U+10FFFF
      "\xFF",                  // never in UTF-8
      "abcdefghijklmno\xFE",   // after two ASCII words
  };
  for (const std::string& s : invalid) BOOST_TEST(!is_valid_utf8(s), s);
}

BOOST_AUTO_TEST_CASE(utf8_check_agrees_with_the_reference_on_random_text) {
  // Short strings of every length, mostly ASCII with a sprinkling of lead and
  // continuation bytes, so that every word boundary meets every kind of byte.
  const std::uint64_t seed = test::env_u64("SHOPSYNC_SEED", 20261207);
  std::mt19937_64 rng(seed);
  const unsigned char pool[] = {'a', 'Z', '0', ' ', 0x7F, 0x80, 0xBF, 0xC2, 0xC3, 0xDF, 0xE0,
                                0xE3, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF, 0xA9, 0x9F};
  int disagreements = 0;
  for (int n = 0; n < 200'000 && disagreements < 5; ++n) {
    std::string s(rng() % 40, 'x');
    for (char& c : s) {
      if (rng() % 4 == 0) c = static_cast<char>(pool[rng() % sizeof pool]);
    }
    if (is_valid_utf8(s) != reference_utf8(s)) {
      ++disagreements;
      BOOST_ERROR("is_valid_utf8 says " << is_valid_utf8(s) << " for a string of " << s.size()
                                        << " bytes (seed " << seed << ", string " << n << ")");
    }
  }
}

BOOST_AUTO_TEST_CASE(collection_names_follow_the_rule_and_say_which_part_they_break) {
  for (const char* name : {"customers", "a", "orders_2026", "x123"}) {
    BOOST_TEST(static_cast<bool>(validate_collection_name(name)), name);
  }
  const std::pair<std::string, std::string> broken[] = {
      {"", "is empty"},
      {std::string(65, 'a'), "is longer than 64 characters"},
      {"Customers", "must start with a lowercase letter"},
      {"1orders", "must start with a lowercase letter"},
      {"order-lines", "has a character other than a-z, 0-9 and _"},
      {"customers\xC3\xA9", "has a character other than a-z, 0-9 and _"},
  };
  for (const auto& [name, why] : broken) {
    const Status st = validate_collection_name(name);
    BOOST_TEST(!st, name);
    BOOST_TEST(st.message().find(why) != std::string::npos, st.message());
  }
  BOOST_TEST(static_cast<bool>(validate_collection_name(std::string(64, 'a'))));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace shopsync
