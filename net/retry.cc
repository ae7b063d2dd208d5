#include "net/retry.h"
#include "core/strings.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <string>

namespace artagent::net {
namespace {

// Non-negative decimal number ("12", "1.5"); nullopt otherwise.
std::optional<double> ParseDecimal(std::string_view s) {
  s = core::TrimWhitespace(s);
  if (s.empty() || s.size() > 32) return std::nullopt;
  bool seen_dot = false;
  bool seen_digit = false;
  for (char c : s) {
    if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      seen_digit = true;
    } else {
      return std::nullopt;
    }
  }
  if (!seen_digit) return std::nullopt;
  return std::stod(std::string(s));
}

core::Duration FromSeconds(double seconds) {
  // Clamp absurd hints to a day so that the conversion cannot overflow.
  seconds = std::min(seconds, 86400.0);
  return std::chrono::duration_cast<core::Duration>(std::chrono::duration<double>(seconds));
}

// Parses an HTTP-date in any of the three forms of RFC 9110 §5.6.7 as UTC.
std::optional<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view value) {
  const std::string text(core::TrimWhitespace(value));
  static const char* const kFormats[] = {
      "%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate
      "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850
      "%a %b %e %H:%M:%S %Y",       // asctime
  };
  for (const char* format : kFormats) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), format, &tm);
    if (end == nullptr || *end != '\0') continue;
    const time_t t = timegm(&tm);
    if (t == static_cast<time_t>(-1)) continue;
    return std::chrono::system_clock::from_time_t(t);
  }
  return std::nullopt;
}

}  // namespace

core::Duration BackoffDelay(const BackoffPolicy& policy, int attempt, std::mt19937_64& rng) {
  const double initial = static_cast<double>(std::max<int64_t>(policy.initial.count(), 0));
  const double max = static_cast<double>(std::max<int64_t>(policy.max.count(), 0));
  const double multiplier = std::max(policy.multiplier, 1.0);
  double base = initial * std::pow(multiplier, std::max(attempt, 0));
  if (!std::isfinite(base) || base > max) base = max;
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double delay = base * (1.0 - jitter * unit(rng));
  return core::Duration(static_cast<int64_t>(std::clamp(delay, 0.0, max)));
}

std::optional<core::Duration> ParseRetryAfter(std::string_view value,
                                              std::chrono::system_clock::time_point now) {
  if (auto seconds = ParseDecimal(value)) return FromSeconds(*seconds);
  auto date = ParseHttpDate(value);
  if (!date) return std::nullopt;
  if (*date <= now) return core::Duration::zero();
  return std::chrono::duration_cast<core::Duration>(
      std::min<std::chrono::system_clock::duration>(*date - now, std::chrono::hours(24)));
}

std::optional<core::Duration> ParseRetryAfterMs(std::string_view value) {
  auto ms = ParseDecimal(value);
  if (!ms) return std::nullopt;
  return FromSeconds(*ms / 1000.0);
}

std::optional<core::Duration> RetryAfterFromHeaders(const Headers& headers,
                                                    std::chrono::system_clock::time_point now) {
  if (std::string ms = FindHeader(headers, "retry-after-ms"); !ms.empty()) {
    if (auto d = ParseRetryAfterMs(ms)) return d;
  }
  if (std::string ra = FindHeader(headers, "retry-after"); !ra.empty()) {
    return ParseRetryAfter(ra, now);
  }
  return std::nullopt;
}

bool IsRetryableStatus(int status) {
  switch (status) {
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
    default:
      return false;
  }
}

}  // namespace artagent::net
