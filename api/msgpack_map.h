// Small MessagePack helpers for the API codec: a writer whose maps are counted
// as entries are added, and a reader that splits a map with string keys into
// key -> value bytes so that an operation can be decoded whatever the key order.
//
// Internal to api/ (api_codec.cc); callers outside use api_codec.h.
// Reading is bounds-checked and allocation-bounded by storage's MsgpackReader;
// nothing here throws.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace shopsync::api::mp {

// Appends MessagePack to a std::string.
class Out {
 public:
  explicit Out(std::string& buf) : buf_(&buf) {}
  void nil();
  void boolean(bool v);
  void uint(std::uint64_t v);
  void sint(std::int64_t v);
  void str(std::string_view v);
  void raw(std::string_view packed) { buf_->append(packed); }  // one already-encoded value
  void array(std::size_t count);
  void map(std::size_t count);

 private:
  std::string* buf_;
};

// A map built entry by entry; its header is written when it is finished.
class MapOut {
 public:
  MapOut() = default;
  MapOut(const MapOut&) = delete;  // out_ points into body_
  MapOut& operator=(const MapOut&) = delete;

  // Writes the key and returns the writer for its value (write exactly one).
  Out& key(std::string_view name) {
    ++count_;
    out_.str(name);
    return out_;
  }
  void str(std::string_view name, std::string_view v) { key(name).str(v); }
  void uint(std::string_view name, std::uint64_t v) { key(name).uint(v); }
  void boolean(std::string_view name, bool v) { key(name).boolean(v); }
  // Writes the map into `parent` (as its next value).
  void finish(Out& parent) const {
    parent.map(count_);
    parent.raw(body_);
  }
  std::string finish() const {
    std::string s;
    Out o(s);
    finish(o);
    return s;
  }

 private:
  std::string body_;
  Out out_{body_};
  std::size_t count_ = 0;
};

// A decoded map: each key with the exact bytes of its value. Getters return
// false and record an error naming the key when a value has the wrong type or
// a required key is absent; an absent optional key leaves `out` unchanged.
class MapIn {
 public:
  // `bytes` must be exactly one map with distinct string keys, nested at most
  // `max_depth` levels. The bytes must outlive the MapIn.
  bool parse(std::string_view bytes, int max_depth, std::string_view what);

  bool has(std::string_view key) const { return entries_.count(key) != 0; }
  const std::map<std::string_view, std::string_view, std::less<>>& entries() const { return entries_; }

  bool str(std::string_view key, std::string& out, bool required = false);
  bool uint(std::string_view key, std::uint64_t& out, bool required = false);
  bool u32(std::string_view key, std::uint32_t& out, bool required = false);
  bool sint(std::string_view key, std::int64_t& out, bool required = false);
  bool boolean(std::string_view key, bool& out, bool required = false);
  bool map(std::string_view key, MapIn& out, bool required = false);
  // The exact bytes of each element of an array.
  bool array(std::string_view key, std::vector<std::string_view>& out, bool required = false);
  bool raw(std::string_view key, std::string_view& out, bool required = false);

  bool fail(std::string message);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const std::string& what() const { return what_; }

 private:
  bool lookup(std::string_view key, bool required, std::string_view& value);
  bool wrong_type(std::string_view key, std::string_view expected);

  std::map<std::string_view, std::string_view, std::less<>> entries_;
  std::string what_;   // "request", "field 'result'", used in messages
  std::string error_;
  int depth_ = 0;
};

// Decoders of single values given their exact bytes.
bool decode_str(std::string_view bytes, std::string& out);
bool decode_uint(std::string_view bytes, std::uint64_t& out);
bool decode_sint(std::string_view bytes, std::int64_t& out);
bool decode_bool(std::string_view bytes, bool& out);
// Splits an array into its elements' exact bytes.
bool decode_array(std::string_view bytes, int max_depth, std::vector<std::string_view>& out);

}  // namespace shopsync::api::mp
