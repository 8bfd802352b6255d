#include "api/api_credential.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

namespace shopsync::api {

namespace {

constexpr std::size_t kSecretBytes = 32;
constexpr std::string_view kPrefix = "sak_";

bool well_formed(std::string_view s) {
  return s.size() == kPrefix.size() + 2 * kSecretBytes && s.starts_with(kPrefix) &&
         s.find_first_not_of("0123456789abcdef", kPrefix.size()) == std::string_view::npos;
}

Result<std::string> make_secret() {
  std::array<unsigned char, kSecretBytes> random{};
  std::ifstream urandom("/dev/urandom", std::ios::binary);
  if (!urandom.read(reinterpret_cast<char*>(random.data()), random.size())) {
    return Status::io_error("reading /dev/urandom for the local API's credential");
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(kPrefix);
  for (unsigned char b : random) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

}  // namespace

std::optional<std::string> read_api_credential(const std::filesystem::path& data_dir) {
  std::ifstream in(data_dir / kApiCredentialFile);
  std::string line;
  if (!in || !std::getline(in, line) || !well_formed(line)) return std::nullopt;
  return line;
}

Result<std::string> ensure_api_credential(const std::filesystem::path& data_dir) {
  const std::filesystem::path path = data_dir / kApiCredentialFile;
  if (auto existing = read_api_credential(data_dir)) return *existing;
  auto secret = make_secret();
  if (!secret) return secret;
  // Written beside and renamed into place, so a reader never sees half of it.
  const std::filesystem::path partial = data_dir / (std::string(kApiCredentialFile) + ".new");
  const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return Status::io_error("creating " + partial.string() + ": " + std::strerror(errno));
  ::fchmod(fd, 0640);  // whatever the umask
  const std::string text = *secret + "\n";
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(partial.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(partial.c_str());
    return Status::io_error("writing " + path.string() + ": " + why);
  }
  return secret;
}

bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace shopsync::api
