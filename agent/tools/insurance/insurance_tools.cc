#include "agent/tools/insurance/insurance_tools.h"

#include <fmt/format.h>

#include <cctype>
#include <map>
#include <mutex>
#include <sstream>
#include <utility>

#include "core/log.h"

namespace artagent::agent {
namespace {

using core::Result;
using core::Status;
using nlohmann::json;

constexpr int kMaxFailedVerifications = 5;
constexpr size_t kMaxTextLength = 2000;

// ---- Argument readers: every error names the field. ----

Status ArgError(const std::string& field, const std::string& what) {
  return core::InvalidArgumentError(fmt::format("{} {}", field, what));
}

Status RequireObject(const json& args) {
  if (!args.is_object()) return core::InvalidArgumentError("arguments must be a JSON object");
  return core::OkStatus();
}

bool Has(const json& args, const char* field) {
  auto it = args.find(field);
  return it != args.end() && !it->is_null() && !(it->is_string() && it->get<std::string>().empty());
}

std::string Trim(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

Result<std::string> TextArg(const json& args, const char* field) {
  auto it = args.find(field);
  if (it == args.end() || it->is_null()) return ArgError(field, "is required");
  if (!it->is_string()) return ArgError(field, "must be a string");
  std::string text = Trim(it->get<std::string>());
  if (text.empty()) return ArgError(field, "must not be empty");
  if (text.size() > kMaxTextLength) {
    return ArgError(field, fmt::format("is too long (at most {} characters)", kMaxTextLength));
  }
  return text;
}

// Digits as spoken or typed: "4021 3587", "4021-3587" or the JSON number 40213587.
Result<std::string> DigitsArg(const json& args, const char* field, size_t length) {
  auto it = args.find(field);
  if (it == args.end() || it->is_null()) return ArgError(field, "is required");
  std::string raw;
  if (it->is_number_unsigned() || it->is_number_integer()) {
    if (it->is_number_integer() && it->get<int64_t>() < 0) {
      return ArgError(field, fmt::format("must be {} digits", length));
    }
    raw = fmt::format("{:0{}}", it->get<uint64_t>(), length);
  } else if (it->is_string()) {
    raw = it->get<std::string>();
  } else {
    return ArgError(field, fmt::format("must be a string of {} digits", length));
  }
  std::string digits;
  for (char c : raw) {
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (c != ' ' && c != '-' && c != '.') {
      return ArgError(field, fmt::format("must be {} digits", length));
    }
  }
  if (digits.empty()) return ArgError(field, "is required");
  if (digits.size() != length) {
    return ArgError(field, fmt::format("must be {} digits (got {})", length, digits.size()));
  }
  return digits;
}

Result<std::string> DateArg(const json& args, const char* field, const char* example) {
  auto it = args.find(field);
  if (it == args.end() || it->is_null()) return ArgError(field, "is required");
  std::string text = it->is_string() ? Trim(it->get<std::string>()) : "";
  if (!IsIsoDate(text)) {
    return ArgError(field, fmt::format("must be a date written YYYY-MM-DD, e.g. {}", example));
  }
  return text;
}

// true/false, or the caller's words for them.
Result<bool> BoolArg(const json& args, const char* field) {
  auto it = args.find(field);
  if (it == args.end() || it->is_null()) return ArgError(field, "is required (true or false)");
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) {
    std::string word = Trim(it->get<std::string>());
    for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (word == "yes" || word == "true" || word == "y") return true;
    if (word == "no" || word == "false" || word == "n") return false;
  }
  return ArgError(field, "must be true or false");
}

// "O'Brien " -> "o brien": case, punctuation and spacing do not count.
std::vector<std::string> NameWords(const std::string& name) {
  std::vector<std::string> words;
  std::string word;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || u >= 0x80) {
      word.push_back(static_cast<char>(std::tolower(u)));
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

// The whole name, or first and last name with a middle name in between.
bool NamesMatch(const std::string& said, const Customer& customer) {
  std::vector<std::string> given = NameWords(said);
  std::vector<std::string> first = NameWords(customer.first_name);
  std::vector<std::string> last = NameWords(customer.last_name);
  std::vector<std::string> full = first;
  full.insert(full.end(), last.begin(), last.end());
  if (given == full) return true;
  if (given.size() <= full.size() || first.empty() || last.empty()) return false;
  return std::equal(first.begin(), first.end(), given.begin()) &&
         std::equal(last.rbegin(), last.rend(), given.rbegin());
}

// ---- Output helpers ----

std::string Money(int64_t cents) {
  std::string whole = std::to_string(cents / 100);
  std::string grouped;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(whole[i]);
  }
  if (cents % 100 == 0) return "$" + grouped;
  return fmt::format("${}.{:02}", grouped, cents % 100);
}

// "collision, comprehensive and liability"
std::string JoinWords(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " and " : ", ";
    out += words[i];
  }
  return out;
}

bool HasCoverage(const Policy& policy, const std::string& name) {
  for (const auto& c : policy.coverages) {
    if (c.name == name) return true;
  }
  return false;
}

json PolicyJson(const Policy& p, const std::optional<Customer>& holder,
                const std::vector<Claim>& claims) {
  json coverages = json::array();
  std::vector<std::string> names;
  for (const auto& c : p.coverages) {
    coverages.push_back(
        {{"name", c.name}, {"limit", c.limit}, {"limit_text", Money(c.limit * 100)}});
    names.push_back(c.name);
  }
  json out = {
      {"found", true},
      {"policy_number", p.policy_number},
      {"type", p.type},
      {"status", p.status},
      {"holder_name", holder ? holder->FullName() : ""},
      {"coverages", std::move(coverages)},
      {"coverage_summary", JoinWords(names)},
      {"deductible", p.deductible},
      {"deductible_text", Money(p.deductible * 100)},
      {"annual_premium", static_cast<double>(p.annual_premium_cents) / 100.0},
      {"annual_premium_text", Money(p.annual_premium_cents)},
      {"effective_date", p.effective_date},
      {"renewal_date", p.renewal_date},
  };
  if (p.vehicle) {
    out["vehicle"] = {{"year", p.vehicle->year},
                      {"make", p.vehicle->make},
                      {"model", p.vehicle->model},
                      {"description", fmt::format("{} {} {}", p.vehicle->year, p.vehicle->make,
                                                  p.vehicle->model)}};
  } else {
    out["property_address"] = p.property_address;
  }
  json claim_list = json::array();
  for (const auto& c : claims) {
    claim_list.push_back({{"claim_number", c.claim_number},
                          {"status", c.status},
                          {"incident_date", c.incident_date}});
  }
  out["claims"] = std::move(claim_list);
  return out;
}

std::string NextSteps(const Policy& policy, const Claim& claim) {
  std::vector<std::string> steps;
  steps.push_back(
      fmt::format("Your adjuster, {}, will call you within one business day.", claim.adjuster));
  if (claim.injuries) {
    steps.push_back("Because someone was hurt, our injury team will also contact you.");
  }
  if (claim.vehicle_drivable && !*claim.vehicle_drivable) {
    steps.push_back(HasCoverage(policy, "roadside assistance")
                        ? "Roadside assistance is part of your policy, so we can arrange a tow."
                        : "We can help you arrange a tow to a repair shop.");
    if (HasCoverage(policy, "rental car")) {
      steps.push_back("Your rental car coverage pays for a car while yours is repaired.");
    }
  }
  steps.push_back("Please keep photos and receipts of the damage.");
  std::string out;
  for (const auto& s : steps) out += (out.empty() ? "" : " ") + s;
  return out;
}

// ---- The tools ----

ToolSpec VerifyCallerSpec() {
  ToolSpec spec;
  spec.name = "verify_caller";
  spec.description =
      "Verify the caller's identity before discussing or changing a policy. Give the policy "
      "number with either the caller's full name and date of birth, or the 4-digit PIN. Returns "
      "verified true with the customer's name, or verified false; never tell the caller which "
      "detail was wrong.";
  spec.parameters = {
      {"type", "object"},
      {"properties",
       {{"policy_number", {{"type", "string"}, {"description", "The 8-digit policy number."}}},
        {"full_name", {{"type", "string"}, {"description", "The caller's first and last name."}}},
        {"date_of_birth",
         {{"type", "string"},
          {"description", "The caller's date of birth, YYYY-MM-DD."},
          {"pattern", "^\\d{4}-\\d{2}-\\d{2}$"}}},
        {"pin", {{"type", "string"}, {"description", "The caller's 4-digit account PIN."}}}}},
      {"required", {"policy_number"}},
  };
  return spec;
}

class CallerVerifier {
 public:
  explicit CallerVerifier(std::shared_ptr<InsuranceData> data) : data_(std::move(data)) {}

