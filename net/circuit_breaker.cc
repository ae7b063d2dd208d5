#include "net/circuit_breaker.h"

#include <algorithm>

namespace artagent::net {

CircuitBreaker::CircuitBreaker(CircuitBreakerOptions options) : options_(options) {}

bool CircuitBreaker::Allow(core::TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kOpen:
      if (now - opened_at_ < options_.open_duration) return false;
      state_ = State::kHalfOpen;
      trial_in_flight_ = true;
      trial_started_ = now;
      return true;
    case State::kHalfOpen:
      if (trial_in_flight_ && now - trial_started_ < options_.open_duration) return false;
      trial_in_flight_ = true;
      trial_started_ = now;
      return true;
  }
  return false;
}

void CircuitBreaker::RecordSuccess() {
  std::lock_guard<std::mutex> lock(mu_);
  state_ = State::kClosed;
  failures_ = 0;
  trial_in_flight_ = false;
}

void CircuitBreaker::RecordFailure(core::TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  ++failures_;
  if (state_ == State::kHalfOpen || failures_ >= std::max(options_.failure_threshold, 1)) {
    state_ = State::kOpen;
    opened_at_ = now;
    trial_in_flight_ = false;
  }
}

CircuitBreaker::State CircuitBreaker::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

int CircuitBreaker::consecutive_failures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_;
}

std::string_view CircuitStateName(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half-open";
  }
  return "?";
}

}  // namespace artagent::net
