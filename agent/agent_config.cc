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

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
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

core::Status ParseAnswer(const std::string& file, const YAML::Node& n, FlowAnswer* a) {
  if (!n.IsMap()) return Bad(file, n, "an answer must be a map with 'name' and 'keywords'");
  ARTAGENT_ASSIGN_OR_RETURN(a->name, Str(file, n, "name", true));
  ARTAGENT_ASSIGN_OR_RETURN(a->say, Str(file, n, "say"));
  ARTAGENT_ASSIGN_OR_RETURN(a->next, Str(file, n, "next"));
  YAML::Node k = n["keywords"];
  if (!k || !k.IsSequence() || k.size() == 0) {
    return Bad(file, n, "answer '" + a->name + "' needs a non-empty 'keywords' list");
  }
  for (const auto& w : k) a->keywords.push_back(Lower(w.as<std::string>()));
  return core::OkStatus();
}

core::Status ParseNode(const std::string& file, const YAML::Node& n, FlowNode* node) {
  node->line = n.Mark().line + 1;
  ARTAGENT_ASSIGN_OR_RETURN(node->id, Str(file, n, "id", true));
  ARTAGENT_ASSIGN_OR_RETURN(node->prompt, Str(file, n, "prompt"));
  ARTAGENT_ASSIGN_OR_RETURN(node->next, Str(file, n, "next"));
  ARTAGENT_ASSIGN_OR_RETURN(node->no_match, Str(file, n, "no_match"));
  if (n["end"]) node->end = n["end"].as<bool>();
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
    ARTAGENT_ASSIGN_OR_RETURN(slot.name, Str(file, s, "name", true));
    ARTAGENT_ASSIGN_OR_RETURN(slot.type, Str(file, s, "type", true));
    static const std::set<std::string> kTypes = {"digits", "yes_no", "text"};
    if (!kTypes.count(slot.type)) {
      return Bad(file, s, "slot '" + slot.name + "': unknown type '" + slot.type +
                              "' (known: digits, yes_no, text)");
    }
    if (s["min_length"]) slot.min_length = s["min_length"].as<int>();
    if (s["max_length"]) slot.max_length = s["max_length"].as<int>();
    if (slot.min_length < 1 || slot.max_length < slot.min_length) {
      return Bad(file, s, "slot '" + slot.name + "': need 1 <= min_length <= max_length");
    }
    node->slot = slot;
  }
  if (node->slot && !node->answers.empty()) {
    return Bad(file, n, "node '" + node->id + "' has both a slot and answers; use one");
  }
  if (!node->end && !node->slot && node->answers.empty() && node->next.empty()) {
    return Bad(file, n, "node '" + node->id + "' has no answers, slot, next or end: the "
                        "conversation would stop here");
  }
  return core::OkStatus();
}

