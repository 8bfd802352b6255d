#include "node/identity.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "net/zmq_socket.h"

namespace shopsync {

namespace {

namespace fs = std::filesystem;

Status errno_failure(const std::string& step) { return Status::io_error(step + ": " + std::strerror(errno)); }

// Writes `text` to `path` atomically with the given mode.
Status write_file_atomically(const fs::path& path, const std::string& text, mode_t mode) {
  const fs::path tmp = path.string() + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return errno_failure("creating " + tmp.string());
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = errno_failure("writing " + tmp.string());
      ::close(fd);
      return s;
    }
    off += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    Status s = errno_failure("syncing " + tmp.string());
    ::close(fd);
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return errno_failure("renaming " + tmp.string());
  // Make the rename itself durable.
  const int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return Status::ok();
}

Result<std::string> read_key_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return Status::io_error("cannot read " + path.string());
  std::string text;
  std::getline(in, text);
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (!zmq::is_z85_key(text)) return Status::corrupt(path.string() + " does not hold a Z85 CURVE key");
  return text;
}

// Whether `dir` may serve as a data directory: shopsync's own, or empty.
Status check_existing_data_dir(const fs::path& dir) {
  constexpr std::string_view kOurs[] = {"data.mdb", "curve.secret", "curve.public", "shopsyncd.lock"};
  std::error_code ec;
  for (std::string_view name : kOurs) {
    if (fs::exists(dir / name, ec)) return Status::ok();
  }
  std::string other;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name != "lost+found") {
      other = name;
      break;
    }
  }
  if (ec) return Status::io_error("reading data directory " + dir.string() + ": " + ec.message());
  if (other.empty()) return Status::ok();
  return Status::invalid("data directory " + dir.string() + " holds other files ('" + other +
                         "') and no shopsync data: give an empty or new directory");
}

}  // namespace

Status ensure_data_dir(const fs::path& data_dir) {
  std::error_code ec;
  if (fs::is_directory(data_dir, ec)) return check_existing_data_dir(data_dir);
  if (fs::exists(data_dir, ec)) return Status::invalid("data directory " + data_dir.string() + " is not a directory");
  fs::create_directories(data_dir, ec);
  if (ec) return Status::io_error("creating data directory " + data_dir.string() + ": " + ec.message());
  fs::permissions(data_dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  return Status::ok();
}

Result<NodeIdentity> load_or_create_identity(const fs::path& data_dir) {
  SHOPSYNC_TRY(ensure_data_dir(data_dir));
  const fs::path secret_path = data_dir / "curve.secret";
  const fs::path public_path = data_dir / "curve.public";
  NodeIdentity id;
  std::error_code ec;
  if (!fs::exists(secret_path, ec)) {
    auto pair = zmq::make_curve_key_pair();
    if (!pair) return pair.status();
    SHOPSYNC_TRY(write_file_atomically(secret_path, pair->secret_key + "\n", 0600));
    SHOPSYNC_TRY(write_file_atomically(public_path, pair->public_key + "\n", 0644));
    id.public_key = pair->public_key;
    id.secret_key = pair->secret_key;
    id.created = true;
    return id;
  }
  struct stat st{};
  if (::stat(secret_path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    // Tighten rather than refuse: the key is still ours.
    ::chmod(secret_path.c_str(), 0600);
  }
  auto secret = read_key_file(secret_path);
  if (!secret) return secret.status();
  auto derived = zmq::curve_public_key(*secret);
  if (!derived) return derived.status().context(secret_path.string());
  if (fs::exists(public_path, ec)) {
    auto stored = read_key_file(public_path);
    if (!stored) return stored.status();
    if (*stored != *derived) {
      return Status::corrupt(public_path.string() + " does not belong to " + secret_path.string());
    }
  } else {
    SHOPSYNC_TRY(write_file_atomically(public_path, *derived + "\n", 0644));
  }
  id.public_key = *derived;
  id.secret_key = *secret;
  return id;
}

}  // namespace shopsync
