#include "replication/delta.h"

#include <algorithm>
#include <set>

namespace shopsync {

DeltaCursor::DeltaCursor(const VersionVector& puller, const VersionVector& target, bool snapshot)
    : DeltaCursor(puller, target, VersionVector{}, {}, snapshot) {}

DeltaCursor::DeltaCursor(const VersionVector& puller, const VersionVector& target, const VersionVector& held_above,
                         std::set<Dot> puller_holds, bool snapshot)
    : claim_(target), puller_holds_(std::move(puller_holds)), snapshot_(snapshot) {
  VersionVector scan = target;
  scan.join(held_above);
  for (const auto& [origin, counter] : scan.entries()) {
    const std::uint64_t from = puller.get(origin);
    if (counter > from) {
      origins_.push_back(origin);
      progress_.set(origin, from);
      target_.set(origin, counter);
    }
  }
}

namespace {

// `progress` capped at what the sender knows: a batch never claims dots the
// sender only holds above its knowledge (there may be a gap below them).
VersionVector capped(const VersionVector& progress, const VersionVector& claim) {
  VersionVector out;
  for (const auto& [origin, counter] : progress.entries()) {
    const std::uint64_t c = std::min(counter, claim.get(origin));
    if (c > 0) out.set(origin, c);
  }
  return out;
}

LeftRecord left_record(const RecordKey& key, const RecordState& state) {
  LeftRecord out{key, state.context, {}};
  for (const Version& v : state.siblings) out.live.advance(v.dot);
  return out;
}

// The puller may hold a version of a record with this context: its knowledge
// knows one of the context's origins (it received a version of the record, or
// at least dots of the same writer, from someone).
bool may_hold(const VersionVector& puller, const VersionVector& context) {
  return std::ranges::any_of(context.entries(), [&](const VersionVector::Entry& e) { return puller.get(e.first) != 0; });
}

}  // namespace

void DeltaCursor::restrict_to(Scope scope, VersionVector puller) {
  scope_ = std::move(scope);
  puller_ = std::move(puller);
}

std::size_t estimated_size(const RecordKey& key, const PackedRecord& record) {
  return key.collection.size() + key.id.size() + record.bytes().size() + 8;
}

Result<Batch> DeltaCursor::next(StoreReader& reader, const BatchLimits& limits) {
  Batch batch;
  batch.records.reserve(std::min<std::size_t>(limits.max_records, 1024));
  batch.snapshot = snapshot_;
  batch.base = capped(progress_, claim_);
  std::size_t bytes = 0;
  std::set<RecordKey> in_batch;
  bool full = false;
  for (const RecordKey& key : wanted_) {
    auto state = reader.packed_record(key);
    if (!state && state.status().code() != Errc::corrupt) return state.status();
    if (!state || !state->has_value()) continue;
    const RecordState decoded = (*state)->decode();
    if (!scope_ || scope_->contains(key, decoded)) {
      bytes += estimated_size(key, **state);
      batch.records.emplace_back(key, std::move(**state));
    } else {
      batch.left.push_back(left_record(key, decoded));
    }
    in_batch.insert(key);
  }
  wanted_.clear();
  while (!full && next_origin_ < origins_.size()) {
    const NodeId origin = origins_[next_origin_];
    const std::uint64_t limit = target_.get(origin);
    Status failure;
    bool reached_end = true;
    Status scan = reader.for_each_change(origin, progress_.get(origin), [&](std::uint64_t counter, const RecordKey& key) {
      if (counter > limit) return Scan::stop;
      if (puller_holds_.count(Dot{origin, counter}) != 0) {
        progress_.set(origin, counter);  // the puller has this version already (Pull.held)
        return Scan::next;
      }
      // One copy of a record per batch even when several of its siblings are
      // due (their dots are then all carried by that copy). A record of one
      // sibling has one index entry: only the others need remembering.
      if (in_batch.count(key) == 0) {
        auto state = reader.packed_record(key);
        if (!state && state.status().code() != Errc::corrupt) {
          failure = state.status();
          reached_end = false;
          return Scan::stop;
        }
        // A record that does not decode (the store notes it) or that an
        // index entry names wrongly cannot be sent: it is skipped like a
        // superseded dot, so that one bad record never stops replication.
        if (!state || !state->has_value()) {
          progress_.set(origin, counter);
          return Scan::next;
        }
        if (scope_) {
          const RecordState decoded = (*state)->decode();
          if (!scope_->contains(key, decoded)) {
            if (may_hold(puller_, decoded.context)) {
              batch.left.push_back(left_record(key, decoded));
              bytes += key.collection.size() + key.id.size() + 16 * decoded.context.entries().size();
              in_batch.insert(key);
            }
            progress_.set(origin, counter);
            return Scan::next;
          }
        }
        const std::size_t size = estimated_size(key, **state);
        if (!batch.records.empty() &&
            (batch.records.size() >= limits.max_records || bytes + size > limits.max_bytes)) {
          full = true;
          reached_end = false;
          return Scan::stop;
        }
        bytes += size;
        if ((*state)->sibling_count() > 1) in_batch.insert(key);
        batch.records.emplace_back(key, std::move(**state));
      }
      progress_.set(origin, counter);
      return Scan::next;
    });
    if (!scan) return scan;
    if (!failure.is_ok()) return failure;
    if (reached_end) {
      // Everything of this origin up to the target has been sent (dots no
      // longer in the index were superseded; see delta.h).
      progress_.set(origin, limit);
      ++next_origin_;
    }
  }
  batch.complete = capped(progress_, claim_);
  batch.more = !done();
  return batch;
}

void DeltaCursor::superseded(const std::vector<Dot>& dots) {
  for (const Dot& dot : dots) {
    const bool still_to_send = progress_.get(dot.origin) < dot.counter && dot.counter <= claim_.get(dot.origin);
    if (still_to_send) claim_.set(dot.origin, dot.counter - 1);
  }
}

VersionVector apply_completeness(const VersionVector& knowledge, const Batch& batch) {
  VersionVector out = knowledge;
  for (const auto& [origin, counter] : batch.complete.entries()) {
    if (knowledge.get(origin) >= batch.base.get(origin) && counter > knowledge.get(origin)) {
      out.set(origin, counter);
    }
  }
  return out;
}

}  // namespace shopsync
