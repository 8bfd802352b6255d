// The AvahiPoll adapter, exercised through avahi's own vtable as libavahi-core
// would: watches and timeouts created, updated and freed, including from
// inside their own callbacks, with a real pipe as the descriptor.
#include "discovery/avahi_poll.h"

#include <avahi-common/watch.h>
#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <vector>

using namespace shopsync::discovery;

namespace {

struct Pipe {
  int fds[2] = {-1, -1};
  Pipe() { BOOST_REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0); }
  ~Pipe() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  int read_end() const { return fds[0]; }
  void write_byte() const { BOOST_REQUIRE(::write(fds[1], "x", 1) == 1); }
};

timeval in_ms(long ms) {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  long usec = tv.tv_usec + ms * 1000;
  tv.tv_sec += usec / 1'000'000;
  tv.tv_usec = usec % 1'000'000;
  if (tv.tv_usec < 0) {
    tv.tv_usec += 1'000'000;
    tv.tv_sec -= 1;
  }
  return tv;
}

struct Counter {
  int calls = 0;
  int last_fd = -1;
  AvahiWatchEvent last_event{};
  const AvahiPoll* api = nullptr;
  bool free_self = false;
  bool rearm = false;
};

void on_watch(AvahiWatch* w, int fd, AvahiWatchEvent event, void* userdata) {
  auto* c = static_cast<Counter*>(userdata);
  ++c->calls;
  c->last_fd = fd;
  c->last_event = event;
  BOOST_TEST((c->api->watch_get_events(w) == event));
  if (c->free_self) c->api->watch_free(w);
}

void on_timeout(AvahiTimeout* t, void* userdata) {
  auto* c = static_cast<Counter*>(userdata);
  ++c->calls;
  if (c->rearm) {
    c->rearm = false;
    timeval tv = in_ms(-1);
    c->api->timeout_update(t, &tv);
  }
  if (c->free_self) c->api->timeout_free(t);
}

