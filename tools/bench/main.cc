// shopsync-bench SUBCOMMAND [options]: dispatches to the subcommands that the
// files of tools/bench/ register (see bench.h).
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "tools/bench/bench.h"

namespace shopsync::bench {

namespace {
std::vector<Subcommand>& registry() {
  static std::vector<Subcommand> all;  // built during static initialisation
  return all;
}
}  // namespace

Registration::Registration(Subcommand s) {
  auto& all = registry();
  all.push_back(s);
  std::sort(all.begin(), all.end(), [](const Subcommand& a, const Subcommand& b) { return a.name < b.name; });
}

const std::vector<Subcommand>& subcommands() { return registry(); }

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto last = static_cast<double>(values.size() - 1);
  return values[std::min(values.size() - 1, static_cast<std::size_t>(p * last + 0.5))];
}

std::optional<std::filesystem::path> make_temp_dir(std::string_view what) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/shopsync-bench-" + std::string(what) + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::fprintf(stderr, "%.*s: cannot create a directory %s: %s\n", static_cast<int>(what.size()), what.data(),
                 pattern.c_str(), std::strerror(errno));
    return std::nullopt;
  }
  return std::filesystem::path(pattern);
}

std::optional<std::string> option_value(const std::vector<std::string>& args, std::size_t& i) {
  if (i + 1 >= args.size()) return std::nullopt;
  return args[++i];
}

std::string built_shopsyncd() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (self.parent_path() / "../../node/shopsyncd").lexically_normal().string();
}

}  // namespace shopsync::bench

namespace {

void usage(std::FILE* out) {
  std::fprintf(out, "usage: shopsync-bench SUBCOMMAND [options]   (SUBCOMMAND --help for its options)\n\nsubcommands:\n");
  for (const auto& s : shopsync::bench::subcommands()) {
    std::fprintf(out, "  %-10.*s %.*s\n", static_cast<int>(s.name.size()), s.name.data(),
                 static_cast<int>(s.summary.size()), s.summary.data());
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  if (!words.empty() && words.front() == "--") words.erase(words.begin());
  if (words.empty()) {
    usage(stderr);
    return 2;
  }
  const std::string name = words.front();
  if (name == "--version") {
    std::printf("shopsync-bench %s\n", PROJECT_VERSION_TEXT);
    return 0;
  }
  if (name == "--help" || name == "-h" || name == "help") {
    usage(stdout);
    return 0;
  }
  // "--" ends the options; no subcommand takes operands after it.
  std::vector<std::string> args(words.begin() + 1, words.end());
  if (auto end = std::find(args.begin(), args.end(), "--"); end != args.end()) {
    if (end + 1 != args.end()) {
      std::fprintf(stderr, "shopsync-bench %s: unexpected '%s' (it takes options only)\n", name.c_str(), (end + 1)->c_str());
      return 2;
    }
    args.erase(end);
  }
  for (const auto& s : shopsync::bench::subcommands()) {
    if (s.name != name) continue;
    if (std::find_if(args.begin(), args.end(), [](const auto& a) { return a == "--help" || a == "-h"; }) != args.end()) {
      std::fwrite(s.usage.data(), 1, s.usage.size(), stdout);
      return 0;
    }
    const int code = s.run(args);
    if (code == shopsync::bench::kBadUsage) std::fwrite(s.usage.data(), 1, s.usage.size(), stderr);
    return code;
  }
  std::fprintf(stderr, "shopsync-bench: unknown subcommand '%s'\n", name.c_str());
  usage(stderr);
  return 2;
}
