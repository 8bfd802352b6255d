// The node's application service (app/record_service.h) over a real Replica
// on an in-memory store: the one count of records, tokens and users, and the
// device protocol's writes.
#include <boost/test/unit_test.hpp>

#include "app/record_service.h"
#include "replication/clock.h"
#include "storage/faulty_store.h"
#include "storage/memory_store.h"
#include "storage/packed_record.h"

namespace shopsync::test {
namespace {

struct Service {
  MemoryStore memory;
  FaultyStore faulty{memory};
  app::CountingStore counted{faulty};
  ManualClock clock{1'750'000'000'000};
  VectorOutbox outbox;
  std::unique_ptr<Replica> replica;
  std::unique_ptr<app::RecordService> service;

  Service() {
    ReplicaOptions options;
    options.node_id = 0x51;
    options.cluster = "shop";
    auto r = Replica::open(counted, clock, options);
    BOOST_REQUIRE_MESSAGE(r, r.status().to_string());
    replica = std::move(*r);
    BOOST_REQUIRE(app::start_counting(counted, *replica));
    service = std::make_unique<app::RecordService>(*replica, counted, outbox);
  }

  void put(const std::string& collection, const std::string& id) {
    api::PutRequest request;
    request.key = RecordKey{collection, id};
    request.fields.emplace("name", std::string("\xa3" "Ada", 4));  // MessagePack "Ada"
    BOOST_REQUIRE(service->put(request));
  }
};

std::uint64_t live_in(const api::CollectionList& list, const std::string& name) {
  for (const auto& c : list.collections) {
    if (c.name == name) return c.records;
  }
  return 0;
}

BOOST_AUTO_TEST_SUITE(record_service)

// Writes through the local API's operations and through the REST ones
// (write/erase) move the same counts, which collections(), status() and
// counts() all show.
BOOST_AUTO_TEST_CASE(one_count_of_live_records) {
  Service s;
  s.put("customers", "C1");
  s.put("customers", "C2");
  s.put("orders", "O1");
  BOOST_REQUIRE(s.service->write(RecordKey{"orders", "O2"}, FieldUpdate{}));
  BOOST_REQUIRE(s.service->remove(RecordKey{"customers", "C2"}));
  BOOST_REQUIRE(s.service->erase(RecordKey{"orders", "O1"}));

  auto list = s.service->collections();
  BOOST_REQUIRE(list);
  BOOST_TEST(live_in(*list, "customers") == 1u);
  BOOST_TEST(live_in(*list, "orders") == 1u);
  auto status = s.service->status();
  BOOST_REQUIRE(status);
  BOOST_TEST((status->collections == list->collections));
  const app::RecordCounts counts = s.service->counts();
  BOOST_TEST(counts.at("customers").live == 1);
  BOOST_TEST(counts.at("customers").stored == 2);  // C2's tombstone
  BOOST_TEST(counts.at("orders").live == 1);
}

// A failed commit changes no count.
BOOST_AUTO_TEST_CASE(a_failed_write_counts_nothing) {
  Service s;
  s.put("customers", "C1");
  s.faulty.disk_full_from(1);
  api::PutRequest request;
  request.key = RecordKey{"customers", "C2"};
  BOOST_TEST(!s.service->put(request));
  s.faulty.heal();
  BOOST_TEST(s.service->counts().at("customers").live == 1);
}

// The gateway's tokens and users, kept by the service (what `shopsync token`
// and `shopsync user` ask the running daemon for).
BOOST_AUTO_TEST_CASE(tokens_and_users) {
  Service s;
  auto made = s.service->create_token({"till"});
  BOOST_REQUIRE(made);
  BOOST_TEST(made->name == "till");
  BOOST_TEST(made->token.starts_with("sst_"));
  BOOST_TEST((s.service->create_token({"till"}).status().code() == Errc::invalid_argument));
  BOOST_TEST((s.service->create_token({"bad name"}).status().code() == Errc::invalid_argument));
  auto listed = s.service->list_tokens();
  BOOST_REQUIRE(listed);
  BOOST_REQUIRE(listed->entries.size() == 1u);
  BOOST_TEST(listed->entries[0].name == "till");
  BOOST_TEST(s.service->verify_token(made->token)->value_or("") == "till");
  BOOST_REQUIRE(s.service->revoke_token("till"));
  BOOST_TEST(!s.service->verify_token(made->token)->has_value());
  BOOST_TEST((s.service->revoke_token("till").code() == Errc::not_found));

  // A user is a record of the users collection, whatever node wrote it.
  const RecordKey admin{std::string(app::kUsersCollection), "admin"};
  auto hash = app::hash_password("admin123");
  BOOST_REQUIRE(hash);
  FieldUpdate user;
  user.fields[std::string(app::kPasswordField)] = app::packed_password(*hash);
  BOOST_REQUIRE(s.service->write(admin, user));
  BOOST_TEST(*s.service->check_password("admin", "admin123"));
  BOOST_TEST(!*s.service->check_password("admin", "admin124"));
  BOOST_TEST(!*s.service->check_password("nobody", "admin123"));
  BOOST_REQUIRE(s.service->remove(admin));
  BOOST_TEST(!*s.service->check_password("admin", "admin123"));
}

// What a pull sent and the device's new state commit together or not at all.
BOOST_AUTO_TEST_CASE(a_device_pull_is_recorded_in_one_transaction) {
  Service s;
  s.put("customers", "C1");
  const RecordKey key{"customers", "C1"};
  DeviceState state;
  state.pulls = 1;
  const std::vector<app::SentToDevice> sent = {{key, SeenVersion{s.replica->knowledge(), 1}}};
  s.faulty.disk_full_from(1);
  BOOST_TEST(!s.service->record_device_pull("tab-1", sent, state));
  s.faulty.heal();
  auto stored = [&](bool& device, bool& seen) {
    BOOST_REQUIRE(s.service->read_for_device([&](StoreReader& r) -> Status {
      auto d = load_device(r, "tab-1");
      if (!d) return d.status();
      auto v = load_seen(r, "tab-1", key);
      if (!v) return v.status();
      device = d->has_value();
      seen = v->has_value();
      return Status::ok();
    }));
  };
  bool device = true, seen = true;
  stored(device, seen);
  BOOST_TEST(!device);
  BOOST_TEST(!seen);
  BOOST_REQUIRE(s.service->record_device_pull("tab-1", sent, state));
  stored(device, seen);
  BOOST_TEST(device);
  BOOST_TEST(seen);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace shopsync::test
