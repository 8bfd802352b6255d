// How the inspector writes values: field values, times, dots, version vectors
// and durations, as JSON (the stable shapes of docs/inspector.md) and as text.
//
// Pure functions; nothing throws (nlohmann's exceptions are caught here).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "storage/record.h"

namespace shopsync::inspect {

using nlohmann::json;

// One MessagePack-packed field value as JSON: nil, bool, numbers, strings,
// arrays and maps as themselves; binary as {"$binary": "<base64>"}. Bytes that
// do not decode become {"$undecodable": "<hex>"} (never an error: the
// inspector shows what is stored). The shared implementation
// (api/json_values.h: BinaryForm::tagged_object, Undecodable::hex_object).
json packed_to_json(std::string_view packed);

// The live fields of a version (removed-field markers dropped), by name.
json fields_to_json(const Fields& fields);

// "2026-11-25T14:31:26.123Z" (UTC); "" for 0.
std::string iso_time(std::uint64_t unix_ms);
// An HLC reading: {"hlc": "n" (a string: beyond 2^53), "time": iso of its wall part, "logical": n}.
json hlc_json(Hlc hlc);
// A wall-clock time in ms: {"ms": n, "time": iso} or null for 0 (never).
json time_json(std::uint64_t unix_ms);

// {"<16 hex>": counter, ...}
json vv_json(const VersionVector& vv);

// "850ms", "12s", "5m 3s", "4h 10m", "3d 4h".
std::string format_duration(std::uint64_t ms);
// "5m 3s ago" ("in the future" when `then` > `now`, "never" for 0).
std::string format_ago(std::uint64_t now_ms, std::uint64_t then_ms);

// Serializes JSON without ever throwing (invalid UTF-8 is replaced).
std::string dump(const json& value, int indent = -1);

// The system clock in Unix ms.
std::uint64_t now_ms();

}  // namespace shopsync::inspect
