#pragma once
// Memory: what the agents of one session know — typed slots the caller gave or tools returned,
// shared by every agent of the scenario (per-agent chat history lives in the session's history,
// tagged by agent). Templates in prompts and greetings read it: "{{caller_name}}",
// "{{policy_number|digits}}", "{{result.claim_number|digits}}".
//
// Not thread-safe: owned by one session's orchestrator, used on its strand.

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "session/responder.h"

namespace artagent::agent {

class Memory {
 public:
  // Stores a slot. `spoken` is how to read it back ("4, 5, 6, 7"); empty = the value as text.
  void Set(const std::string& name, const std::string& type, nlohmann::json value,
           const std::string& agent, std::string spoken = "");
  bool Has(const std::string& name) const { return slots_.count(name) > 0; }
  // A slot's value, or a field inside it ("claim.claim_number"); nullptr when absent.
  const nlohmann::json* Find(const std::string& path) const;
  // {name: value} of every slot (what tools and LLM prompts see).
  nlohmann::json Values() const;
  // Slots set since the last call, in order (reported to the session and stored).
  std::vector<session::SlotInfo> TakeUpdates();

  // Scenario template_vars: readable in templates like slots, never reported.
  void SetTemplateVars(std::map<std::string, std::string> vars) { vars_ = std::move(vars); }

  // Renders "{{path|filter}}" placeholders. Paths: "result.x" reads `result` (the last tool
  // output), anything else a slot (or template var). Filters: digits (spell digit by digit),
  // spoken (the slot's read-back form), date (an ISO date read as words), upper, lower.
  // Unknown paths render as "".
  std::string Render(const std::string& templ, const nlohmann::json* result = nullptr) const;
  // Like Render, but a template that is exactly one placeholder without a filter ("{{injuries}}",
  // "{{result}}", "{{result.claim_number}}") gives the value with its JSON type (a boolean stays
  // a boolean); anything else is the rendered text.
  nlohmann::json Value(const std::string& templ, const nlohmann::json* result = nullptr) const;

 private:
  struct Slot {
    std::string type;
    nlohmann::json value;
    std::string spoken;
  };
  // The value a placeholder's path names: "result" / "result.x" in `result`, else a slot.
  const nlohmann::json* Lookup(const std::string& path, const nlohmann::json* result) const;

  std::map<std::string, Slot> slots_;
  std::map<std::string, std::string> vars_;
  std::vector<session::SlotInfo> updates_;
};

// A value as text: strings without quotes, true/false as yes/no, numbers without a trailing ".0".
std::string ValueText(const nlohmann::json& value);

// Evaluates a flow branch condition (see FlowBranch::when) against a tool's output.
bool EvalCondition(const std::string& when, const nlohmann::json& result, bool tool_ok,
                   const Memory& memory);

}  // namespace artagent::agent
