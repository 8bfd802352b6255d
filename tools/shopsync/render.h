// How the shopsync CLI shows API answers: aligned text for people, JSON for
// scripts (--json; the keys follow docs/local-api.md, field values as JSON).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

#include "api/api_json.h"
#include "api/api_types.h"
#include "tools/shopsync/json_values.h"

namespace shopsync::cli {

// "2026-11-25 14:20:49.123Z" (UTC); "never" for 0.
std::string format_time(std::uint64_t unix_ms);
// "850 ms", "12 s", "4 min", "3 h", "2 d".
std::string format_duration(std::uint64_t ms);
// "12000 of ~200000 records (6%), 1.1 of ~19 MiB, 45000 rec/s, ETA 4 s".
std::string format_sync_progress(const api::SyncProgress& p);

// The JSON forms (--json) are api/api_json.h, shared with the web console.
using api::change_json;
using api::collections_json;
using api::conflicts_json;
using api::fields_json;
using api::keys_json;
using api::list_json;
using api::peers_json;
using api::record_json;
using api::status_json;
using api::write_json;

void print_record(std::ostream& out, const api::RecordView& r);
void print_list(std::ostream& out, const api::ListPage& page);
void print_collections(std::ostream& out, const api::CollectionList& list);
void print_change(std::ostream& out, const api::Change& c);
void print_conflicts(std::ostream& out, const api::ConflictsPage& page);
void print_status(std::ostream& out, const api::NodeStatus& s);
void print_peers(std::ostream& out, const api::PeerList& list);
void print_keys(std::ostream& out, const api::TrustedKeyList& list);

// A left-aligned text table; the last column is not padded.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::ostream& out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace shopsync::cli
