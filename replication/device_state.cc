#include "replication/device_state.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "core/version_vector.h"

namespace shopsync {

namespace {

using json = nlohmann::json;

}  // namespace

Status validate_device_id(std::string_view id) {
  const bool ok = !id.empty() && id.size() <= 100 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || c == ':';
  });
  if (!ok) return Status::invalid("deviceId must be 1 to 100 of [A-Za-z0-9._:-]");
  return Status::ok();
}

std::string device_key(std::string_view device) { return "gateway/device/" + std::string(device); }

std::string seen_key(std::string_view device, const RecordKey& key) {
  return "gateway/seen/" + std::string(device) + "/" + key.collection + "/" + key.id;
}

Result<std::optional<DeviceState>> load_device(StoreReader& reader, std::string_view device) {
  auto raw = reader.get(Table::settings, device_key(device));
  if (!raw) return raw.status();
  if (!raw->has_value()) return std::optional<DeviceState>();
  // The stored text is ours (save_device), so a plain parse: no depth limit
  // is needed against it, and a failure reads as corrupt.
  const json doc = json::parse(**raw, nullptr, /*allow_exceptions=*/false);
  auto corrupt = [&](std::string why) {
    return Status::corrupt("device state of '" + std::string(device) + "': " + why);
  };
  if (doc.is_discarded() || !doc.is_object()) return corrupt("not a JSON object");
  DeviceState s;
  try {
    s.first_seen_ms = doc.value("first_seen_ms", std::uint64_t{0});
    s.last_pull_ms = doc.value("last_pull_ms", std::uint64_t{0});
    s.last_push_ms = doc.value("last_push_ms", std::uint64_t{0});
    s.last_sync_ms = doc.value("last_sync_ms", std::uint64_t{0});
    s.pulls = doc.value("pulls", std::uint64_t{0});
    s.pushes = doc.value("pushes", std::uint64_t{0});
    for (const char* name : {"pulled_knowledge", "paging_knowledge"}) {
      if (!doc.contains(name)) continue;
      auto vv = parse_version_vector(doc.at(name).get<std::string>());
      if (!vv) return corrupt(vv.status().message());
      (std::string_view(name) == "pulled_knowledge" ? s.pulled_knowledge : s.paging_knowledge) = *vv;
    }
    if (doc.contains("resend")) {
      for (const auto& k : doc.at("resend")) s.resend.push_back({k.at(0).get<std::string>(), k.at(1).get<std::string>()});
    }
  } catch (const json::exception& e) {
    return corrupt(e.what());
  }
  return std::optional<DeviceState>(std::move(s));
}

Status save_device(StoreWriter& writer, std::string_view device, const DeviceState& s) {
  json doc = {{"first_seen_ms", s.first_seen_ms}, {"last_pull_ms", s.last_pull_ms}, {"last_push_ms", s.last_push_ms},
              {"last_sync_ms", s.last_sync_ms},   {"pulls", s.pulls},               {"pushes", s.pushes}};
  if (s.pulled_knowledge) doc["pulled_knowledge"] = version_vector_text(*s.pulled_knowledge);
  if (s.paging_knowledge) doc["paging_knowledge"] = version_vector_text(*s.paging_knowledge);
  if (!s.resend.empty()) {
    json list = json::array();
    for (const auto& k : s.resend) list.push_back({k.collection, k.id});
    doc["resend"] = std::move(list);
  }
  return writer.put(Table::settings, device_key(device), doc.dump(-1, ' ', false, json::error_handler_t::replace));
}

Result<std::optional<SeenVersion>> load_seen(StoreReader& reader, std::string_view device, const RecordKey& key) {
  auto raw = reader.get(Table::settings, seen_key(device, key));
  if (!raw) return raw.status();
  if (!raw->has_value()) return std::optional<SeenVersion>();
  const std::string& text = **raw;
  const auto bar = text.rfind('|');
  SeenVersion seen;
  if (bar == std::string::npos) return Status::corrupt("seen entry " + seen_key(device, key));
  auto vv = parse_version_vector(std::string_view(text).substr(0, bar));
  if (!vv) return Status::corrupt("seen entry " + seen_key(device, key) + ": " + vv.status().message());
  seen.context = *vv;
  const char* begin = text.data() + bar + 1;
  const auto [ptr, ec] = std::from_chars(begin, text.data() + text.size(), seen.updated_at);
  if (ec != std::errc() || ptr != text.data() + text.size()) return Status::corrupt("seen entry " + seen_key(device, key));
  return std::optional<SeenVersion>(std::move(seen));
}

Status save_seen(StoreWriter& writer, std::string_view device, const RecordKey& key, const SeenVersion& seen) {
  return writer.put(Table::settings, seen_key(device, key),
                    version_vector_text(seen.context) + "|" + std::to_string(seen.updated_at));
}

}  // namespace shopsync
