#include "agent/agent_config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

namespace artagent::agent {
namespace {

namespace fs = std::filesystem;

std::string Where(const std::string& file, const YAML::Node& node) {
  return file + ":" + std::to_string(node.Mark().line + 1);
}

core::Status Bad(const std::string& file, const YAML::Node& node, const std::string& msg) {
  return core::InvalidArgumentError(Where(file, node) + ": " + msg);
}

core::Status BadLine(const std::string& file, int line, const std::string& msg) {
  return core::InvalidArgumentError(file + ":" + std::to_string(line) + ": " + msg);
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

// Keys a map may have; anything else is a mistake worth stopping for (a typo silently ignored
// would be a re-prompt that never fires).
core::Status CheckKeys(const std::string& file, const YAML::Node& map, const char* what,
                       std::initializer_list<const char*> known) {
  for (const auto& kv : map) {
    const std::string key = kv.first.as<std::string>();
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok) {
      std::vector<std::string> names(known.begin(), known.end());
      return Bad(file, kv.first,
                 std::string("unknown key '") + key + "' in " + what +
                     " (known: " + JoinNames(names) + ")");
    }
  }
  return core::OkStatus();
}

core::Result<std::string> Str(const std::string& file, const YAML::Node& map, const char* key,
                              bool required = false) {
  YAML::Node v = map[key];
  if (!v) {
    if (required) return Bad(file, map, std::string("missing required key '") + key + "'");
    return std::string();
  }
  if (!v.IsScalar()) return Bad(file, v, std::string("'") + key + "' must be a string");
  return v.as<std::string>();
}

core::Result<std::vector<std::string>> StrList(const std::string& file, const YAML::Node& map,
                                               const char* key) {
  std::vector<std::string> out;
  YAML::Node v = map[key];
  if (!v) return out;
  if (!v.IsSequence()) return Bad(file, v, std::string("'") + key + "' must be a list");
  for (const auto& e : v) {
    if (!e.IsScalar()) return Bad(file, e, std::string("'") + key + "' entries must be strings");
    out.push_back(e.as<std::string>());
  }
  return out;
}

core::Status ParseSet(const std::string& file, const YAML::Node& n, SlotAssignments* set) {
  YAML::Node v = n["set"];
  if (!v) return core::OkStatus();
  if (!v.IsMap()) return Bad(file, v, "'set' must map slot names to values");
  for (const auto& kv : v) {
    set->emplace_back(kv.first.as<std::string>(), kv.second.as<std::string>());
  }
  return core::OkStatus();
}

core::Status ParseAnswer(const std::string& file, const YAML::Node& n, FlowAnswer* a) {
  if (!n.IsMap()) return Bad(file, n, "an answer must be a map with 'name' and 'keywords'");
  ARTAGENT_RETURN_IF_ERROR(
      CheckKeys(file, n, "an answer", {"name", "keywords", "dtmf", "say", "next", "set"}));
  a->line = n.Mark().line + 1;
  ARTAGENT_ASSIGN_OR_RETURN(a->name, Str(file, n, "name", true));
  ARTAGENT_ASSIGN_OR_RETURN(a->say, Str(file, n, "say"));
  ARTAGENT_ASSIGN_OR_RETURN(a->next, Str(file, n, "next"));
  ARTAGENT_ASSIGN_OR_RETURN(a->dtmf, Str(file, n, "dtmf"));
  ARTAGENT_RETURN_IF_ERROR(ParseSet(file, n, &a->set));
  YAML::Node k = n["keywords"];
  if ((!k || !k.IsSequence() || k.size() == 0) && a->dtmf.empty()) {
    return Bad(file, n, "answer '" + a->name + "' needs a non-empty 'keywords' list or 'dtmf'");
  }
  if (k) {
    for (const auto& w : k) a->keywords.push_back(Lower(w.as<std::string>()));
  }
  return core::OkStatus();
}

core::Status ParseSlot(const std::string& file, const YAML::Node& s, FlowSlot* slot) {
  if (!s.IsMap()) return Bad(file, s, "'slot' must be a map with 'name' and 'type'");
  ARTAGENT_RETURN_IF_ERROR(CheckKeys(
      file, s, "a slot",
      {"name", "type", "min_length", "max_length", "min", "max", "choices", "date_range"}));
  ARTAGENT_ASSIGN_OR_RETURN(slot->name, Str(file, s, "name", true));
  ARTAGENT_ASSIGN_OR_RETURN(slot->spec.type, Str(file, s, "type", true));
  if (!IsSlotType(slot->spec.type)) {
    return Bad(file, s["type"],
               "slot '" + slot->name + "': unknown type '" + slot->spec.type +
                   "' (known: " + JoinNames(SlotTypes()) + ")");
  }
  if (s["min_length"]) slot->spec.min_length = s["min_length"].as<int>();
  if (s["max_length"]) slot->spec.max_length = s["max_length"].as<int>();
  if (s["min"]) slot->spec.min = s["min"].as<double>();
  if (s["max"]) slot->spec.max = s["max"].as<double>();
  ARTAGENT_ASSIGN_OR_RETURN(slot->spec.date_range, Str(file, s, "date_range"));
  if (YAML::Node c = s["choices"]) {
    // choices: [a, b]  or  choices: {collision: [crash, hit], theft: [stolen]}
    if (c.IsSequence()) {
      for (const auto& v : c) slot->spec.choices.push_back({Lower(v.as<std::string>()), {}});
    } else if (c.IsMap()) {
      for (const auto& kv : c) {
        SlotChoice choice{Lower(kv.first.as<std::string>()), {}};
        if (kv.second.IsSequence()) {
          for (const auto& w : kv.second) choice.keywords.push_back(Lower(w.as<std::string>()));
        } else if (!kv.second.IsNull()) {
          return Bad(file, kv.second, "a choice's keywords must be a list");
        }
        slot->spec.choices.push_back(std::move(choice));
      }
    } else {
      return Bad(file, c, "'choices' must be a list or a map of value -> keywords");
    }
  }
  if (std::string problem = CheckSlotSpec(slot->spec); !problem.empty()) {
    return Bad(file, s, "slot '" + slot->name + "': " + problem);
  }
  return core::OkStatus();
}

core::Status ParseNode(const std::string& file, const YAML::Node& n, FlowNode* node) {
  if (!n.IsMap()) return Bad(file, n, "a flow node must be a map with an 'id'");
  ARTAGENT_RETURN_IF_ERROR(
      CheckKeys(file, n, "a flow node",
                {"id", "prompt", "answers", "slot", "confirm", "next", "tool", "args", "on_result",
                 "handoff", "reason", "end_call", "transfer", "no_match", "no_input", "max_retries",
                 "on_max_retries", "end", "on_failure"}));
  node->line = n.Mark().line + 1;
  ARTAGENT_ASSIGN_OR_RETURN(node->id, Str(file, n, "id", true));
  ARTAGENT_ASSIGN_OR_RETURN(node->prompt, Str(file, n, "prompt"));
  ARTAGENT_ASSIGN_OR_RETURN(node->next, Str(file, n, "next"));
  ARTAGENT_ASSIGN_OR_RETURN(node->confirm, Str(file, n, "confirm"));
  ARTAGENT_ASSIGN_OR_RETURN(node->no_match, Str(file, n, "no_match"));
  ARTAGENT_ASSIGN_OR_RETURN(node->no_input, Str(file, n, "no_input"));
  ARTAGENT_ASSIGN_OR_RETURN(node->on_max_retries, Str(file, n, "on_max_retries"));
  ARTAGENT_ASSIGN_OR_RETURN(node->tool, Str(file, n, "tool"));
  ARTAGENT_ASSIGN_OR_RETURN(node->handoff, Str(file, n, "handoff"));
  ARTAGENT_ASSIGN_OR_RETURN(node->handoff_reason, Str(file, n, "reason"));
  ARTAGENT_ASSIGN_OR_RETURN(node->transfer, Str(file, n, "transfer"));
  ARTAGENT_ASSIGN_OR_RETURN(node->on_failure, Str(file, n, "on_failure"));
  if (n["end"]) node->end = n["end"].as<bool>();
  if (n["end_call"]) node->end_call = n["end_call"].as<bool>();
  if (n["max_retries"]) node->max_retries = n["max_retries"].as<int>();
  if (node->max_retries < 0) return Bad(file, n["max_retries"], "'max_retries' must be >= 0");
  if (YAML::Node answers = n["answers"]) {
    if (!answers.IsSequence()) return Bad(file, answers, "'answers' must be a list");
    for (const auto& a : answers) {
      FlowAnswer answer;
      ARTAGENT_RETURN_IF_ERROR(ParseAnswer(file, a, &answer));
      node->answers.push_back(std::move(answer));
    }
  }
  if (YAML::Node s = n["slot"]) {
    FlowSlot slot;
    ARTAGENT_RETURN_IF_ERROR(ParseSlot(file, s, &slot));
    node->slot = std::move(slot);
  }
  if (YAML::Node args = n["args"]) {
    if (!args.IsMap()) return Bad(file, args, "'args' must map argument names to values");
    for (const auto& kv : args) {
      node->args[kv.first.as<std::string>()] = kv.second.as<std::string>();
    }
  }
  if (YAML::Node results = n["on_result"]) {
    if (!results.IsSequence()) return Bad(file, results, "'on_result' must be a list");
    for (const auto& r : results) {
      ARTAGENT_RETURN_IF_ERROR(
          CheckKeys(file, r, "an on_result branch", {"when", "say", "next", "set"}));
      FlowBranch b;
      b.line = r.Mark().line + 1;
      ARTAGENT_ASSIGN_OR_RETURN(b.when, Str(file, r, "when"));
      ARTAGENT_ASSIGN_OR_RETURN(b.say, Str(file, r, "say"));
      ARTAGENT_ASSIGN_OR_RETURN(b.next, Str(file, r, "next"));
      ARTAGENT_RETURN_IF_ERROR(ParseSet(file, r, &b.set));
      node->on_result.push_back(std::move(b));
    }
  }
  const std::string at = "node '" + node->id + "'";
  if (node->slot && !node->answers.empty()) {
    return Bad(file, n, at + " has both a slot and answers; use one");
  }
  const int actions =
      !node->tool.empty() + !node->handoff.empty() + node->end_call + !node->transfer.empty();
  if (actions > 1) {
    return Bad(file, n, at + ": use only one of tool, handoff, end_call, transfer");
  }
  if (actions == 1 && (node->slot || !node->answers.empty())) {
    return Bad(file, n,
               at + " both waits for the caller (slot/answers) and acts (tool/handoff/"
                    "end_call/transfer); split it into two nodes");
  }
  if (!node->tool.empty() && node->on_result.empty() && node->next.empty()) {
    return Bad(file, n, at + " calls tool '" + node->tool + "' but has no on_result or next");
  }
  if (node->tool.empty() && (!node->on_result.empty() || !node->args.empty())) {
    return Bad(file, n, at + ": 'args' and 'on_result' need a 'tool'");
  }
  if (!node->confirm.empty() && !node->slot) {
    return Bad(file, n, at + ": 'confirm' needs a 'slot'");
  }
  if (!node->on_failure.empty() && node->transfer.empty()) {
    return Bad(file, n, at + ": 'on_failure' needs a 'transfer'");
  }
  if (!node->end && actions == 0 && !node->slot && node->answers.empty() && node->next.empty()) {
    return Bad(file, n,
               at + " has no answers, slot, next, action or end: the conversation "
                    "would stop here");
  }
  return core::OkStatus();
}

std::vector<std::string> Targets(const FlowNode& n) {
  std::vector<std::string> t = {n.next, n.on_max_retries, n.on_failure};
  for (const auto& a : n.answers) t.push_back(a.next);
  for (const auto& b : n.on_result) t.push_back(b.next);
  return t;
}

core::Status CheckFlow(const std::string& file, const YAML::Node& flow_node, const FlowConfig& f) {
  std::set<std::string> ids;
  for (const auto& n : f.nodes) {
    if (!ids.insert(n.id).second) {
      return BadLine(file, n.line, "duplicate flow node '" + n.id + "'");
    }
  }
  if (!ids.count(f.start)) {
    return Bad(file, flow_node, "flow start '" + f.start + "' is not a node");
  }
  for (const auto& n : f.nodes) {
    for (const auto& t : Targets(n)) {
      if (!t.empty() && !ids.count(t)) {
        return BadLine(file, n.line, "flow node '" + n.id + "': next '" + t + "' is not a node");
      }
    }
  }
  // Every node must be reachable from the start: a node nothing leads to is a mistake.
  std::set<std::string> reached = {f.start};
  std::vector<std::string> todo = {f.start};
  while (!todo.empty()) {
    const FlowNode* n = f.Find(todo.back());
    todo.pop_back();
    for (const auto& t : Targets(*n)) {
      if (!t.empty() && reached.insert(t).second) todo.push_back(t);
    }
  }
  for (const auto& n : f.nodes) {
    if (!reached.count(n.id)) {
      return BadLine(file, n.line,
                     "flow node '" + n.id + "' is unreachable from start '" + f.start + "'");
    }
  }
  return core::OkStatus();
}

core::Result<YAML::Node> LoadYaml(const std::string& path, const char* what) {
  try {
    return YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return core::NotFoundError(path + ": cannot read the " + what + " file");
  } catch (const YAML::Exception& e) {
    return core::InvalidArgumentError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

core::Status ParseAgent(const std::string& path, const YAML::Node& root, AgentConfig* a) {
  ARTAGENT_RETURN_IF_ERROR(
      CheckKeys(path, root, "an agent file",
                {"name", "description", "greeting", "return_greeting", "instructions", "voice",
                 "model", "tools", "speech", "flow"}));
  ARTAGENT_ASSIGN_OR_RETURN(a->name, Str(path, root, "name", true));
  ARTAGENT_ASSIGN_OR_RETURN(a->description, Str(path, root, "description"));
  ARTAGENT_ASSIGN_OR_RETURN(a->greeting, Str(path, root, "greeting"));
  ARTAGENT_ASSIGN_OR_RETURN(a->return_greeting, Str(path, root, "return_greeting"));
  ARTAGENT_ASSIGN_OR_RETURN(a->instructions, Str(path, root, "instructions"));
  ARTAGENT_ASSIGN_OR_RETURN(a->voice, Str(path, root, "voice"));
  ARTAGENT_ASSIGN_OR_RETURN(a->tools, StrList(path, root, "tools"));
  if (root["tools"]) a->line = root["tools"].Mark().line + 1;
  if (YAML::Node m = root["model"]) {
    if (m.IsScalar()) {
      a->model.provider = m.as<std::string>();
    } else if (m.IsMap()) {
      ARTAGENT_RETURN_IF_ERROR(
          CheckKeys(path, m, "'model'", {"provider", "name", "temperature", "max_tokens"}));
      ARTAGENT_ASSIGN_OR_RETURN(a->model.provider, Str(path, m, "provider"));
      ARTAGENT_ASSIGN_OR_RETURN(a->model.name, Str(path, m, "name"));
      if (m["temperature"]) a->model.temperature = m["temperature"].as<double>();
      if (m["max_tokens"]) a->model.max_tokens = m["max_tokens"].as<int>();
    } else {
      return Bad(path, m, "'model' must be a provider name or a map");
    }
    if (!a->model.provider.empty() && a->model.provider != "flow" &&
        a->model.provider != "openai") {
      return Bad(path, m,
                 "unknown model provider '" + a->model.provider + "' (known: flow, openai)");
    }
  }
  if (YAML::Node speech = root["speech"]) {
    if (!speech.IsMap()) return Bad(path, speech, "'speech' must be a map");
    ARTAGENT_RETURN_IF_ERROR(
        CheckKeys(path, speech, "'speech'",
                  {"grammar", "end_of_turn_silence_ms", "no_input_timeout_ms", "phrase_hints"}));
    if (speech["grammar"]) a->grammar_recognition = speech["grammar"].as<bool>();
    if (speech["end_of_turn_silence_ms"]) {
      a->end_of_turn_silence_ms = speech["end_of_turn_silence_ms"].as<int>();
      if (a->end_of_turn_silence_ms < 100 || a->end_of_turn_silence_ms > 10000) {
        return Bad(path, speech["end_of_turn_silence_ms"],
                   "'end_of_turn_silence_ms' must be 100..10000");
      }
    }
    if (speech["no_input_timeout_ms"]) {
      a->no_input_timeout_ms = speech["no_input_timeout_ms"].as<int>();
      if (a->no_input_timeout_ms != 0 && a->no_input_timeout_ms < 1000) {
        return Bad(path, speech["no_input_timeout_ms"],
                   "'no_input_timeout_ms' must be 0 (off) or >= 1000");
      }
    }
    ARTAGENT_ASSIGN_OR_RETURN(a->phrase_hints, StrList(path, speech, "phrase_hints"));
  }
  YAML::Node flow = root["flow"];
  if (!flow) {
    if (a->model.provider == "openai") return core::OkStatus();
    return Bad(path, root,
               "agent '" + a->name +
                   "' has no 'flow' for the flow model (an "
                   "LLM-only agent says `model: openai`)");
  }
  ARTAGENT_RETURN_IF_ERROR(CheckKeys(path, flow, "'flow'", {"start", "nodes"}));
  ARTAGENT_ASSIGN_OR_RETURN(a->flow.start, Str(path, flow, "start", true));
  YAML::Node nodes = flow["nodes"];
  if (!nodes || !nodes.IsSequence() || nodes.size() == 0) {
    return Bad(path, flow, "'flow.nodes' must be a non-empty list");
  }
  for (const auto& n : nodes) {
    FlowNode node;
    ARTAGENT_RETURN_IF_ERROR(ParseNode(path, n, &node));
    a->flow.nodes.push_back(std::move(node));
  }
  return CheckFlow(path, flow, a->flow);
}

core::Status ParseEdges(const std::string& path, const YAML::Node& root, ScenarioConfig* s) {
  std::string default_type = "announced";
  if (root["default_handoff_type"]) default_type = root["default_handoff_type"].as<std::string>();
  YAML::Node edges = root["handoffs"];
  if (!edges) return core::OkStatus();
  if (!edges.IsSequence()) return Bad(path, edges, "'handoffs' must be a list of edges");
  for (const auto& e : edges) {
    ARTAGENT_RETURN_IF_ERROR(
        CheckKeys(path, e, "a hand-off edge",
                  {"from", "to", "type", "share_context", "tool", "description"}));
    HandoffEdge edge;
    edge.line = e.Mark().line + 1;
    ARTAGENT_ASSIGN_OR_RETURN(edge.from, Str(path, e, "from", true));
    ARTAGENT_ASSIGN_OR_RETURN(edge.to, Str(path, e, "to", true));
    ARTAGENT_ASSIGN_OR_RETURN(edge.type, Str(path, e, "type"));
    ARTAGENT_ASSIGN_OR_RETURN(edge.tool, Str(path, e, "tool"));
    ARTAGENT_ASSIGN_OR_RETURN(edge.description, Str(path, e, "description"));
    if (edge.type.empty()) edge.type = default_type;
    if (e["share_context"]) edge.share_context = e["share_context"].as<bool>();
    if (edge.type != "announced" && edge.type != "discrete") {
      return Bad(path, e, "hand-off type '" + edge.type + "' (known: announced, discrete)");
    }
    for (const std::string* name : {&edge.from, &edge.to}) {
      if (!s->Find(*name)) {
        std::vector<std::string> names;
        for (const auto& [n, a] : s->agents) names.push_back(n);
        return Bad(path, e,
                   "hand-off edge names agent '" + *name +
                       "', which is not in the scenario (agents: " + JoinNames(names) + ")");
      }
    }
    if (edge.from == edge.to) return Bad(path, e, "a hand-off edge from an agent to itself");
    if (edge.tool.empty()) edge.tool = "handoff_" + edge.to;
    if (s->Edge(edge.from, edge.tool)) {
      return Bad(path, e,
                 "agent '" + edge.from + "' already has a hand-off tool '" + edge.tool + "'");
    }
    s->edges.push_back(std::move(edge));
  }
  return core::OkStatus();
}

}  // namespace

const FlowNode* FlowConfig::Find(const std::string& id) const {
  for (const auto& n : nodes) {
    if (n.id == id) return &n;
  }
  return nullptr;
}

const AgentConfig* ScenarioConfig::StartAgent() const { return Find(start_agent); }

const AgentConfig* ScenarioConfig::Find(const std::string& agent) const {
  auto it = agents.find(agent);
  return it == agents.end() ? nullptr : &it->second;
}

const HandoffEdge* ScenarioConfig::Edge(const std::string& from, const std::string& tool) const {
  for (const auto& e : edges) {
    if (e.from == from && e.tool == tool) return &e;
  }
  return nullptr;
}

std::vector<const HandoffEdge*> EdgesFrom(const ScenarioConfig& scenario,
                                          const std::string& agent) {
  std::vector<const HandoffEdge*> out;
  for (const auto& e : scenario.edges) {
    if (e.from == agent) out.push_back(&e);
  }
  return out;
}

core::Result<AgentConfig> LoadAgentFile(const std::string& path) {
  ARTAGENT_ASSIGN_OR_RETURN(YAML::Node root, LoadYaml(path, "agent"));
  if (!root.IsMap()) return core::InvalidArgumentError(path + ": an agent file must be a map");
  try {
    AgentConfig a;
    a.file = path;
    ARTAGENT_RETURN_IF_ERROR(ParseAgent(path, root, &a));
    return a;
  } catch (const YAML::Exception& e) {
    return core::InvalidArgumentError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

core::Result<ScenarioConfig> LoadScenario(const std::string& agents_dir, const std::string& name) {
  const std::string dir = agents_dir + "/" + name;
  const std::string path = dir + "/scenario.yaml";
  if (!fs::exists(path)) {
    return core::NotFoundError("scenario '" + name + "' not found (no " + path +
                               "); known scenarios: " + JoinNames(ListScenarios(agents_dir)));
  }
  ARTAGENT_ASSIGN_OR_RETURN(YAML::Node root, LoadYaml(path, "scenario"));
  if (!root.IsMap()) return core::InvalidArgumentError(path + ": a scenario file must be a map");
  try {
    ScenarioConfig s;
    s.dir = dir;
    s.name = name;
    s.file = path;
    ARTAGENT_RETURN_IF_ERROR(
        CheckKeys(path, root, "a scenario file",
                  {"description", "start_agent", "agents", "handoffs", "default_handoff_type",
                   "remember", "template_vars", "tools", "email"}));
    ARTAGENT_ASSIGN_OR_RETURN(s.description, Str(path, root, "description"));
    ARTAGENT_ASSIGN_OR_RETURN(s.start_agent, Str(path, root, "start_agent", true));
    ARTAGENT_ASSIGN_OR_RETURN(s.remember, StrList(path, root, "remember"));
    if (YAML::Node vars = root["template_vars"]) {
      if (!vars.IsMap()) return Bad(path, vars, "'template_vars' must be a map");
      for (const auto& kv : vars) {
        s.template_vars[kv.first.as<std::string>()] = kv.second.as<std::string>();
      }
    }
    if (YAML::Node email = root["email"]) {
      if (!email.IsMap()) return Bad(path, email, "'email' must be a map (to, subject, body)");
      ARTAGENT_RETURN_IF_ERROR(CheckKeys(path, email, "'email'",
                                         {"to", "subject", "body", "when", "attach_transcript"}));
      ScenarioEmail e;
      ARTAGENT_ASSIGN_OR_RETURN(e.to, Str(path, email, "to", true));
      ARTAGENT_ASSIGN_OR_RETURN(e.subject, Str(path, email, "subject", true));
      ARTAGENT_ASSIGN_OR_RETURN(e.body, Str(path, email, "body", true));
      ARTAGENT_ASSIGN_OR_RETURN(e.when, Str(path, email, "when"));
      if (email["attach_transcript"]) e.attach_transcript = email["attach_transcript"].as<bool>();
      s.email = std::move(e);
    }
    YAML::Node agents = root["agents"];
    if (!agents || !agents.IsSequence() || agents.size() == 0) {
      return Bad(path, root, "'agents' must list the agent files of the scenario");
    }
    for (const auto& a : agents) {
      const std::string file = dir + "/" + a.as<std::string>();
      auto agent = LoadAgentFile(file);
      if (!agent.ok()) return agent.status();
      std::string agent_name = agent->name;
      if (s.agents.count(agent_name)) {
        return Bad(path, a, "two agents are named '" + agent_name + "'");
      }
      s.agents.emplace(agent_name, std::move(agent).value());
    }
    if (!s.StartAgent()) {
      return Bad(path, root["start_agent"],
                 "start_agent '" + s.start_agent + "' is not one of the scenario's agents");
    }
    ARTAGENT_RETURN_IF_ERROR(ParseEdges(path, root, &s));
    if (YAML::Node tools = root["tools"]) {
      if (!tools.IsSequence()) return Bad(path, tools, "'tools' must be a list of webhook tools");
      for (const auto& t : tools) {
        if (!t.IsMap() || !t["name"]) return Bad(path, t, "a tool needs a 'name'");
        s.webhook_tools.push_back(t["name"].as<std::string>());
      }
    }
    // A flow hand-off must follow an edge of the scenario.
    for (const auto& [agent_name, a] : s.agents) {
      for (const auto& n : a.flow.nodes) {
        if (n.handoff.empty()) continue;
        bool found = false;
        for (const auto* e : EdgesFrom(s, agent_name)) found = found || e->to == n.handoff;
        if (!found) {
          return BadLine(a.file, n.line,
                         "flow node '" + n.id + "' hands off to '" + n.handoff +
                             "' but the scenario has no edge from '" + agent_name + "' to it (" +
                             path + ": handoffs)");
        }
      }
    }
    return s;
  } catch (const YAML::Exception& e) {
    return core::InvalidArgumentError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

std::vector<std::string> ListScenarios(const std::string& agents_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(agents_dir, ec)) {
    if (e.is_directory() && fs::exists(e.path() / "scenario.yaml")) {
      out.push_back(e.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> CheckScenarioTools(const ScenarioConfig& scenario,
                                            const std::vector<std::string>& known_tools) {
  std::set<std::string> known(known_tools.begin(), known_tools.end());
  known.insert(scenario.webhook_tools.begin(), scenario.webhook_tools.end());
  known.insert(kEndCallTool);
  known.insert(kTransferTool);
  std::vector<std::string> problems;
  for (const auto& [name, a] : scenario.agents) {
    for (const auto& t : a.tools) {
      if (!known.count(t)) {
        problems.push_back(a.file + ":" + std::to_string(a.line) + ": agent '" + name +
                           "': unknown tool '" + t +
                           "' (known: " + JoinNames({known.begin(), known.end()}) + ")");
      }
    }
    for (const auto& n : a.flow.nodes) {
      if (n.tool.empty()) continue;
      if (std::find(a.tools.begin(), a.tools.end(), n.tool) == a.tools.end()) {
        problems.push_back(a.file + ":" + std::to_string(n.line) + ": flow node '" + n.id +
                           "' calls tool '" + n.tool + "', which agent '" + name +
                           "' does not list under 'tools'");
      }
    }
  }
  return problems;
}

}  // namespace artagent::agent
