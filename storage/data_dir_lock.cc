#include "storage/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace shopsync {

namespace {

// What the lock file says of its owner: its pid, then (once it listens) its
// local API endpoint, a line each. Only for messages and tools; the lock
// itself is what counts, so a failed write is not fatal.
void note_owner(int fd, const std::string& text) {
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) < 0) {
    // Not fatal: a second daemon's message, or a tool's search, is poorer.
  }
}

}  // namespace

Result<DataDirLock> DataDirLock::acquire(const std::filesystem::path& data_dir) {
  const std::string path = (data_dir / "shopsyncd.lock").string();
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::io_error("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char owner[32] = {};
    const ssize_t n = ::pread(fd, owner, sizeof owner - 1, 0);
    ::close(fd);
    if (err != EWOULDBLOCK) return Status::io_error("cannot lock " + path + ": " + std::strerror(err));
    std::string pid = n > 0 ? std::string(owner, static_cast<std::size_t>(n)) : "";
    pid = pid.substr(0, pid.find('\n'));  // the first line; the API endpoint may follow
    if (pid.empty()) pid = "unknown";
    return Status::refused("data directory " + data_dir.string() + " is in use by another shopsyncd (pid " + pid +
                           "); stop it first or give another --data");
  }
  note_owner(fd, std::to_string(::getpid()) + "\n");
  return DataDirLock(fd);
}

void DataDirLock::announce_api(std::string_view api_endpoint) {
  if (api_endpoint.empty() || fd_ < 0) return;
  note_owner(fd_, std::to_string(::getpid()) + "\n" + std::string(api_endpoint) + "\n");
}

std::optional<std::string> DataDirLock::announced_api(const std::filesystem::path& data_dir) {
  const std::string path = (data_dir / "shopsyncd.lock").string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char text[512] = {};
  const ssize_t n = ::pread(fd, text, sizeof text - 1, 0);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  const std::string_view content(text, static_cast<std::size_t>(n));
  const auto first = content.find('\n');
  if (first == std::string_view::npos) return std::nullopt;
  auto api = content.substr(first + 1);
  api = api.substr(0, api.find('\n'));
  if (api.empty()) return std::nullopt;
  return std::string(api);
}

DataDirLock& DataDirLock::operator=(DataDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace shopsync
