// A shopsyncd child process of a benchmark: started with its output appended
// to a log file, stopped (SIGTERM, then SIGKILL after 15 s) by stop() or the
// destructor. Only the process it started is signalled, by pid.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace shopsync::bench {

class Daemon {
 public:
  Daemon(const std::string& exe, const std::vector<std::string>& args, const std::filesystem::path& log);
  ~Daemon() { stop(); }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  pid_t pid() const { return pid_; }
  void stop();

 private:
  pid_t pid_ = -1;
};

}  // namespace shopsync::bench
