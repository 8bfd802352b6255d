// Internal to the gateway: the counters it keeps for /metrics.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "node/gateway/gateway.h"

namespace shopsync::gateway {

inline constexpr std::array<double, 11> kDurationBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                            0.25,  0.5,   1.0,  2.5,   10.0};

struct Histogram {
  std::array<std::uint64_t, kDurationBuckets.size()> buckets{};  // cumulative at render time
  double sum = 0;
  std::uint64_t count = 0;
  void observe(double seconds) {
    for (std::size_t i = 0; i < kDurationBuckets.size(); ++i) {
      if (seconds <= kDurationBuckets[i]) ++buckets[i];
    }
    sum += seconds;
    ++count;
  }
};

struct Gateway::Metrics {
  std::map<std::pair<std::string, int>, std::uint64_t> requests;  // (route, status)
  std::map<std::string, Histogram> durations;                      // by route
  std::uint64_t unauthorized = 0;
  std::uint64_t outside_scope = 0;  // writes refused: outside the token's write scope
  std::uint64_t pushed_records = 0;
  std::uint64_t pulled_records = 0;
  std::map<std::pair<std::string, std::string>, std::uint64_t> push_conflicts;  // (strategy, winner)
  std::uint64_t push_errors = 0;
  // The conflict log counted so far, up to which seq (it only grows).
  std::uint64_t conflicts_counted = 0;
  std::uint64_t conflicts_seq = 0;
};

}  // namespace shopsync::gateway
