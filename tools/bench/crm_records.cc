#include "tools/bench/crm_records.h"

#include <cstdio>

#include <msgpack.hpp>

#include "storage/record_codec.h"

namespace shopsync::bench {

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

void pack_str(Packer& pk, const std::string& s) {
  pk.pack_str(static_cast<std::uint32_t>(s.size()));
  pk.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
}

template <class F>
std::string packed(F&& f) {
  msgpack::sbuffer buf(64);
  Packer pk(buf);
  f(pk);
  return std::string(buf.data(), buf.size());
}

std::string packed_str(const std::string& s) {
  return packed([&](Packer& pk) { pack_str(pk, s); });
}

}  // namespace

Fields CrmRecords::customer(std::uint64_t n, Hlc at) {
  static constexpr const char* kCities[] = {"Lyon", "Paris", "Lille", "Nantes", "Bordeaux", "Marseille"};
  static constexpr const char* kFirst[] = {"Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances"};
  static constexpr const char* kLast[] = {"Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen"};
  const std::string first = kFirst[rng_() % 7];
  const std::string last = kLast[rng_() % 7];
  Fields f;
  auto str = [&](const char* name, const std::string& s) { f[name] = {packed_str(s), at}; };
  str("name", first + " " + last);
  str("email", lower(first) + "." + lower(last) + std::to_string(n) + "@example.com");
  str("phone", "+33 6 " + std::to_string(10'000'000 + rng_() % 89'999'999));
  str("company", last + " & Sons SARL");
  f["address"] = {packed([&](Packer& pk) {
                    pk.pack_map(3);
                    pack_str(pk, "street");
                    pack_str(pk, std::to_string(1 + rng_() % 200) + " rue de la République");
                    pack_str(pk, "city");
                    pack_str(pk, kCities[rng_() % 6]);
                    pack_str(pk, "zip");
                    pack_str(pk, std::to_string(10000 + rng_() % 89999));
                  }),
                  at};
  f["tags"] = {packed([&](Packer& pk) {
                 pk.pack_array(2);
                 pack_str(pk, rng_() % 2 ? "retail" : "wholesale");
                 pack_str(pk, rng_() % 5 ? "regular" : "vip");
               }),
               at};
  f["balance"] = {packed([&](Packer& pk) { pk.pack_double(static_cast<double>(rng_() % 1'000'000) / 100); }), at};
  f["visits"] = {packed([&](Packer& pk) { pk.pack_uint64(rng_() % 500); }), at};
  f["vip"] = {packed([&](Packer& pk) { rng_() % 5 ? pk.pack_false() : pk.pack_true(); }), at};
  f["created_at"] = {packed([&](Packer& pk) { pk.pack_int64(static_cast<std::int64_t>(at >> 16)); }), at};
  return f;
}

std::string CrmRecords::id(std::uint64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "CUST_%08llu", static_cast<unsigned long long>(n));
  return buf;
}

}  // namespace shopsync::bench
