// Reconnect delays: exponential backoff with jitter, so that nodes restarted
// together do not redial in lockstep.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>

namespace shopsync {

struct BackoffPolicy {
  std::uint64_t initial_ms = 250;
  std::uint64_t max_ms = 30'000;
  double jitter = 0.25;  // the delay is scaled by a uniform factor in [1 - jitter, 1 + jitter]
};

// The delay before attempt number `failures` + 1 (failures >= 1):
// initial * 2^(failures - 1), capped at max, then jittered.
template <class Rng>
std::uint64_t backoff_delay_ms(const BackoffPolicy& policy, unsigned failures, Rng& rng) {
  const unsigned shift = std::min(failures > 0 ? failures - 1 : 0u, 20u);
  const std::uint64_t base = std::min(policy.max_ms, policy.initial_ms << shift);
  std::uniform_real_distribution<double> factor(1.0 - policy.jitter, 1.0 + policy.jitter);
  return static_cast<std::uint64_t>(static_cast<double>(base) * factor(rng));
}

}  // namespace shopsync
