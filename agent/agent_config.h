#pragma once
// Agents and scenarios as written in YAML (DESIGN §7). An agent says who speaks and how; its
// `flow` is what the embedded flow model runs. A scenario names the agents of one line of business
// and which one answers first.

#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace artagent::agent {

// A caller answer a flow node expects: any of `keywords` (whole words or phrases) selects it.
struct FlowAnswer {
  std::string name;                   // "claim", "yes", ...
  std::vector<std::string> keywords;  // lower case
  std::string say;                    // spoken before moving on (templated)
  std::string next;                   // node to go to ("" = stay)
};

// A value the node collects from the caller.
struct FlowSlot {
  std::string name;
  std::string type;  // "digits" | "yes_no" | "text"
  int min_length = 1;
  int max_length = 32;
};

struct FlowNode {
  std::string id;
  std::string prompt;  // spoken when the node is entered (templated)
  std::vector<FlowAnswer> answers;
  std::optional<FlowSlot> slot;
  std::string next;      // after the slot is filled
  std::string no_match;  // re-prompt when the answer fits nothing (templated)
  bool end = false;      // the conversation is complete after this node's prompt
  int line = 0;          // where it is defined, for messages
};

struct FlowConfig {
  std::string start;
  std::vector<FlowNode> nodes;
  const FlowNode* Find(const std::string& id) const;
};

struct AgentConfig {
  std::string name;
  std::string description;
  std::string greeting;
  std::string instructions;  // for LLM models (later issue)
  std::string voice;
  // speech.grammar: recognise each flow node's answers with a grammar generated from the node
  // (pocketsphinx JSGF mode, language-model fallback for anything outside it).
  bool grammar_recognition = false;
  FlowConfig flow;
  std::string file;
};

struct ScenarioConfig {
  std::string name;
  std::string description;
  std::string start_agent;
  std::map<std::string, AgentConfig> agents;
  std::string dir;
  const AgentConfig* StartAgent() const;
};

// Parses one agent file. Errors name the file and line: "agents/x/a.yaml:12: flow node 'confirm':
// next 'done2' is not a node".
core::Result<AgentConfig> LoadAgentFile(const std::string& path);
// Loads `<agents_dir>/<name>/scenario.yaml` and the agent files it lists.
core::Result<ScenarioConfig> LoadScenario(const std::string& agents_dir, const std::string& name);
// Names of the scenarios under `agents_dir` (folders holding a scenario.yaml), sorted.
std::vector<std::string> ListScenarios(const std::string& agents_dir);

}  // namespace artagent::agent
