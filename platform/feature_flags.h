#pragma once
// Feature flags as Azure App Configuration stores them (protocols.md §6.3): the key
// ".appconfig.featureflag/{Name}" holds a JSON string
//
//   {"id":"CallRecording","enabled":true,
//    "conditions":{"requirement_type":"Any","client_filters":[
//      {"name":"Microsoft.Percentage","parameters":{"Value":50}},
//      {"name":"Microsoft.TimeWindow","parameters":{"Start":"Mon, 01 Jan 2024 00:00:00 GMT",
//                                                   "End":"Tue, 31 Dec 2024 00:00:00 GMT"}}]}}
//
// enabled:false is off; enabled:true without filters is on; otherwise the filters decide, combined
// by requirement_type (Any, the default, or All). Filters understood:
//   * Microsoft.Percentage {Value: 0..100}: this instance is in or out, by a stable hash of the
//     flag name and the instance id (every instance of a fleet decides once, not per request);
//   * Microsoft.TimeWindow {Start, End} (RFC 1123 dates, either may be absent): on inside it;
//   * Microsoft.Targeting {Audience: {DefaultRolloutPercentage}}: there is no per-user context
//     for process-wide settings, so the default rollout percentage applies, as Percentage does.
// Any other filter turns the flag off: FeatureDecision::unknown_filter names it so that the caller
// can say so (once) in the log.
//
// A flag maps onto the configuration key features.<snake_case name>: "CallRecording",
// "Call Recording", "call-recording" -> features.call_recording.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace artagent::platform {

inline constexpr std::string_view kFeatureFlagPrefix = ".appconfig.featureflag/";
inline constexpr std::string_view kFeatureFlagContentType =
    "application/vnd.microsoft.appconfig.ff+json";

struct FeatureFilter {
  std::string name;  // "Microsoft.Percentage", ...
  nlohmann::json parameters = nlohmann::json::object();
};

struct FeatureFlag {
  std::string id;
  bool enabled = false;
  bool require_all = false;  // requirement_type "All"
  std::vector<FeatureFilter> filters;
};

// Parses the flag's value (the JSON text stored in the key-value). kInvalidArgument naming what
// is malformed.
core::Result<FeatureFlag> ParseFeatureFlag(std::string_view value);

struct FeatureContext {
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  // Who is deciding, for percentage rollouts: this instance (host name, or a test's fixed id).
  std::string instance_id;
};

struct FeatureDecision {
  bool on = false;
  // Non-empty when the flag is off because a filter is not understood (its name).
  std::string unknown_filter;
};

FeatureDecision EvaluateFeatureFlag(const FeatureFlag& flag, const FeatureContext& context);

// "CallRecording" / "Call Recording" / "call-recording" -> "features.call_recording".
std::string FeatureConfigKey(std::string_view flag_name);

}  // namespace artagent::platform
