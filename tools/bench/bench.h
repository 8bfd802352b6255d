// shopsync-bench: one program, one subcommand per file (storage_bench.cc,
// later sync and soak). Each file registers its subcommand with
// SHOPSYNC_BENCH_SUBCOMMAND; main.cc only dispatches. Benchmarks print figures;
// nothing here asserts a timing.
#pragma once

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shopsync::bench {

// A subcommand gets its own arguments (without the program and subcommand
// names) and returns the process exit code: 0 done, 1 failed (the message names
// the step), kBadUsage for arguments it refuses. main.cc answers --help and
// prints the usage after kBadUsage, so a subcommand only parses.
using SubcommandMain = int (*)(const std::vector<std::string>& args);
inline constexpr int kBadUsage = 2;

struct Subcommand {
  std::string_view name;
  std::string_view summary;  // one line for the list of subcommands
  std::string_view usage;    // its synopsis and options
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

// Runs `run_once(i)` for i = 1..runs, printing each run's figures with
// `print` as it ends. nullopt (after a line on stderr naming `bench`) when a
// run fails (its `ok` is false).
template <class RunOnce, class Print>
auto repeat_runs(const char* bench, std::size_t runs, RunOnce run_once, Print print)
    -> std::optional<std::vector<decltype(run_once(std::size_t{1}))>> {
  std::vector<decltype(run_once(std::size_t{1}))> results;
  for (std::size_t i = 1; i <= runs; ++i) {
    auto r = run_once(i);
    if (!r.ok) {
      std::fprintf(stderr, "%s: run %zu failed\n", bench, i);
      return std::nullopt;
    }
    std::printf("run %zu:\n", i);
    print(r);
    std::fflush(stdout);
    results.push_back(std::move(r));
  }
  return results;
}

// The median over `runs` of one figure of each.
template <class Run, class Figure>
double median_of(const std::vector<Run>& runs, Figure figure) {
  std::vector<double> v;
  for (const auto& r : runs) v.push_back(static_cast<double>(figure(r)));
  return median(v);
}
// The p-quantile (0..1) of `values`, nearest rank (REQUIRES: not empty).
double percentile(std::vector<double> values, double p);

// A new directory $TMPDIR/shopsync-bench-<what>-XXXXXX (/tmp without TMPDIR),
// or nullopt with the reason printed.
std::optional<std::filesystem::path> make_temp_dir(std::string_view what);

// The value of the option at args[i] ("--runs 3"), moving i onto it; none
// when the option is the last word.
std::optional<std::string> option_value(const std::vector<std::string>& args, std::size_t& i);

// The shopsyncd of this build tree (next to this program: ../../node/shopsyncd),
// the default of every --shopsyncd option.
std::string built_shopsyncd();

}  // namespace shopsync::bench

#define SHOPSYNC_BENCH_SUBCOMMAND(ident, name, summary, usage, fn) \
  static const ::shopsync::bench::Registration ident##_registration({name, summary, usage, fn})
