// The command line of shopsync-inspect (docs/inspector.md):
//
//   shopsync-inspect [DATA_DIR | --api ADDR] VIEW [ARGS] [--json] [--watch] [options]
//
// VIEW is one of summary, peers, record COLLECTION ID, conflicts,
// diff DIR_A DIR_B (or diff with two --api, or one DATA_DIR and one --api).
// Pure parsing: nothing is opened here. Errors are invalid_argument naming
// the flag or argument at fault (exit code 2).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace shopsync::inspect {

enum class View { summary, peers, record, conflicts, diff };
std::string_view to_string(View view);

struct Options {
  View view = View::summary;
  std::vector<std::string> data_dirs;  // positional directories (diff: up to two)
  std::vector<std::string> apis;       // --api ADDR (repeatable for diff)
  std::string collection;              // record
  std::string id;                      // record
  bool json = false;                   // --json
  bool watch = false;                  // --watch
  bool progress = true;                // --no-progress turns the stderr progress bar off
  std::optional<std::string> config_file;        // --config FILE: the node's shopsyncd config (strategies, role, name)
  std::map<std::string, std::string> strategies; // --strategy COLLECTION=STRATEGY (repeatable)
  std::uint64_t retention_ms = 7ull * 24 * 3600 * 1000;  // --retention DURATION (e.g. 7d, 36h)
  std::uint32_t limit = 100;           // --limit N: rows listed per section (conflicts, diff)
  std::uint32_t interval_ms = 1000;    // --interval-ms: --watch refresh period
  std::uint32_t timeout_ms = 5000;     // --timeout-ms: how long --api waits for an answer
  bool show_help = false;
};

std::string usage_text();

// argv[0] is skipped.
Result<Options> parse_options(int argc, const char* const* argv);

// "7d", "36h", "90m", "45s", "500ms", or a bare number of milliseconds.
Result<std::uint64_t> parse_duration(std::string_view text);

}  // namespace shopsync::inspect
