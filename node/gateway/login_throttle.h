// Rate limits of the built-in login (docs/http-gateway.md, "Built-in login"):
// at most `per_address` attempts per client address and `per_user` failed
// attempts per user name in any `window`. A refused attempt costs nothing
// (no password hashing) and says when to retry. Memory is bounded: at most
// kMaxKeys addresses and names are remembered (the oldest forgotten first).
// Thread-safety: none; the loop thread only.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>

namespace shopsync::gateway {

class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kMaxKeys = 10'000;

  LoginThrottle(int per_address = 30, int per_user = 5, std::chrono::seconds window = std::chrono::seconds(60))
      : per_address_(per_address), per_user_(per_user), window_(window) {}

  // nullopt when the attempt may go ahead (it is counted against the
  // address); else the seconds to wait.
  std::optional<long> admit(const std::string& address, const std::string& user, Clock::time_point now) {
    if (auto wait = full(addresses_, "a:" + address, per_address_, now)) return wait;
    if (auto wait = full(failures_, "u:" + user, per_user_, now)) return wait;
    record(addresses_, "a:" + address, now);
    return std::nullopt;
  }
  // A wrong password for `user`.
  void failed(const std::string& user, Clock::time_point now) { record(failures_, "u:" + user, now); }

 private:
  using Log = std::map<std::string, std::deque<Clock::time_point>>;

  std::optional<long> full(Log& log, const std::string& key, int limit, Clock::time_point now) {
    auto it = log.find(key);
    if (it == log.end()) return std::nullopt;
    auto& times = it->second;
    while (!times.empty() && now - times.front() >= window_) times.pop_front();
    if (times.empty()) {
      log.erase(it);
      return std::nullopt;
    }
    if (static_cast<int>(times.size()) < limit) return std::nullopt;
    const auto wait = std::chrono::duration_cast<std::chrono::seconds>(times.front() + window_ - now).count();
    return wait < 1 ? 1 : wait;
  }
  void record(Log& log, const std::string& key, Clock::time_point now) {
    if (log.size() >= kMaxKeys && !log.count(key)) prune(log, now);
    log[key].push_back(now);
  }
  // Forgets expired keys; when none expired, the one seen least recently.
  void prune(Log& log, Clock::time_point now) {
    auto oldest = log.end();
    for (auto it = log.begin(); it != log.end();) {
      if (it->second.empty() || now - it->second.back() >= window_) {
        it = log.erase(it);
        continue;
      }
      if (oldest == log.end() || it->second.back() < oldest->second.back()) oldest = it;
      ++it;
    }
    if (log.size() >= kMaxKeys && oldest != log.end()) log.erase(oldest);
  }

  int per_address_;
  int per_user_;
  std::chrono::seconds window_;
  Log addresses_;
  Log failures_;
};

}  // namespace shopsync::gateway
