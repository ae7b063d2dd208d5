#include "platform/feature_flags.h"

#include <cctype>
#include <cstdint>

#include "platform/identity.h"

namespace artagent::platform {
namespace {

// FNV-1a: a stable hash (std::hash may differ between builds), so that an instance stays in or
// out of a rollout across restarts.
uint64_t StableHash(std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// The percentage parameter as a number; strings ("50") are accepted as older portals wrote them.
bool PercentageOf(const nlohmann::json& value, double* out) {
  if (value.is_number()) {
    *out = value.get<double>();
    return true;
  }
  if (value.is_string()) {
    try {
      size_t used = 0;
      const std::string text = value.get<std::string>();
      *out = std::stod(text, &used);
      return used == text.size();
    } catch (const std::exception&) {
      return false;
    }
  }
  return false;
}

// Is this instance inside a rollout of `percent` for flag `id`?
bool InRollout(double percent, const std::string& id, const std::string& instance_id) {
  if (percent >= 100) return true;
  if (percent <= 0) return false;
  const double bucket =
      static_cast<double>(StableHash(id + "\n" + instance_id) % 10000) / 100.0;  // [0, 100)
  return bucket < percent;
}

const nlohmann::json* Param(const nlohmann::json& parameters, std::string_view name) {
  if (!parameters.is_object()) return nullptr;
  for (const auto& [key, value] : parameters.items()) {
    if (key.size() == name.size() &&
        std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return &value;
    }
  }
  return nullptr;
}

// nullopt: the filter is not understood (or its parameters are malformed).
std::optional<bool> EvaluateFilter(const FeatureFilter& filter, const std::string& id,
                                   const FeatureContext& context) {
  if (filter.name == "Microsoft.Percentage" || filter.name == "Percentage") {
    double percent = 0;
    const nlohmann::json* value = Param(filter.parameters, "Value");
    if (value == nullptr || !PercentageOf(*value, &percent)) return std::nullopt;
    return InRollout(percent, id, context.instance_id);
  }
  if (filter.name == "Microsoft.TimeWindow" || filter.name == "TimeWindow") {
    const nlohmann::json* start = Param(filter.parameters, "Start");
    const nlohmann::json* end = Param(filter.parameters, "End");
    if (start == nullptr && end == nullptr) return std::nullopt;
    for (const nlohmann::json* bound : {start, end}) {
      if (bound != nullptr && (!bound->is_string() || !ParseExpiresOn(bound->get<std::string>()))) {
        return std::nullopt;
      }
    }
    if (start != nullptr && context.now < *ParseExpiresOn(start->get<std::string>())) return false;
    if (end != nullptr && context.now >= *ParseExpiresOn(end->get<std::string>())) return false;
    return true;
  }
  if (filter.name == "Microsoft.Targeting" || filter.name == "Targeting") {
    const nlohmann::json* audience = Param(filter.parameters, "Audience");
    if (audience == nullptr) return std::nullopt;
    double percent = 0;
    const nlohmann::json* rollout = Param(*audience, "DefaultRolloutPercentage");
    if (rollout != nullptr && !PercentageOf(*rollout, &percent)) return std::nullopt;
    return InRollout(percent, id, context.instance_id);
  }
  return std::nullopt;
}

}  // namespace

core::Result<FeatureFlag> ParseFeatureFlag(std::string_view value) {
  nlohmann::json doc = nlohmann::json::parse(value, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return core::InvalidArgumentError("the feature flag's value is not a JSON object");
  }
  FeatureFlag flag;
  if (auto it = doc.find("id"); it != doc.end() && it->is_string())
    flag.id = it->get<std::string>();
  auto enabled = doc.find("enabled");
  if (enabled == doc.end()) return core::InvalidArgumentError("the feature flag has no 'enabled'");
  if (enabled->is_boolean()) {
    flag.enabled = enabled->get<bool>();
  } else if (enabled->is_string() && (*enabled == "true" || *enabled == "false" ||
                                      *enabled == "True" || *enabled == "False")) {
    flag.enabled = *enabled == "true" || *enabled == "True";
  } else {
    return core::InvalidArgumentError("the feature flag's 'enabled' is not true or false");
  }
  auto conditions = doc.find("conditions");
  if (conditions == doc.end() || conditions->is_null()) return flag;
  if (!conditions->is_object()) {
    return core::InvalidArgumentError("the feature flag's 'conditions' is not an object");
  }
  if (auto rt = conditions->find("requirement_type"); rt != conditions->end() && rt->is_string()) {
    const std::string type = rt->get<std::string>();
    if (type == "All") {
      flag.require_all = true;
    } else if (type != "Any") {
      return core::InvalidArgumentError("the feature flag's requirement_type '" + type +
                                        "' is neither Any nor All");
    }
  }
  auto filters = conditions->find("client_filters");
  if (filters == conditions->end() || filters->is_null()) return flag;
  if (!filters->is_array()) {
    return core::InvalidArgumentError("the feature flag's 'client_filters' is not a list");
  }
  for (const auto& f : *filters) {
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string()) {
      return core::InvalidArgumentError("a client filter of the feature flag has no name");
    }
    FeatureFilter filter;
    filter.name = f["name"].get<std::string>();
    if (auto p = f.find("parameters"); p != f.end() && p->is_object()) filter.parameters = *p;
    flag.filters.push_back(std::move(filter));
  }
  return flag;
}

FeatureDecision EvaluateFeatureFlag(const FeatureFlag& flag, const FeatureContext& context) {
  FeatureDecision decision;
  if (!flag.enabled) return decision;
  if (flag.filters.empty()) {
    decision.on = true;
    return decision;
  }
  bool any = false;
  bool all = true;
  for (const FeatureFilter& filter : flag.filters) {
    std::optional<bool> result = EvaluateFilter(filter, flag.id, context);
    if (!result) {
      // Not knowing one filter makes the whole decision unknowable: off, and say which.
      decision.unknown_filter = filter.name;
      return decision;
    }
    any = any || *result;
    all = all && *result;
  }
  decision.on = flag.require_all ? all : any;
  return decision;
}

std::string FeatureConfigKey(std::string_view flag_name) {
  // Words start at a separator, at a capital after a lower-case letter or digit ("CallRecording"),
  // and at the last capital of an acronym followed by lower case ("DTMFValidation").
  constexpr std::string_view kPrefix = "features.";
  std::string out(kPrefix);
  bool pending_separator = false;
  for (size_t i = 0; i < flag_name.size(); ++i) {
    const auto u = static_cast<unsigned char>(flag_name[i]);
    if (!std::isalnum(u)) {
      pending_separator = true;  // ' ', '-', '_', '.', ':' all separate words
      continue;
    }
    if (out.size() > kPrefix.size() && std::isupper(u)) {
      const auto prev = static_cast<unsigned char>(flag_name[i - 1]);
      const bool next_lower =
          i + 1 < flag_name.size() && std::islower(static_cast<unsigned char>(flag_name[i + 1]));
      if (std::islower(prev) || std::isdigit(prev) || (std::isupper(prev) && next_lower)) {
        pending_separator = true;
      }
    }
    if (pending_separator && out.size() > kPrefix.size()) out += '_';
    pending_separator = false;
    out += static_cast<char>(std::tolower(u));
  }
  return out;
}

}  // namespace artagent::platform
