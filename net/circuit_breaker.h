#pragma once
// CircuitBreaker: stops calling an upstream that keeps failing, so that callers fail fast (and
// say something useful) instead of each waiting for its own timeout.
//
//   closed --(failure_threshold consecutive failures)--> open
//   open --(open_duration passed, next Allow)--> half-open: one trial call is let through
//   half-open --RecordSuccess--> closed;  half-open --RecordFailure--> open (cool-down restarts)
//
// Time is injected (core::TimePoint, e.g. Executor::Now()). Thread-safe: one breaker is shared by
// every caller of the same upstream. A half-open trial whose outcome is never recorded (the caller
// was cancelled) stops blocking others after another open_duration.

#include <mutex>
#include <string_view>

#include "core/executor.h"

namespace artagent::net {

struct CircuitBreakerOptions {
  int failure_threshold = 5;  // consecutive failures that open it (>= 1)
  core::Duration open_duration = std::chrono::seconds(30);  // cool-down before a trial call
};

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  explicit CircuitBreaker(CircuitBreakerOptions options = {});

  // True when a call may go out now. In half-open state exactly one caller gets true (the trial).
  bool Allow(core::TimePoint now);
  // The call reached the upstream and it answered properly: closes the breaker.
  void RecordSuccess();
  // The upstream failed (connection error, timeout, 5xx, ...).
  void RecordFailure(core::TimePoint now);

  State state() const;
  int consecutive_failures() const;
  const CircuitBreakerOptions& options() const { return options_; }

 private:
  const CircuitBreakerOptions options_;
  mutable std::mutex mu_;
  State state_ = State::kClosed;
  int failures_ = 0;
  core::TimePoint opened_at_{};
  bool trial_in_flight_ = false;
  core::TimePoint trial_started_{};
};

std::string_view CircuitStateName(CircuitBreaker::State state);

}  // namespace artagent::net
