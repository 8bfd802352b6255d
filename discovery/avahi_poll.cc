// The only place that implements avahi's main-loop abstraction.
#include "discovery/avahi_poll.h"

#include <avahi-common/watch.h>
#include <poll.h>
#include <sys/time.h>

#include <algorithm>
#include <climits>
#include <cstdint>

// The opaque types of avahi-common/watch.h are ours to define.
struct AvahiWatch {
  shopsync::discovery::AvahiPollAdapter::State* owner = nullptr;
  int fd = -1;
  AvahiWatchEvent events{};
  AvahiWatchEvent revents{};  // what the last dispatch saw, for watch_get_events
  AvahiWatchCallback callback = nullptr;
  void* userdata = nullptr;
  bool dead = false;
};

struct AvahiTimeout {
  shopsync::discovery::AvahiPollAdapter::State* owner = nullptr;
  bool enabled = false;
  timeval when{};
  AvahiTimeoutCallback callback = nullptr;
  void* userdata = nullptr;
  bool dead = false;
};

namespace shopsync::discovery {

struct AvahiPollAdapter::State {
  AvahiPoll api{};
  std::vector<std::unique_ptr<AvahiWatch>> watches;
  std::vector<std::unique_ptr<AvahiTimeout>> timeouts;
  int dispatch_depth = 0;  // > 0 while callbacks run: frees are deferred

