// shopsync-bench: one program, one subcommand per file (storage_bench.cc,
// later sync and soak). Each file registers its subcommand with
// SHOPSYNC_BENCH_SUBCOMMAND; main.cc only dispatches. Benchmarks print figures;
// nothing here asserts a timing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace shopsync::bench {

// A subcommand gets its own arguments (without the program and subcommand
// names) and returns the process exit code: 0 done, 1 failed (the message names
// the step), 2 bad usage.
using SubcommandMain = int (*)(const std::vector<std::string>& args);

struct Subcommand {
  std::string_view name;
  std::string_view summary;  // one line for the usage text
  SubcommandMain run;
};

// Every registered subcommand, sorted by name.
const std::vector<Subcommand>& subcommands();

// Used through SHOPSYNC_BENCH_SUBCOMMAND at namespace scope of a .cc file.
struct Registration {
  explicit Registration(Subcommand s);
};

// The median of `values` (REQUIRES: not empty).
double median(std::vector<double> values);

// The shopsyncd of this build tree (next to this program: ../../node/shopsyncd),
// the default of every --shopsyncd option.
std::string built_shopsyncd();

}  // namespace shopsync::bench

#define SHOPSYNC_BENCH_SUBCOMMAND(ident, name, summary, fn) \
  static const ::shopsync::bench::Registration ident##_registration({name, summary, fn})
