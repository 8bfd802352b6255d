// A node's CURVE identity, kept in its data directory.
//
// On first start a key pair is created with libzmq (libsodium underneath):
//   DATA/curve.secret  the secret key, Z85, mode 0600, never leaves the machine
//   DATA/curve.public  the public key, Z85, what operators give to other nodes
// Both are written to a temporary file, fsynced and renamed, so a crash never
// leaves half a key. Later starts read them back; a secret key file that does
// not decode, or a public file that does not belong to it, is an error (the
// operator must look: the node's identity is what its peers trust).
#pragma once

#include <filesystem>
#include <string>

#include "core/status.h"

namespace shopsync {

struct NodeIdentity {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters
  bool created = false;    // true when this call made the key pair
};

// Creates the data directory (mode 0700) when it does not exist. An existing
// one must be empty (but for lost+found) or already hold shopsync's files:
// `--data /etc` is refused before anything is written there.
Status ensure_data_dir(const std::filesystem::path& data_dir);

Result<NodeIdentity> load_or_create_identity(const std::filesystem::path& data_dir);

}  // namespace shopsync