core::Status CheckFlow(const std::string& file, const YAML::Node& flow_node, const FlowConfig& f) {
  std::set<std::string> ids;
  for (const auto& n : f.nodes) {
    if (!ids.insert(n.id).second) {
      return core::InvalidArgumentError(file + ":" + std::to_string(n.line) +
                                        ": duplicate flow node '" + n.id + "'");
    }
  }
  if (!ids.count(f.start)) {
    return Bad(file, flow_node, "flow start '" + f.start + "' is not a node");
  }
  auto check = [&](const FlowNode& n, const std::string& target) -> core::Status {
    if (target.empty() || ids.count(target)) return core::OkStatus();
    return core::InvalidArgumentError(file + ":" + std::to_string(n.line) + ": flow node '" +
                                      n.id + "': next '" + target + "' is not a node");
  };
  for (const auto& n : f.nodes) {
    ARTAGENT_RETURN_IF_ERROR(check(n, n.next));
    for (const auto& a : n.answers) ARTAGENT_RETURN_IF_ERROR(check(n, a.next));
  }
  // Every node must be reachable from the start: a node nothing leads to is a mistake.
  std::set<std::string> reached = {f.start};
  std::vector<std::string> todo = {f.start};
  while (!todo.empty()) {
    const FlowNode* n = f.Find(todo.back());
    todo.pop_back();
    std::vector<std::string> targets = {n->next};
    for (const auto& a : n->answers) targets.push_back(a.next);
    for (const auto& t : targets) {
      if (!t.empty() && reached.insert(t).second) todo.push_back(t);
    }
  }
  for (const auto& n : f.nodes) {
    if (!reached.count(n.id)) {
      return core::InvalidArgumentError(file + ":" + std::to_string(n.line) + ": flow node '" +
                                        n.id + "' is unreachable from start '" + f.start + "'");
    }
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

const AgentConfig* ScenarioConfig::StartAgent() const {
  auto it = agents.find(start_agent);
  return it == agents.end() ? nullptr : &it->second;
}

core::Result<AgentConfig> LoadAgentFile(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return core::NotFoundError(path + ": cannot read the agent file");
  } catch (const YAML::Exception& e) {
    return core::InvalidArgumentError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  if (!root.IsMap()) return core::InvalidArgumentError(path + ": an agent file must be a map");
  try {
    AgentConfig a;
    a.file = path;
    ARTAGENT_ASSIGN_OR_RETURN(a.name, Str(path, root, "name", true));
    ARTAGENT_ASSIGN_OR_RETURN(a.description, Str(path, root, "description"));
    ARTAGENT_ASSIGN_OR_RETURN(a.greeting, Str(path, root, "greeting"));
    ARTAGENT_ASSIGN_OR_RETURN(a.instructions, Str(path, root, "instructions"));
    ARTAGENT_ASSIGN_OR_RETURN(a.voice, Str(path, root, "voice"));
    if (YAML::Node speech = root["speech"]) {
      if (!speech.IsMap()) return Bad(path, speech, "'speech' must be a map");
      if (speech["grammar"]) a.grammar_recognition = speech["grammar"].as<bool>();
    }
    YAML::Node flow = root["flow"];
    if (!flow) return Bad(path, root, "agent '" + a.name + "' has no 'flow' for the flow model");
    ARTAGENT_ASSIGN_OR_RETURN(a.flow.start, Str(path, flow, "start", true));
    YAML::Node nodes = flow["nodes"];
    if (!nodes || !nodes.IsSequence() || nodes.size() == 0) {
      return Bad(path, flow, "'flow.nodes' must be a non-empty list");
    }
    for (const auto& n : nodes) {
      FlowNode node;
      ARTAGENT_RETURN_IF_ERROR(ParseNode(path, n, &node));
      a.flow.nodes.push_back(std::move(node));
    }
    ARTAGENT_RETURN_IF_ERROR(CheckFlow(path, flow, a.flow));
    return a;
  } catch (const YAML::Exception& e) {
    return core::InvalidArgumentError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

core::Result<ScenarioConfig> LoadScenario(const std::string& agents_dir, const std::string& name) {
  const std::string dir = agents_dir + "/" + name;
  const std::string path = dir + "/scenario.yaml";
  if (!fs::exists(path)) {
    std::string known;
    for (const auto& s : ListScenarios(agents_dir)) known += (known.empty() ? "" : ", ") + s;
    return core::NotFoundError("scenario '" + name + "' not found (no " + path +
                               "); known scenarios: " + (known.empty() ? "none" : known));
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return core::InvalidArgumentError(path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  ScenarioConfig s;
  s.dir = dir;
  s.name = name;
  ARTAGENT_ASSIGN_OR_RETURN(s.description, Str(path, root, "description"));
  ARTAGENT_ASSIGN_OR_RETURN(s.start_agent, Str(path, root, "start_agent", true));
  YAML::Node agents = root["agents"];
  if (!agents || !agents.IsSequence() || agents.size() == 0) {
    return Bad(path, root, "'agents' must list the agent files of the scenario");
  }
  for (const auto& a : agents) {
    const std::string file = dir + "/" + a.as<std::string>();
    auto agent = LoadAgentFile(file);
    if (!agent.ok()) return agent.status();
    std::string agent_name = agent->name;
    s.agents.emplace(agent_name, std::move(agent).value());
  }
  if (!s.StartAgent()) {
    return Bad(path, root["start_agent"], "start_agent '" + s.start_agent +
                                              "' is not one of the scenario's agents");
  }
  return s;
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

}  // namespace artagent::agent