PollFd ready(int fd, short revents) { return PollFd{fd, poll_in, revents}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(avahi_poll)

BOOST_AUTO_TEST_CASE(flags_match_zeromq_and_convert_to_poll) {
  BOOST_TEST(poll_in == 1);  // ZMQ_POLLIN
  BOOST_TEST(poll_out == 2);  // ZMQ_POLLOUT
  BOOST_TEST(poll_err == 4);  // ZMQ_POLLERR
  BOOST_TEST(to_poll_events(poll_in | poll_out) == (POLLIN | POLLOUT));
  BOOST_TEST(from_poll_events(POLLIN | POLLHUP) == (poll_in | poll_err));
}

BOOST_AUTO_TEST_CASE(watch_is_listed_and_called_when_ready) {
  AvahiPollAdapter adapter;
  const AvahiPoll* api = adapter.api();
  Pipe pipe;
  Counter c;
  c.api = api;
  AvahiWatch* w = api->watch_new(api, pipe.read_end(), AVAHI_WATCH_IN, on_watch, &c);
  auto fds = adapter.fds();
  BOOST_REQUIRE(fds.size() == 1u);
  BOOST_TEST(fds[0].fd == pipe.read_end());
  BOOST_TEST(fds[0].events == poll_in);
  BOOST_TEST(adapter.timeout_ms() == -1);

  // Not ready: nothing runs. Another fd ready: nothing runs.
  BOOST_TEST(adapter.dispatch(std::vector<PollFd>{ready(pipe.read_end(), 0), ready(999, poll_in)}) == 0);
  BOOST_TEST(c.calls == 0);

  pipe.write_byte();
  BOOST_TEST(adapter.dispatch(std::vector<PollFd>{ready(pipe.read_end(), poll_in)}) == 1);
  BOOST_TEST(c.calls == 1);
  BOOST_TEST(c.last_fd == pipe.read_end());
  BOOST_TEST((c.last_event == AVAHI_WATCH_IN));

  // An error is always delivered, even when only input was asked for.
  adapter.dispatch(std::vector<PollFd>{ready(pipe.read_end(), poll_err)});
  BOOST_TEST(c.calls == 2);
  BOOST_TEST((c.last_event & AVAHI_WATCH_ERR));

  // watch_update to "nothing" hides it from fds(); back to IN|OUT shows both.
  api->watch_update(w, AvahiWatchEvent{});
  BOOST_TEST(adapter.fds().empty());
  api->watch_update(w, static_cast<AvahiWatchEvent>(AVAHI_WATCH_IN | AVAHI_WATCH_OUT));
  BOOST_REQUIRE(adapter.fds().size() == 1u);
  BOOST_TEST(adapter.fds()[0].events == (poll_in | poll_out));

  api->watch_free(w);
  BOOST_TEST(adapter.fds().empty());
  BOOST_TEST(adapter.live_watches() == 0u);
}

BOOST_AUTO_TEST_CASE(watch_may_free_itself_in_its_callback) {
  AvahiPollAdapter adapter;
  const AvahiPoll* api = adapter.api();
  Pipe pipe;
  Counter c;
  c.api = api;
  c.free_self = true;
  api->watch_new(api, pipe.read_end(), AVAHI_WATCH_IN, on_watch, &c);
  pipe.write_byte();
  adapter.dispatch(std::vector<PollFd>{ready(pipe.read_end(), poll_in)});
  BOOST_TEST(c.calls == 1);
  BOOST_TEST(adapter.live_watches() == 0u);
  adapter.dispatch(std::vector<PollFd>{ready(pipe.read_end(), poll_in)});
  BOOST_TEST(c.calls == 1);
}

BOOST_AUTO_TEST_CASE(timeouts_fire_once_when_due_and_report_the_earliest) {
  AvahiPollAdapter adapter;
  const AvahiPoll* api = adapter.api();
  Counter due, later, disabled;
  due.api = later.api = disabled.api = api;
  timeval past = in_ms(-10), future = in_ms(60'000);
  api->timeout_new(api, &future, on_timeout, &later);
  BOOST_TEST(adapter.timeout_ms() > 50'000);
  BOOST_TEST(adapter.timeout_ms() <= 60'001);
  api->timeout_new(api, nullptr, on_timeout, &disabled);
  AvahiTimeout* t = api->timeout_new(api, &past, on_timeout, &due);
  BOOST_TEST(adapter.timeout_ms() == 0);

  adapter.dispatch({});
  BOOST_TEST(due.calls == 1);
  BOOST_TEST(later.calls == 0);
  BOOST_TEST(disabled.calls == 0);
  // Expired means disabled: the next earliest is the far one again.
  BOOST_TEST(adapter.timeout_ms() > 50'000);
  adapter.dispatch({});
  BOOST_TEST(due.calls == 1);

  // Re-enabled with timeout_update, it fires again.
  api->timeout_update(t, &past);
  adapter.dispatch({});
  BOOST_TEST(due.calls == 2);
  // Disabled with a null time, it does not.
  api->timeout_update(t, &past);
  api->timeout_update(t, nullptr);
  adapter.dispatch({});
  BOOST_TEST(due.calls == 2);
  BOOST_TEST(adapter.live_timeouts() == 3u);
}

BOOST_AUTO_TEST_CASE(timeout_may_rearm_or_free_itself_in_its_callback) {
  AvahiPollAdapter adapter;
  const AvahiPoll* api = adapter.api();
  Counter rearming, freeing;
  rearming.api = freeing.api = api;
  rearming.rearm = true;
  freeing.free_self = true;
  timeval past = in_ms(-1);
  api->timeout_new(api, &past, on_timeout, &rearming);
  api->timeout_new(api, &past, on_timeout, &freeing);

  adapter.dispatch({});
  BOOST_TEST(rearming.calls == 1);  // re-armed in the past: due again, but runs next round
  BOOST_TEST(freeing.calls == 1);
  BOOST_TEST(adapter.live_timeouts() == 1u);
  BOOST_TEST(adapter.timeout_ms() == 0);
  adapter.dispatch({});
  BOOST_TEST(rearming.calls == 2);
  BOOST_TEST(freeing.calls == 1);
  BOOST_TEST(adapter.timeout_ms() == -1);
}

namespace {
struct Spawner {
  const AvahiPoll* api = nullptr;
  int spawned_calls = 0;
};
void on_spawned(AvahiTimeout*, void* userdata) { ++static_cast<Spawner*>(userdata)->spawned_calls; }
void on_spawner(AvahiTimeout*, void* userdata) {
  auto* s = static_cast<Spawner*>(userdata);
  // Creating many timeouts inside a callback must not invalidate anything.
  for (int i = 0; i < 100; ++i) {
    timeval tv = in_ms(-1);
    s->api->timeout_new(s->api, &tv, on_spawned, s);
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(callbacks_may_create_new_timeouts) {
  AvahiPollAdapter adapter;
  const AvahiPoll* api = adapter.api();
  Spawner s;
  s.api = api;
  timeval past = in_ms(-1);
  api->timeout_new(api, &past, on_spawner, &s);
  adapter.dispatch({});
  BOOST_TEST(s.spawned_calls == 0);  // created during this round: run in the next
  adapter.dispatch({});
  BOOST_TEST(s.spawned_calls == 100);
  BOOST_TEST(adapter.live_timeouts() == 101u);
}

BOOST_AUTO_TEST_SUITE_END()