  void collect_garbage() {
    if (dispatch_depth > 0) return;
    std::erase_if(watches, [](const auto& w) { return w->dead; });
    std::erase_if(timeouts, [](const auto& t) { return t->dead; });
  }
};

namespace {

using State = AvahiPollAdapter::State;

State* state_of(const AvahiPoll* api) { return static_cast<State*>(api->userdata); }

short to_avahi(short flags) {
  short out = 0;
  if (flags & poll_in) out |= POLLIN;
  if (flags & poll_out) out |= POLLOUT;
  if (flags & poll_err) out |= POLLERR | POLLHUP;
  return out;
}

AvahiWatch* watch_new(const AvahiPoll* api, int fd, AvahiWatchEvent event, AvahiWatchCallback callback,
                      void* userdata) {
  State* s = state_of(api);
  auto w = std::make_unique<AvahiWatch>();
  w->owner = s;
  w->fd = fd;
  w->events = event;
  w->callback = callback;
  w->userdata = userdata;
  s->watches.push_back(std::move(w));
  return s->watches.back().get();
}

void watch_update(AvahiWatch* w, AvahiWatchEvent event) { w->events = event; }

AvahiWatchEvent watch_get_events(AvahiWatch* w) { return w->revents; }

void watch_free(AvahiWatch* w) {
  w->dead = true;
  w->owner->collect_garbage();
}

void set_when(AvahiTimeout* t, const timeval* tv) {
  t->enabled = tv != nullptr;
  if (tv) t->when = *tv;
}

AvahiTimeout* timeout_new(const AvahiPoll* api, const timeval* tv, AvahiTimeoutCallback callback, void* userdata) {
  State* s = state_of(api);
  auto t = std::make_unique<AvahiTimeout>();
  t->owner = s;
  set_when(t.get(), tv);
  t->callback = callback;
  t->userdata = userdata;
  s->timeouts.push_back(std::move(t));
  return s->timeouts.back().get();
}

void timeout_update(AvahiTimeout* t, const timeval* tv) { set_when(t, tv); }

void timeout_free(AvahiTimeout* t) {
  t->dead = true;
  t->owner->collect_garbage();
}

std::int64_t micros(const timeval& tv) { return std::int64_t{tv.tv_sec} * 1'000'000 + tv.tv_usec; }

std::int64_t now_micros() {
  timeval now{};
  gettimeofday(&now, nullptr);
  return micros(now);
}

}  // namespace

short to_poll_events(short flags) { return to_avahi(flags); }

short from_poll_events(short poll_events) {
  short out = 0;
  if (poll_events & POLLIN) out |= poll_in;
  if (poll_events & POLLOUT) out |= poll_out;
  if (poll_events & (POLLERR | POLLHUP | POLLNVAL)) out |= poll_err;
  return out;
}

AvahiPollAdapter::AvahiPollAdapter() : state_(std::make_unique<State>()) {
  state_->api.userdata = state_.get();
  state_->api.watch_new = watch_new;
  state_->api.watch_update = watch_update;
  state_->api.watch_get_events = watch_get_events;
  state_->api.watch_free = watch_free;
  state_->api.timeout_new = timeout_new;
  state_->api.timeout_update = timeout_update;
  state_->api.timeout_free = timeout_free;
}

AvahiPollAdapter::~AvahiPollAdapter() = default;

const AvahiPoll* AvahiPollAdapter::api() const { return &state_->api; }

std::vector<PollFd> AvahiPollAdapter::fds() const {
  std::vector<PollFd> out;
  for (const auto& w : state_->watches) {
    if (w->dead) continue;
    short events = from_poll_events(static_cast<short>(w->events));
    events &= static_cast<short>(poll_in | poll_out);  // errors are always reported
    if (events == 0) continue;
    out.push_back({w->fd, events, 0});
  }
  return out;
}

int AvahiPollAdapter::timeout_ms() const {
  std::int64_t earliest = INT64_MAX;
  for (const auto& t : state_->timeouts) {
    if (!t->dead && t->enabled) earliest = std::min(earliest, micros(t->when));
  }
  if (earliest == INT64_MAX) return -1;
  std::int64_t left = earliest - now_micros();
  if (left <= 0) return 0;
  // Round up: waking a little late is fine, waking early just spins once more.
  std::int64_t ms = (left + 999) / 1000;
  return static_cast<int>(std::min<std::int64_t>(ms, INT_MAX));
}

int AvahiPollAdapter::dispatch(std::span<const PollFd> ready) {
  State& s = *state_;
  int ran = 0;
  ++s.dispatch_depth;

  // Index loops: callbacks may append watches/timeouts (vector may reallocate,
  // but the unique_ptr targets stay put). New ones are not run in this round.
  const std::size_t n_watches = s.watches.size();
  for (std::size_t i = 0; i < n_watches; ++i) {
    AvahiWatch* w = s.watches[i].get();
    w->revents = AvahiWatchEvent{};
    if (w->dead) continue;
    short happened = 0;
    for (const PollFd& r : ready) {
      if (r.fd == w->fd) happened |= r.revents;
    }
    short wanted = static_cast<short>(from_poll_events(static_cast<short>(w->events)) | poll_err);
    happened &= wanted;
    if (happened == 0) continue;
    w->revents = static_cast<AvahiWatchEvent>(to_avahi(happened));
    w->callback(w, w->fd, w->revents, w->userdata);
    ++ran;
  }

  const std::int64_t now = now_micros();
  const std::size_t n_timeouts = s.timeouts.size();
  for (std::size_t i = 0; i < n_timeouts; ++i) {
    AvahiTimeout* t = s.timeouts[i].get();
    if (t->dead || !t->enabled || micros(t->when) > now) continue;
    t->enabled = false;  // avahi expects an expired timeout to be disabled
    t->callback(t, t->userdata);
    ++ran;
  }

  --s.dispatch_depth;
  s.collect_garbage();
  return ran;
}

std::size_t AvahiPollAdapter::live_watches() const {
  return static_cast<std::size_t>(
      std::count_if(state_->watches.begin(), state_->watches.end(), [](const auto& w) { return !w->dead; }));
}

std::size_t AvahiPollAdapter::live_timeouts() const {
  return static_cast<std::size_t>(
      std::count_if(state_->timeouts.begin(), state_->timeouts.end(), [](const auto& t) { return !t->dead; }));
}

}  // namespace shopsync::discovery
