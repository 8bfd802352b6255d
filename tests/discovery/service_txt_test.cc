// The TXT codec: what we announce decodes to itself, and what arrives from the
// network (untrusted) is either a valid ServiceTxt or a clear error.
#include "discovery/service_txt.h"

#include <boost/test/unit_test.hpp>
#include <random>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

using namespace shopsync;
using namespace shopsync::discovery;

namespace {

const std::string kKey = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

ServiceTxt sample() { return ServiceTxt{3, "acme-shops", 0x00000000deadbeefULL, kKey, Role::uplink}; }

std::vector<std::string_view> views(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

std::vector<std::string> good_entries() { return encode_txt(sample()); }

Result<ServiceTxt> decode_strings(const std::vector<std::string>& v) { return decode_txt(views(v)); }

}  // namespace

BOOST_AUTO_TEST_SUITE(service_txt)

BOOST_AUTO_TEST_CASE(encodes_the_documented_keys_in_order) {
  std::vector<std::string> expected = {"txtvers=1", "proto=3", "cluster=acme-shops", "node=00000000deadbeef",
                                       "key=" + kKey, "role=uplink"};
  BOOST_TEST(encode_txt(sample()) == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(round_trips) {
  auto decoded = decode_strings(good_entries());
  BOOST_REQUIRE(decoded.is_ok());
  BOOST_TEST((*decoded == sample()));
  ServiceTxt peer = sample();
  peer.role = Role::peer;
  auto d2 = decode_strings(encode_txt(peer));
  BOOST_REQUIRE(d2.is_ok());
  BOOST_TEST((d2->role == Role::peer));
}

BOOST_AUTO_TEST_CASE(keys_are_case_insensitive_first_wins_unknown_ignored) {
  std::vector<std::string> v = {"TXTVERS=1", "Proto=3",      "CLUSTER=acme-shops", "cluster=evil",
                                "Node=00000000DEADBEEF", "KEY=" + kKey, "role=UPLINK",   "future=whatever",
                                "=novalue", "flag"};
  auto decoded = decode_strings(v);
  BOOST_REQUIRE_MESSAGE(decoded.is_ok(), decoded.status().to_string());
  BOOST_TEST((*decoded == sample()));
}

BOOST_AUTO_TEST_CASE(missing_keys_are_named) {
  for (std::string key : {"txtvers", "proto", "cluster", "node", "key", "role"}) {
    std::vector<std::string> v;
    for (const auto& e : good_entries()) {
      if (e.rfind(key + "=", 0) != 0) v.push_back(e);
    }
    auto decoded = decode_strings(v);
    BOOST_REQUIRE(!decoded.is_ok());
    BOOST_TEST((decoded.status().code() == Errc::corrupt));
    BOOST_TEST(decoded.status().message().find("\"" + key + "\"") != std::string::npos, decoded.status().message());
  }
}

BOOST_AUTO_TEST_CASE(bad_values_are_refused) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"proto", "proto=0"},         {"proto", "proto=-1"},         {"proto", "proto=99999999999"},
      {"proto", "proto="},          {"cluster", "cluster="},       {"cluster", "cluster=has space"},
      {"cluster", "cluster=" + std::string(64, 'a')},              {"node", "node=0000000000000000"},
      {"node", "node=deadbeef"},    {"node", "node=00000000deadbeeg"}, {"node", "node=+0000000deadbeef"},
      {"key", "key=short"},         {"key", "key=" + std::string(40, '"')}, {"role", "role=king"},
      {"role", "role"},             {"txtvers", "txtvers=one"}};
  for (const auto& [key, replacement] : bad) {
    std::vector<std::string> v = good_entries();
    for (auto& e : v) {
      if (e.rfind(key + "=", 0) == 0) e = replacement;
    }
    auto decoded = decode_strings(v);
    BOOST_TEST(!decoded.is_ok(), replacement);
    if (!decoded.is_ok()) BOOST_TEST((decoded.status().code() == Errc::corrupt), replacement);
  }
}

BOOST_AUTO_TEST_CASE(other_txtvers_is_a_protocol_error) {
  std::vector<std::string> v = good_entries();
  v[0] = "txtvers=2";
  auto decoded = decode_strings(v);
  BOOST_REQUIRE(!decoded.is_ok());
  BOOST_TEST((decoded.status().code() == Errc::protocol));
  // Whatever else a later version carries or leaves out.
  BOOST_TEST((decode_strings({"txtvers=2", "shape=round"}).status().code() == Errc::protocol));
}

BOOST_AUTO_TEST_CASE(size_limits) {
  std::vector<std::string> v = good_entries();
  v.push_back("pad=" + std::string(300, 'x'));
  BOOST_TEST((decode_strings(v).status().code() == Errc::too_large));

  v = good_entries();
  for (int i = 0; i < 40; ++i) v.push_back("k" + std::to_string(i) + "=v");
  BOOST_TEST((decode_strings(v).status().code() == Errc::too_large));

  v = good_entries();
  for (int i = 0; i < 6; ++i) v.push_back("p" + std::to_string(i) + "=" + std::string(250, 'y'));
  BOOST_TEST((decode_strings(v).status().code() == Errc::too_large));
}

BOOST_AUTO_TEST_CASE(validate_rejects_what_decode_would) {
  BOOST_TEST(validate_txt(sample()).is_ok());
  ServiceTxt t = sample();
  t.node_id = 0;
  BOOST_TEST(!validate_txt(t).is_ok());
  t = sample();
  t.public_key = "x";
  BOOST_TEST(!validate_txt(t).is_ok());
  t = sample();
  t.cluster = "a/b";
  BOOST_TEST(!validate_txt(t).is_ok());
  t = sample();
  t.protocol = 0;
  BOOST_TEST(!validate_txt(t).is_ok());
}

// Random bytes and random mutations of a good record: never a crash, and
// whatever decodes passes validation.
BOOST_AUTO_TEST_CASE(random_input_never_crashes) {
  auto seed = test::test_seed();
  std::mt19937_64 rng(seed);
  std::vector<std::string> base = good_entries();
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::vector<std::string> v;
    if (round % 2 == 0) {
      v = base;
      int edits = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < edits; ++k) {
        auto& e = v[rng() % v.size()];
        switch (rng() % 4) {
          case 0: if (!e.empty()) e[rng() % e.size()] = static_cast<char>(rng()); break;
          case 1: if (!e.empty()) e.erase(rng() % e.size(), 1); break;
          case 2: e.insert(e.begin() + static_cast<long>(rng() % (e.size() + 1)), static_cast<char>(rng())); break;
          case 3: std::swap(e, v[rng() % v.size()]); break;
        }
      }
    } else {
      int n = static_cast<int>(rng() % 40);
      for (int k = 0; k < n; ++k) {
        std::string e(rng() % 300, '\0');
        for (auto& c : e) c = static_cast<char>(rng());
        v.push_back(std::move(e));
      }
    }
    auto decoded = decode_strings(v);
    if (decoded.is_ok()) {
      ++accepted;
      BOOST_TEST(validate_txt(*decoded).is_ok());
    }
  }
  BOOST_TEST_MESSAGE("seed " << seed << ": " << accepted << " of 20000 random records decoded");
}

BOOST_AUTO_TEST_SUITE_END()
