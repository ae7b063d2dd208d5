#pragma once
// Status and Result<T>: the error currency of artagent. No exceptions cross module boundaries on
// the media path; functions that can fail return one of these. A Status is cheap when OK (one
// pointer-sized code and an empty string).

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace artagent::core {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // the caller sent something wrong; do not retry as is
  kNotFound,           // the thing asked for does not exist
  kAlreadyExists,      // it exists and cannot be created again
  kFailedPrecondition, // the system is not in a state where this can be done
  kUnavailable,        // a dependency is down or busy: retryable with back-off
  kDeadlineExceeded,   // it took too long
  kResourceExhausted,  // a limit or quota was hit (queue full, capacity reached, message too big)
  kCancelled,          // someone cancelled it (barge-in, shutdown)
  kUnauthenticated,    // missing or wrong credentials
  kPermissionDenied,   // credentials fine, not allowed
  kInternal,           // a bug or an invariant broken
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: message" or "OK".
  std::string ToString() const;

  // Prefixes the message with context ("loading agents/x.yaml: ...").
  Status WithContext(std::string_view context) const;

  bool operator==(const Status& other) const = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status FailedPreconditionError(std::string message);
Status UnavailableError(std::string message);
Status DeadlineExceededError(std::string message);
Status ResourceExhaustedError(std::string message);
Status CancelledError(std::string message);
Status UnauthenticatedError(std::string message);
Status PermissionDeniedError(std::string message);
Status InternalError(std::string message);

// Result<T> holds a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(data_).ok() && "Result constructed from an OK Status");
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(data_);
  }
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace artagent::core

// Returns early from the enclosing function if `expr` (a Status) is not OK.
#define ARTAGENT_RETURN_IF_ERROR(expr)             \
  do {                                             \
    ::artagent::core::Status _st = (expr);         \
    if (!_st.ok()) return _st;                     \
  } while (0)

#define ARTAGENT_CONCAT_INNER(a, b) a##b
#define ARTAGENT_CONCAT(a, b) ARTAGENT_CONCAT_INNER(a, b)
// ARTAGENT_ASSIGN_OR_RETURN(auto x, MakeX()); returns the Status if MakeX() failed.
#define ARTAGENT_ASSIGN_OR_RETURN(lhs, rexpr) \
  ARTAGENT_ASSIGN_OR_RETURN_IMPL(ARTAGENT_CONCAT(_result_, __LINE__), lhs, rexpr)
#define ARTAGENT_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                   \
  if (!tmp.ok()) return tmp.status();                   \
  lhs = std::move(tmp).value()
