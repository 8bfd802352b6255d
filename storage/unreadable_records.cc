#include "storage/unreadable_records.h"

namespace shopsync {

void UnreadableRecords::note(Entry entry) {
  std::lock_guard lock(mutex_);
  if (entries_.count(entry.key) != 0) return;
  if (entries_.size() >= kMaxRemembered) {
    ++not_remembered_;
    return;
  }
  new_.push_back(entry.key);
  RecordKey key = entry.key;
  entries_.emplace(std::move(key), std::move(entry));
}

void UnreadableRecords::forget(const RecordKey& key) {
  std::lock_guard lock(mutex_);
  entries_.erase(key);
}

std::vector<UnreadableRecords::Entry> UnreadableRecords::list() const {
  std::lock_guard lock(mutex_);
  std::vector<Entry> out;
  out.reserve(entries_.size());
  for (const auto& [key, entry] : entries_) out.push_back(entry);
  return out;
}

std::size_t UnreadableRecords::count() const {
  std::lock_guard lock(mutex_);
  return entries_.size() + not_remembered_;
}

std::vector<UnreadableRecords::Entry> UnreadableRecords::take_new() {
  std::lock_guard lock(mutex_);
  std::vector<Entry> out;
  for (const RecordKey& key : new_) {
    if (auto it = entries_.find(key); it != entries_.end()) out.push_back(it->second);
  }
  new_.clear();
  return out;
}

}  // namespace shopsync
