// A node's data directory opened for inspection: its store read-only (safe
// while shopsyncd writes: LMDB readers never block the writer) and the few
// files beside it the inspector shows (the public key).
//
// open() checks the steps an operator gets wrong, in order, and names the one
// that failed:
//   not_found      the directory does not exist / is not a directory / unreadable
//   not_shopsync   no LMDB store in it, an LMDB environment that is not
//                  shopsync's, or a store never initialised
//   newer_schema   written by a newer shopsync
// Thread-safety: one thread at a time. LMDB allows one open per directory per
// process: open each directory once.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "storage/lmdb_store.h"

namespace shopsync::inspect {

class DataDir {
 public:
  static Result<std::unique_ptr<DataDir>> open(const std::filesystem::path& dir);

  LmdbStore& store() { return *store_; }
  const std::filesystem::path& path() const { return path_; }
  // The node's CURVE public key (DATA/curve.public), when present.
  const std::optional<std::string>& public_key() const { return public_key_; }

 private:
  DataDir(std::filesystem::path path, std::unique_ptr<LmdbStore> store, std::optional<std::string> key)
      : path_(std::move(path)), store_(std::move(store)), public_key_(std::move(key)) {}

  std::filesystem::path path_;
  std::unique_ptr<LmdbStore> store_;
  std::optional<std::string> public_key_;
};

}  // namespace shopsync::inspect
