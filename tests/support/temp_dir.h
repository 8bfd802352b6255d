// A fresh directory under $TMPDIR (or /tmp), removed with everything in it when
// the TempDir goes away. Tests put their LMDB stores and node data dirs here.
#pragma once

#include <filesystem>
#include <string>

namespace shopsync::test {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "shopsync-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& child) const { return path_ / child; }

 private:
  std::filesystem::path path_;
};

// The seed a randomized test uses: $SHOPSYNC_SEED when set, otherwise one drawn
// now. Logged through Boost.Test so a failure can be replayed.
unsigned long long test_seed();

}  // namespace shopsync::test