  Result<json> operator()(const json& args, const ToolContext& context) {
    ARTAGENT_RETURN_IF_ERROR(RequireObject(args));
    ARTAGENT_ASSIGN_OR_RETURN(std::string policy_number, DigitsArg(args, "policy_number", 8));
    bool by_pin = Has(args, "pin");
    bool by_name = Has(args, "full_name") || Has(args, "date_of_birth");
    if (!by_pin && !by_name) {
      return core::InvalidArgumentError(
          "give either pin, or full_name and date_of_birth, with policy_number");
    }
    std::string pin, full_name, date_of_birth;
    if (by_pin) {
      ARTAGENT_ASSIGN_OR_RETURN(pin, DigitsArg(args, "pin", 4));
    } else {
      ARTAGENT_ASSIGN_OR_RETURN(full_name, TextArg(args, "full_name"));
      ARTAGENT_ASSIGN_OR_RETURN(date_of_birth, DateArg(args, "date_of_birth", "1985-03-14"));
    }
    if (Failures(context.session_id) >= kMaxFailedVerifications) {
      return json{{"verified", false}, {"reason", "too many failed attempts"}, {"locked", true}};
    }

    ARTAGENT_ASSIGN_OR_RETURN(std::optional<Policy> policy, data_->FindPolicy(policy_number));
    std::optional<Customer> customer;
    if (policy) {
      ARTAGENT_ASSIGN_OR_RETURN(customer, data_->FindCustomer(policy->customer_id));
    }
    bool match = customer.has_value() && (by_pin ? customer->pin == pin
                                                 : NamesMatch(full_name, *customer) &&
                                                       customer->date_of_birth == date_of_birth);
    if (!match) {
      int failures = RecordFailure(context.session_id);
      core::LogInfo("insurance", "verification failed for policy {} ({} of {} attempts)",
                    policy_number, failures, kMaxFailedVerifications);
      json out = {{"verified", false}, {"reason", "details did not match"}};
      if (failures >= kMaxFailedVerifications) {
        out["reason"] = "too many failed attempts";
        out["locked"] = true;
      }
      return out;
    }
    return json{{"verified", true},
                {"customer_id", customer->id},
                {"caller_name", customer->FullName()},
                {"first_name", customer->first_name},
                {"policy_number", policy->policy_number},
                {"policy_type", policy->type},
                {"policy_status", policy->status}};
  }

