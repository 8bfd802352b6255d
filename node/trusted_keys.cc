#include "node/trusted_keys.h"

#include <charconv>

#include <msgpack.hpp>

#include "net/zmq_socket.h"

namespace shopsync {

namespace {

std::string revoked_row(std::string_view key) { return "trust/revoked/" + std::string(key); }

}  // namespace

std::string encode_trusted_key_value(const TrustedKeyRow& row) {
  msgpack::sbuffer buf;
  msgpack::packer<msgpack::sbuffer> p(buf);
  p.pack_array(3);
  p.pack_uint32(1);
  p.pack_str(static_cast<std::uint32_t>(row.name.size()));
  p.pack_str_body(row.name.data(), static_cast<std::uint32_t>(row.name.size()));
  p.pack_uint64(row.added_ms);
  return std::string(buf.data(), buf.size());
}

TrustedKeyRow decode_trusted_key_row(std::string_view key, std::string_view value) {
  TrustedKeyRow row;
  row.key = std::string(key);
  try {
    std::size_t offset = 0;
    const msgpack::unpack_limit limit(16, 16, 4096, 4096, 0, 2);
    auto handle = msgpack::unpack(value.data(), value.size(), offset, nullptr, nullptr, limit);
    const auto& o = handle.get();
    if (offset == value.size() && o.type == msgpack::type::ARRAY && o.via.array.size >= 3 &&
        o.via.array.ptr[1].type == msgpack::type::STR && o.via.array.ptr[2].type == msgpack::type::POSITIVE_INTEGER) {
      row.name.assign(o.via.array.ptr[1].via.str.ptr, o.via.array.ptr[1].via.str.size);
      row.added_ms = o.via.array.ptr[2].via.u64;
    }
  } catch (const std::exception&) {
    // Presence grants trust; the note is only for people.
  }
  return row;
}

Status add_trusted_key(StoreWriter& writer, const TrustedKeyRow& row) {
  if (!zmq::is_z85_key(row.key)) return Status::invalid("'" + row.key + "' is not a CURVE public key (40 Z85 characters)");
  auto existing = writer.get(Table::trusted_keys, row.key);
  if (!existing) return existing.status();
  if (existing->has_value()) return Status::ok();
  return writer.put(Table::trusted_keys, row.key, encode_trusted_key_value(row));
}

Result<bool> remove_trusted_key(StoreWriter& writer, std::string_view key) {
  auto existing = writer.get(Table::trusted_keys, key);
  if (!existing) return existing.status();
  if (!existing->has_value()) return false;
  SHOPSYNC_TRY(writer.erase(Table::trusted_keys, key));
  return true;
}

Result<std::vector<TrustedKeyRow>> list_trusted_keys(StoreReader& reader) {
  std::vector<TrustedKeyRow> out;
  Status s = reader.for_each(Table::trusted_keys, [&](std::string_view key, std::string_view value) {
    out.push_back(decode_trusted_key_row(key, value));
    return Scan::next;
  });
  if (!s) return s;
  return out;
}

Result<bool> is_trusted_key(StoreReader& reader, std::string_view key) {
  auto existing = reader.get(Table::trusted_keys, key);
  if (!existing) return existing.status();
  return existing->has_value();
}

Result<bool> revoke_trusted_key(StoreWriter& writer, std::string_view key, std::uint64_t now_ms) {
  auto removed = remove_trusted_key(writer, key);
  if (!removed) return removed;
  if (zmq::is_z85_key(key)) SHOPSYNC_TRY(writer.put(Table::settings, revoked_row(key), std::to_string(now_ms)));
  return removed;
}

Status trust_key_again(StoreWriter& writer, const TrustedKeyRow& row) {
  SHOPSYNC_TRY(add_trusted_key(writer, row));
  auto revoked = writer.get(Table::settings, revoked_row(row.key));
  if (!revoked) return revoked.status();
  if (!revoked->has_value()) return Status::ok();
  return writer.erase(Table::settings, revoked_row(row.key));
}

Result<bool> is_revoked_key(StoreReader& reader, std::string_view key) {
  auto existing = reader.get(Table::settings, revoked_row(key));
  if (!existing) return existing.status();
  return existing->has_value();
}

Result<std::vector<RevokedKeyRow>> list_revoked_keys(StoreReader& reader) {
  constexpr std::string_view kPrefix = "trust/revoked/";
  std::vector<RevokedKeyRow> out;
  Status s = reader.for_each(Table::settings, [&](std::string_view key, std::string_view value) {
    if (key.starts_with(kPrefix)) {
      RevokedKeyRow row{std::string(key.substr(kPrefix.size())), 0};
      std::from_chars(value.data(), value.data() + value.size(), row.revoked_ms);  // unreadable: time unknown (0)
      out.push_back(std::move(row));
    }
    return Scan::next;
  });
  if (!s) return s;
  return out;
}

}  // namespace shopsync
