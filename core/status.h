// The project's one error vocabulary.
//
// A Status is the outcome of an operation that can fail for reasons the caller
// must handle (bad input, a full disk, a corrupt value). It is cheap on success
// (no allocation) and carries a human-readable message naming what failed
// otherwise. Library error codes (LMDB, ZeroMQ, errno) never leak past the one
// file that wraps the library: they are translated into an Errc here.
//
// Result<T> holds either a T or a failed Status.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace shopsync {

enum class Errc {
  ok = 0,
  not_found,         // the thing asked for does not exist
  invalid_argument,  // the caller's input breaks a documented rule
  too_large,         // a size limit was exceeded
  corrupt,           // stored or received bytes do not decode
  newer_schema,      // written by a newer shopsync; refused rather than misread
  not_shopsync,      // a file or database that is not shopsync's
  disk_full,         // the file system has no room left
  io_error,          // any other failure of the operating system or a library
  protocol,          // a peer broke the wire protocol
  refused,           // a peer or client is not allowed (other cluster, untrusted key)
  unavailable,       // a peer or service cannot be reached right now
};

std::string_view to_string(Errc code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  static Status not_found(std::string m) { return {Errc::not_found, std::move(m)}; }
  static Status invalid(std::string m) { return {Errc::invalid_argument, std::move(m)}; }
  static Status too_large(std::string m) { return {Errc::too_large, std::move(m)}; }
  static Status corrupt(std::string m) { return {Errc::corrupt, std::move(m)}; }
  static Status io_error(std::string m) { return {Errc::io_error, std::move(m)}; }
  static Status protocol(std::string m) { return {Errc::protocol, std::move(m)}; }
  static Status refused(std::string m) { return {Errc::refused, std::move(m)}; }

  bool is_ok() const { return code_ == Errc::ok; }
  explicit operator bool() const { return is_ok(); }
  Errc code() const { return code_; }
  const std::string& message() const { return message_; }

  // "<code>: <message>", for logs and error replies.
  std::string to_string() const;

  // Prefixes the message with the step that failed: "opening records: ...".
  Status context(std::string_view step) const;

 private:
  Errc code_ = Errc::ok;
  std::string message_;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                   // NOLINT: implicit by design
  Result(Status failure) : v_(std::move(failure)) { assert(!std::get<Status>(v_).is_ok()); }  // NOLINT

  bool is_ok() const { return v_.index() == 0; }
  explicit operator bool() const { return is_ok(); }

  // REQUIRES: is_ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // The failure, or ok when a value is held.
  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace shopsync

// Returns the status from the enclosing function when it is not ok.
#define SHOPSYNC_TRY(expr)                        \
  do {                                            \
    if (::shopsync::Status s_ = (expr); !s_) {    \
      return s_;                                  \
    }                                             \
  } while (false)