 private:
  int Failures(const std::string& session) {
    std::lock_guard lock(mu_);
    auto it = failures_.find(session);
    return it == failures_.end() ? 0 : it->second;
  }
  int RecordFailure(const std::string& session) {
    std::lock_guard lock(mu_);
    // Bounded: a flood of sessions forgets old counts rather than growing without limit.
    if (failures_.size() >= 10000 && failures_.count(session) == 0) failures_.clear();
    return ++failures_[session];
  }

  std::shared_ptr<InsuranceData> data_;
  std::mutex mu_;
  std::map<std::string, int> failures_;  // by session id
};

ToolSpec GetPolicySpec() {
  ToolSpec spec;
  spec.name = "get_policy";
  spec.description =
      "Look up a policy by number: type (auto or home), status (active, lapsed or cancelled), "
      "holder name, coverages with their limits, deductible, annual premium, the insured vehicle "
      "or property address, effective and renewal dates, and its claims. Only use it after the "
      "caller has been verified.";
  spec.parameters = {
      {"type", "object"},
      {"properties",
       {{"policy_number", {{"type", "string"}, {"description", "The 8-digit policy number."}}}}},
      {"required", {"policy_number"}},
  };
  return spec;
}

Result<json> GetPolicy(InsuranceData& data, const json& args) {
  ARTAGENT_RETURN_IF_ERROR(RequireObject(args));
  ARTAGENT_ASSIGN_OR_RETURN(std::string number, DigitsArg(args, "policy_number", 8));
  ARTAGENT_ASSIGN_OR_RETURN(std::optional<Policy> policy, data.FindPolicy(number));
  if (!policy) return json{{"found", false}, {"policy_number", number}};
  ARTAGENT_ASSIGN_OR_RETURN(std::optional<Customer> holder, data.FindCustomer(policy->customer_id));
  ARTAGENT_ASSIGN_OR_RETURN(std::vector<Claim> claims, data.ClaimsForPolicy(number));
  return PolicyJson(*policy, holder, claims);
}

ToolSpec CreateClaimSpec() {
  ToolSpec spec;
  spec.name = "create_claim";
  spec.description =
      "File a new claim (first notice of loss) on an active policy once the caller is verified "
      "and has described what happened. Returns the new 8-digit claim number, the assigned "
      "adjuster and next steps to read to the caller. Fails if the policy is unknown or not "
      "active.";
  spec.parameters = {
      {"type", "object"},
      {"properties",
       {{"policy_number", {{"type", "string"}, {"description", "The 8-digit policy number."}}},
        {"incident_date",
         {{"type", "string"},
          {"description", "When it happened, YYYY-MM-DD; not in the future."},
          {"pattern", "^\\d{4}-\\d{2}-\\d{2}$"}}},
        {"location",
         {{"type", "string"}, {"description", "Where it happened: street and city, or address."}}},
        {"description",
         {{"type", "string"}, {"description", "What happened and what was damaged."}}},
        {"injuries", {{"type", "boolean"}, {"description", "Was anyone hurt?"}}},
        {"vehicle_drivable",
         {{"type", "boolean"},
          {"description", "Can the vehicle still be driven? Required for auto policies."}}},
        {"caller_name",
         {{"type", "string"}, {"description", "Who is reporting the claim, if not the holder."}}}}},
      {"required", {"policy_number", "incident_date", "location", "description", "injuries"}},
  };
  return spec;
}

Result<json> CreateClaim(InsuranceData& data, const json& args, const ToolContext& context) {
  ARTAGENT_RETURN_IF_ERROR(RequireObject(args));
  NewClaim claim;
  ARTAGENT_ASSIGN_OR_RETURN(claim.policy_number, DigitsArg(args, "policy_number", 8));
  ARTAGENT_ASSIGN_OR_RETURN(claim.incident_date, DateArg(args, "incident_date", "2026-10-03"));
  if (std::string today = data.Today(); claim.incident_date > today) {
    return ArgError("incident_date",
                    fmt::format("{} is in the future (today is {})", claim.incident_date, today));
  }
  ARTAGENT_ASSIGN_OR_RETURN(claim.location, TextArg(args, "location"));
  ARTAGENT_ASSIGN_OR_RETURN(claim.description, TextArg(args, "description"));
  ARTAGENT_ASSIGN_OR_RETURN(claim.injuries, BoolArg(args, "injuries"));
  if (Has(args, "vehicle_drivable")) {
    ARTAGENT_ASSIGN_OR_RETURN(claim.vehicle_drivable, BoolArg(args, "vehicle_drivable"));
  }
  if (Has(args, "caller_name")) {
    ARTAGENT_ASSIGN_OR_RETURN(claim.caller_name, TextArg(args, "caller_name"));
  } else if (context.slots.is_object() && context.slots.contains("caller_name") &&
             context.slots["caller_name"].is_string()) {
    claim.caller_name = context.slots["caller_name"].get<std::string>();
  }
  claim.session_id = context.session_id;

  ARTAGENT_ASSIGN_OR_RETURN(std::optional<Policy> policy, data.FindPolicy(claim.policy_number));
  if (policy && policy->type == "auto" && !claim.vehicle_drivable) {
    return ArgError("vehicle_drivable", "is required for an auto policy (true or false)");
  }
  ARTAGENT_ASSIGN_OR_RETURN(Claim filed, data.CreateClaim(claim));
  core::LogInfo("insurance", "claim {} filed on policy {}", filed.claim_number,
                filed.policy_number);
  return json{{"claim_number", filed.claim_number},   {"status", filed.status},
              {"policy_number", filed.policy_number}, {"incident_date", filed.incident_date},
              {"adjuster", filed.adjuster},           {"next_steps", NextSteps(*policy, filed)}};
}

ToolSpec GetClaimStatusSpec() {
  ToolSpec spec;
  spec.name = "get_claim_status";
  spec.description =
      "Look up an existing claim by its 8-digit claim number: status (open, in review, approved, "
      "closed or denied), incident date, description, adjuster and the date of the last update.";
  spec.parameters = {
      {"type", "object"},
      {"properties",
       {{"claim_number", {{"type", "string"}, {"description", "The 8-digit claim number."}}}}},
      {"required", {"claim_number"}},
  };
  return spec;
}

Result<json> GetClaimStatus(InsuranceData& data, const json& args) {
  ARTAGENT_RETURN_IF_ERROR(RequireObject(args));
  ARTAGENT_ASSIGN_OR_RETURN(std::string number, DigitsArg(args, "claim_number", 8));
  ARTAGENT_ASSIGN_OR_RETURN(std::optional<Claim> claim, data.FindClaim(number));
  if (!claim) return json{{"found", false}, {"claim_number", number}};
  return json{{"found", true},
              {"claim_number", claim->claim_number},
              {"status", claim->status},
              {"policy_number", claim->policy_number},
              {"incident_date", claim->incident_date},
              {"description", claim->description},
              {"adjuster", claim->adjuster},
              {"filed_date", claim->filed_date},
              {"last_update", claim->updated_date}};
}

}  // namespace

