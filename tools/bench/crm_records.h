// CRM-shaped records for the benchmarks (shopsync-bench storage and sync): a
// customer of a timber merchant, the kind of record shopsync carries in
// production. Ten top-level fields (name, email, phone, company, an address
// map of street/city/zip, a tags array, a balance, a visit count, a VIP flag
// and a creation date), thirteen values in all counting the address's parts;
// about 230 bytes once stored with its stamps and context.
//
// Deterministic: the same seed and record number give the same fields.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "storage/record.h"

namespace shopsync::bench {

// One line for the benchmarks' output: what the records look like.
inline constexpr const char* kCrmShape =
    "CRM customers: 10 fields (name, email, phone, company, address{street,city,zip}, tags[2], balance, "
    "visits, vip, created_at), 13 values";

class CrmRecords {
 public:
  explicit CrmRecords(std::uint64_t seed) : rng_(seed) {}

  // The fields of customer number `n`, every one stamped `at`.
  Fields customer(std::uint64_t n, Hlc at);

  // "CUST_00000042"
  static std::string id(std::uint64_t n);

 private:
  std::mt19937_64 rng_;
};

}  // namespace shopsync::bench
