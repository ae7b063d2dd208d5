#pragma once
// Agents and scenarios as written in YAML (DESIGN §7). An agent says who speaks, how, with which
// model and tools; its `flow` is what the embedded flow model runs. A scenario names the agents of
// one line of business, which one answers first, and the hand-off edges between them.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/flow/slot_types.h"
#include "core/status.h"

namespace artagent::agent {

// `set: {caller_name: "{{result.first_name}}"}`: slots to store when a branch is taken
// (templated values).
using SlotAssignments = std::vector<std::pair<std::string, std::string>>;

// A caller answer a flow node expects: any of `keywords` (whole words or phrases) or the DTMF
// key selects it.
struct FlowAnswer {
  std::string name;                   // "claim", "yes", ...
  std::vector<std::string> keywords;  // lower case
  std::string dtmf;                   // "1": pressing this key picks the answer
  std::string say;                    // spoken before moving on (templated)
  std::string next;                   // node to go to ("" = stay)
  SlotAssignments set;
  int line = 0;
};

// A value the node collects from the caller.
struct FlowSlot {
  std::string name;
  SlotSpec spec;  // type and bounds (agent/flow/slot_types.h)
};

// One branch after a node's tool call. `when`: "ok", "error", "PATH", "!PATH", "PATH == VALUE",
// "PATH != VALUE" where PATH is a field of the tool's output ("verified", "policy.status") or,
// failing that, a slot; VALUE a JSON literal or a bare word. Empty `when`: always.
struct FlowBranch {
  std::string when;
  std::string say;
  std::string next;
  SlotAssignments set;
  int line = 0;
};

struct FlowNode {
  std::string id;
  std::string prompt;  // spoken when the node is entered (templated)
  std::vector<FlowAnswer> answers;
  std::optional<FlowSlot> slot;
  std::string confirm;  // after the slot is filled: ask this yes/no question before moving on
  std::string next;     // after the slot or an answer without its own `next`; or pass-through
  // Actions taken once the prompt is said (at most one):
  std::string tool;                         // call this tool ...
  std::map<std::string, std::string> args;  // ... with these templated arguments
  std::vector<FlowBranch> on_result;        // ... and branch on its output
  std::string handoff;                      // hand the call to this agent
  std::string handoff_reason;
  bool end_call = false;  // hang up
  std::string transfer;   // transfer the call to this number / SIP URI
  // When the transfer fails (busy, no answer, rejected): go to this node. Default: apologise and
  // return to the flow's start node. Only with `transfer`.
  std::string on_failure;
  // Re-prompts.
  std::string no_match;  // the answer fits nothing (templated); default: "Sorry, ..." + prompt
  std::string no_input;  // the caller said nothing (speech.no_input_timeout_ms)
  int max_retries = 3;   // re-prompts before `on_max_retries`
  std::string on_max_retries;  // node to go to then ("" = keep asking)
  bool end = false;            // the dialogue is complete after the prompt (the call stays open)
  int line = 0;                // where it is defined, for messages
};

struct FlowConfig {
  std::string start;
  std::vector<FlowNode> nodes;
  const FlowNode* Find(const std::string& id) const;
};

// `model:` of an agent. Empty fields fall back to the server's model configuration.
struct ModelSettings {
  std::string provider;  // "flow" | "openai" | "" (server default: model.provider)
  std::string name;      // model or Azure deployment name
  std::optional<double> temperature;
  std::optional<int> max_tokens;
};

struct AgentConfig {
  std::string name;
  std::string description;
  std::string greeting;         // said when the agent takes the call (templated)
  std::string return_greeting;  // said when the agent takes the call again
  std::string instructions;     // the system prompt for LLM models (templated)
  std::string voice;
  ModelSettings model;
  std::vector<std::string> tools;  // tool names the agent may call (registry or scenario)
  // speech:
  bool grammar_recognition = false;  // speech.grammar: per-node JSGF grammars (flow model)
  int end_of_turn_silence_ms = 0;    // speech.end_of_turn_silence_ms; 0 = the session's
  int no_input_timeout_ms = 0;       // speech.no_input_timeout_ms; 0 = never re-prompt on silence
  std::vector<std::string> phrase_hints;  // speech.phrase_hints
  FlowConfig flow;                        // empty when the agent only runs on an LLM
  std::string file;
  int line = 1;
};

// A scenario edge: `from` may hand the conversation to `to`.
struct HandoffEdge {
  std::string from;
  std::string to;
  std::string type = "announced";  // "announced" | "discrete"
  bool share_context = true;
  std::string tool;         // the generated tool's name; default "handoff_<to>"
  std::string description;  // when to use it (the tool's description for LLMs)
  int line = 0;
};

// `email:` of a scenario: a summary e-mailed when a session of it ends (sent only when e-mail is
// configured: email.sender and email.connection_string or email.endpoint). Templates over the
// session's memory slots and template_vars, plus {{session_id}} and {{transcript_url}}.
struct ScenarioEmail {
  std::string to;       // one or more addresses, comma-separated (templated)
  std::string subject;  // templated
  std::string body;     // plain text, templated
  std::string when;     // a slot that must be set for the e-mail to go (e.g. claim_number)
  bool attach_transcript = true;  // transcript.txt: what the caller and the agents said
};

struct ScenarioConfig {
  std::string name;
  std::string description;
  std::string start_agent;
  std::map<std::string, AgentConfig> agents;
  std::vector<HandoffEdge> edges;
  // Top-level fields of successful tool outputs that are remembered as slots (`remember:`).
  std::vector<std::string> remember;
  std::map<std::string, std::string> template_vars;  // `template_vars:` (institution_name, ...)
  std::optional<ScenarioEmail> email;                // `email:`
  // Names of the webhook tools declared under `tools:` in the scenario file (each entry is parsed
  // into a tool by the app, which owns the HTTP client and the secret resolver).
  std::vector<std::string> webhook_tools;
  std::string dir;
  std::string file;
  const AgentConfig* StartAgent() const;
  const AgentConfig* Find(const std::string& agent) const;
  const HandoffEdge* Edge(const std::string& from, const std::string& tool) const;
};

// Tool names an agent can call besides its `tools:` list: the hand-off tools of its edges.
std::vector<const HandoffEdge*> EdgesFrom(const ScenarioConfig& scenario, const std::string& agent);

// Parses one agent file. Errors name the file and line: "agents/x/a.yaml:12: flow node 'confirm':
// next 'done2' is not a node".
core::Result<AgentConfig> LoadAgentFile(const std::string& path);
// Loads `<agents_dir>/<name>/scenario.yaml` and the agent files it lists; checks edges and that
// flow hand-offs follow an edge.
core::Result<ScenarioConfig> LoadScenario(const std::string& agents_dir, const std::string& name);
// Names of the scenarios under `agents_dir` (folders holding a scenario.yaml), sorted.
std::vector<std::string> ListScenarios(const std::string& agents_dir);

// Tools every agent may list without declaring them: they are carried out by the transport.
inline constexpr const char* kEndCallTool = "end_call";
inline constexpr const char* kTransferTool = "transfer_call";

// Problems that need the tool registry: unknown tools in `tools:` or flow nodes, flow tool calls
// to tools the agent does not list. `known_tools`: registry names plus the scenario's webhooks.
std::vector<std::string> CheckScenarioTools(const ScenarioConfig& scenario,
                                            const std::vector<std::string>& known_tools);

}  // namespace artagent::agent