std::vector<std::unique_ptr<Tool>> MakeInsuranceTools(std::shared_ptr<InsuranceData> data,
                                                      core::ComputePool* pool) {
  std::vector<std::unique_ptr<Tool>> tools;
  auto verifier = std::make_shared<CallerVerifier>(data);
  tools.push_back(MakeFunctionTool(
      VerifyCallerSpec(),
      [verifier](const json& args, const ToolContext& context) {
        return (*verifier)(args, context);
      },
      pool, /*idempotent=*/false));
  tools.push_back(MakeFunctionTool(
      GetPolicySpec(),
      [data](const json& args, const ToolContext&) { return GetPolicy(*data, args); }, pool,
      /*idempotent=*/true));
  tools.push_back(MakeFunctionTool(
      CreateClaimSpec(),
      [data](const json& args, const ToolContext& context) {
        return CreateClaim(*data, args, context);
      },
      pool, /*idempotent=*/false));
  tools.push_back(MakeFunctionTool(
      GetClaimStatusSpec(),
      [data](const json& args, const ToolContext&) { return GetClaimStatus(*data, args); }, pool,
      /*idempotent=*/true));
  return tools;
}

core::Status RegisterInsuranceTools(ToolRegistry* registry, std::shared_ptr<InsuranceData> data,
                                    core::ComputePool* pool) {
  if (registry == nullptr || data == nullptr) {
    return core::InvalidArgumentError("RegisterInsuranceTools needs a registry and the data");
  }
  for (auto& tool : MakeInsuranceTools(std::move(data), pool)) {
    ARTAGENT_RETURN_IF_ERROR(registry->Register(std::move(tool)));
  }
  return core::OkStatus();
}

}  // namespace artagent::agent
