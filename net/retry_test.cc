#include "net/retry.h"

#include <gtest/gtest.h>

namespace artagent::net {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(BackoffTest, GrowsExponentiallyUpToTheCapWithoutJitter) {
  BackoffPolicy policy{milliseconds(100), milliseconds(1000), 2.0, 0.0};
  std::mt19937_64 rng(1);
  EXPECT_EQ(BackoffDelay(policy, 0, rng), milliseconds(100));
  EXPECT_EQ(BackoffDelay(policy, 1, rng), milliseconds(200));
  EXPECT_EQ(BackoffDelay(policy, 3, rng), milliseconds(800));
  EXPECT_EQ(BackoffDelay(policy, 4, rng), milliseconds(1000));
  EXPECT_EQ(BackoffDelay(policy, 500, rng), milliseconds(1000));
}

TEST(BackoffTest, JitterStaysInRangeVariesAndIsReproducibleFromTheSeed) {
  BackoffPolicy policy{milliseconds(1000), seconds(10), 2.0, 0.5};
  std::mt19937_64 a(42);
  std::mt19937_64 b(42);
  bool varied = false;
  core::Duration first = BackoffDelay(policy, 0, a);
  EXPECT_EQ(first, BackoffDelay(policy, 0, b));
  for (int i = 0; i < 50; ++i) {
    core::Duration d = BackoffDelay(policy, 0, a);
    EXPECT_EQ(d, BackoffDelay(policy, 0, b));
    EXPECT_GE(d, milliseconds(500));
    EXPECT_LE(d, milliseconds(1000));
    if (d != first) varied = true;
  }
  EXPECT_TRUE(varied);
}

TEST(RetryAfterTest, DeltaSeconds) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(ParseRetryAfter("120", now), seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), seconds(0));
  EXPECT_EQ(ParseRetryAfter("1.5", now), milliseconds(1500));
  EXPECT_FALSE(ParseRetryAfter("-3", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("soon", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("", now).has_value());
}

TEST(RetryAfterTest, HttpDateInAllThreeForms) {
  // Sun, 06 Nov 1994 08:49:37 GMT
  const auto date = std::chrono::system_clock::from_time_t(784111777);
  const auto now = date - seconds(30);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now), seconds(30));
  EXPECT_EQ(ParseRetryAfter("Sunday, 06-Nov-94 08:49:37 GMT", now), seconds(30));
  EXPECT_EQ(ParseRetryAfter("Sun Nov  6 08:49:37 1994", now), seconds(30));
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", date + seconds(5)), seconds(0));
  EXPECT_FALSE(ParseRetryAfter("Sun, 06 Nov 1994 08:49 GMT", now).has_value());
}

TEST(RetryAfterTest, AzureMillisecondsHeaderWinsOverRetryAfter) {
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(ParseRetryAfterMs("250"), milliseconds(250));
  EXPECT_FALSE(ParseRetryAfterMs("x").has_value());
  Headers both = {{"Retry-After", "3"}, {"retry-after-ms", "250"}};
  EXPECT_EQ(RetryAfterFromHeaders(both, now), milliseconds(250));
  Headers seconds_only = {{"retry-after", "3"}};
  EXPECT_EQ(RetryAfterFromHeaders(seconds_only, now), seconds(3));
  Headers bad_ms = {{"Retry-After-Ms", "nope"}, {"Retry-After", "2"}};
  EXPECT_EQ(RetryAfterFromHeaders(bad_ms, now), seconds(2));
  EXPECT_FALSE(RetryAfterFromHeaders({}, now).has_value());
}

TEST(RetryableStatusTest, OnlyTransientStatuses) {
  for (int s : {408, 429, 500, 502, 503, 504}) EXPECT_TRUE(IsRetryableStatus(s)) << s;
  for (int s : {200, 400, 401, 403, 404, 409, 413, 501}) EXPECT_FALSE(IsRetryableStatus(s)) << s;
}

}  // namespace
}  // namespace artagent::net
