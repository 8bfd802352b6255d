#include "tests/support/temp_dir.h"

#include <cstdlib>
#include <random>
#include <stdexcept>
#include <system_error>

#include <boost/test/unit_test.hpp>

namespace shopsync::test {

TempDir::TempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error("cannot create a temporary directory from " + pattern);
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

unsigned long long test_seed() {
  unsigned long long seed = 0;
  if (const char* env = std::getenv("SHOPSYNC_SEED"); env && *env) {
    seed = std::strtoull(env, nullptr, 0);
  } else {
    seed = (static_cast<unsigned long long>(std::random_device{}()) << 32) ^ std::random_device{}();
  }
  BOOST_TEST_MESSAGE("seed " << seed << " (replay with SHOPSYNC_SEED=" << seed << ")");
  return seed;
}

}  // namespace shopsync::test
