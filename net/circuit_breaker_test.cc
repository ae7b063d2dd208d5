#include "net/circuit_breaker.h"

#include <gtest/gtest.h>

namespace artagent::net {
namespace {

using State = CircuitBreaker::State;
using std::chrono::seconds;

TEST(CircuitBreakerTest, OpensAfterConsecutiveFailuresOnly) {
  CircuitBreaker breaker({3, seconds(10)});
  core::TimePoint t{};
  EXPECT_TRUE(breaker.Allow(t));
  breaker.RecordFailure(t);
  breaker.RecordFailure(t);
  breaker.RecordSuccess();  // resets the count
  breaker.RecordFailure(t);
  breaker.RecordFailure(t);
  EXPECT_EQ(breaker.state(), State::kClosed);
  EXPECT_TRUE(breaker.Allow(t));
  breaker.RecordFailure(t);
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_FALSE(breaker.Allow(t + seconds(9)));
}

TEST(CircuitBreakerTest, HalfOpenLetsOneTrialThroughThenClosesOnSuccess) {
  CircuitBreaker breaker({1, seconds(10)});
  core::TimePoint t{};
  breaker.RecordFailure(t);
  ASSERT_EQ(breaker.state(), State::kOpen);
  EXPECT_TRUE(breaker.Allow(t + seconds(10)));
  EXPECT_EQ(breaker.state(), State::kHalfOpen);
  EXPECT_FALSE(breaker.Allow(t + seconds(10)));  // one trial at a time
  breaker.RecordSuccess();
  EXPECT_EQ(breaker.state(), State::kClosed);
  EXPECT_TRUE(breaker.Allow(t + seconds(11)));
  EXPECT_TRUE(breaker.Allow(t + seconds(11)));
}

TEST(CircuitBreakerTest, FailedTrialReopensForAnotherCoolDown) {
  CircuitBreaker breaker({2, seconds(10)});
  core::TimePoint t{};
  breaker.RecordFailure(t);
  breaker.RecordFailure(t);
  ASSERT_TRUE(breaker.Allow(t + seconds(10)));
  breaker.RecordFailure(t + seconds(10));
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_FALSE(breaker.Allow(t + seconds(19)));
  EXPECT_TRUE(breaker.Allow(t + seconds(20)));
  EXPECT_EQ(breaker.state(), State::kHalfOpen);
}

TEST(CircuitBreakerTest, AbandonedTrialStopsBlockingAfterAnotherCoolDown) {
  CircuitBreaker breaker({1, seconds(10)});
  core::TimePoint t{};
  breaker.RecordFailure(t);
  ASSERT_TRUE(breaker.Allow(t + seconds(10)));  // the trial's outcome is never recorded
  EXPECT_FALSE(breaker.Allow(t + seconds(15)));
  EXPECT_TRUE(breaker.Allow(t + seconds(20)));
}

TEST(CircuitBreakerTest, StateNames) {
  EXPECT_EQ(CircuitStateName(State::kClosed), "closed");
  EXPECT_EQ(CircuitStateName(State::kOpen), "open");
  EXPECT_EQ(CircuitStateName(State::kHalfOpen), "half-open");
}

}  // namespace
}  // namespace artagent::net
