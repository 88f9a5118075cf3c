// Status and Result<T>: braid's one error vocabulary.
//
// Every I/O, parse and client-input failure is reported as a Status (never an
// exception across a module boundary). Both types are [[nodiscard]]: a caller
// must look at the outcome. Wire-protocol error codes (Kafka, HTTP) are mapped
// from Status in one function per protocol.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace braid {

enum class StatusCode : uint8_t {
  kOk = 0,
  kInvalidArgument,     // bad input from a caller or a client
  kNotFound,            // a named thing does not exist
  kAlreadyExists,       // a named thing exists already
  kCorruption,          // stored or received bytes are not well formed
  kIOError,             // the operating system reported an error
  kOutOfRange,          // an offset/position outside the valid range
  kResourceExhausted,   // disk full, memory or size limit reached
  kUnimplemented,       // a feature not (yet) supported
  kFailedPrecondition,  // the system is not in a state that allows the call
  kUnavailable,         // retry later (starting up, shutting down)
  kTimedOut,            // a deadline passed
  kAborted,             // the operation was cancelled or superseded
  kInternal,            // a broken invariant (a bug)
};

std::string_view StatusCodeName(StatusCode code);

// A finer reason inside one StatusCode, for the few cases a wire protocol
// answers differently (Kafka: MESSAGE_TOO_LARGE vs KAFKA_STORAGE_ERROR, both
// ResourceExhausted). Callers test it instead of matching message text.
enum class StatusSubcode : uint8_t {
  kNone = 0,
  kTooLarge,  // ResourceExhausted: a record, batch or request above a size limit
  kNoSpace,   // ResourceExhausted: the file system is full (ENOSPC, EDQUOT)
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message, StatusSubcode subcode = StatusSubcode::kNone);

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string m) {
    return {StatusCode::kInvalidArgument, std::move(m)};
  }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
  static Status ResourceExhausted(std::string m, StatusSubcode subcode = StatusSubcode::kNone) {
    return {StatusCode::kResourceExhausted, std::move(m), subcode};
  }
  // ResourceExhausted with subcode kTooLarge.
  static Status TooLarge(std::string m) {
    return ResourceExhausted(std::move(m), StatusSubcode::kTooLarge);
  }
  static Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status TimedOut(std::string m) { return {StatusCode::kTimedOut, std::move(m)}; }
  static Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  // Builds an IOError (or ResourceExhausted/kNoSpace for ENOSPC/EDQUOT,
  // NotFound for ENOENT, AlreadyExists for EEXIST) from errno.
  static Status FromErrno(int err, std::string_view context);

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  StatusSubcode subcode() const { return rep_ ? rep_->subcode : StatusSubcode::kNone; }
  // The message without the code name; empty for OK.
  std::string_view message() const {
    return rep_ ? std::string_view(rep_->message) : std::string_view();
  }
  // "Corruption: message" or "OK".
  std::string ToString() const;
  // Returns a copy whose message is "context: message" (OK stays OK).
  Status WithContext(std::string_view context) const;

  bool IsNotFound() const { return code() == StatusCode::kNotFound; }
  bool IsCorruption() const { return code() == StatusCode::kCorruption; }
  bool IsInvalidArgument() const { return code() == StatusCode::kInvalidArgument; }
  bool IsTooLarge() const { return subcode() == StatusSubcode::kTooLarge; }
  bool IsNoSpace() const { return subcode() == StatusSubcode::kNoSpace; }

  // Explicitly ignores a status (documents intent at the call site).
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.subcode() == b.subcode() && a.message() == b.message();
  }

 private:
  struct Rep {
    StatusCode code;
    StatusSubcode subcode;
    std::string message;
  };
  std::shared_ptr<const Rep> rep_;  // null means OK; copies are cheap
};

// Result<T>: either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) v_ = Status::Internal("Result constructed from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const& {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  Status status() && { return ok() ? Status::OK() : std::get<Status>(std::move(v_)); }

  // Precondition: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

namespace internal {
inline Status AsStatus(Status s) { return s; }
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

}  // namespace braid

#define BRAID_CONCAT_INNER(a, b) a##b
#define BRAID_CONCAT(a, b) BRAID_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define RETURN_IF_ERROR(expr)                                        \
  do {                                                               \
    ::braid::Status _braid_st = ::braid::internal::AsStatus((expr)); \
    if (!_braid_st.ok()) return _braid_st;                           \
  } while (0)

// ASSIGN_OR_RETURN(auto x, Foo()); evaluates Foo() (a Result<T>), returns its
// status if not OK, else moves the value into the declaration `lhs`.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(BRAID_CONCAT(_braid_res_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)    \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return std::move(tmp).status(); \
  lhs = std::move(tmp).value()
