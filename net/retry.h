#pragma once
// Retry helpers for calls to other services: exponential back-off with jitter, the server's
// Retry-After hints, and which HTTP statuses are worth retrying. Whether an operation may be
// retried at all (idempotency, output already delivered) is the caller's decision.

#include <chrono>
#include <optional>
#include <random>
#include <string_view>

#include "core/executor.h"
#include "net/http_client.h"

namespace artagent::net {

struct BackoffPolicy {
  core::Duration initial = std::chrono::milliseconds(250);  // delay before the first retry
  core::Duration max = std::chrono::seconds(10);            // cap on any delay
  double multiplier = 2.0;                                  // growth per attempt (>= 1)
  // Fraction of the delay drawn at random, in [0, 1]: the delay is uniform in
  // [base * (1 - jitter), base]. 0 = no jitter, 1 = "full jitter".
  double jitter = 0.2;
};

// The delay before retry number `attempt` (0 = the first retry): min(max, initial *
// multiplier^attempt), jittered with `rng` (seed it in tests). Never negative, never above max.
core::Duration BackoffDelay(const BackoffPolicy& policy, int attempt, std::mt19937_64& rng);

// Parses a Retry-After header value: delta-seconds ("120", fractions accepted: "1.5") or an
// HTTP-date (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", and the obsolete RFC 850 and asctime
// forms), relative to `now`. A date in the past gives 0. nullopt when the value is not valid.
std::optional<core::Duration> ParseRetryAfter(std::string_view value,
                                              std::chrono::system_clock::time_point now);

// Parses Azure's "retry-after-ms" header value (non-negative milliseconds, fractions accepted).
std::optional<core::Duration> ParseRetryAfterMs(std::string_view value);

// The server's hint from response headers: "retry-after-ms" when present and valid, else
// "Retry-After". nullopt when neither gives one.
std::optional<core::Duration> RetryAfterFromHeaders(const Headers& headers,
                                                    std::chrono::system_clock::time_point now);

// 408, 429, 500, 502, 503, 504.
bool IsRetryableStatus(int status);

}  // namespace artagent::net
