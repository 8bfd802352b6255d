#include "tools/inspect/data_dir.h"

#include <unistd.h>

#include <fstream>
#include <system_error>

namespace shopsync::inspect {

Result<std::unique_ptr<DataDir>> DataDir::open(const std::filesystem::path& dir) {
  std::error_code ec;
  const auto st = std::filesystem::status(dir, ec);
  if (ec || !std::filesystem::exists(st)) {
    return Status::not_found("no data directory at " + dir.string());
  }
  if (!std::filesystem::is_directory(st)) {
    return Status::not_found(dir.string() + " is not a directory (give a node's data directory)");
  }
  if (::access(dir.c_str(), R_OK | X_OK) != 0) {
    return Status::not_found("cannot read the data directory " + dir.string() + " (permissions?)");
  }
  // LMDB would create nothing in read-only mode, but its error for a missing
  // file is vague: say what is missing.
  if (!std::filesystem::exists(dir / "data.mdb", ec)) {
    return Status(Errc::not_shopsync, dir.string() + " holds no shopsync store (no data.mdb): not a node's data directory, "
                                      "or a node that never started");
  }
  StoreOptions options;
  options.read_only = true;
  auto store = LmdbStore::open(dir, options);
  if (!store) {
    Status s = store.status();
    // A store created but not initialised yet reads as not_found from the
    // storage layer; to an operator it is not (yet) a shopsync store.
    if (s.code() == Errc::not_found) s = Status(Errc::not_shopsync, s.message());
    return s.context("opening the store read-only");
  }
  std::optional<std::string> key;
  std::ifstream in(dir / "curve.public");
  if (std::string line; in && std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) key = line;
  }
  return std::unique_ptr<DataDir>(new DataDir(dir, std::move(*store), std::move(key)));
}

}  // namespace shopsync::inspect
