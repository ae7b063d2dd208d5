// `artagent agents check DIR`: validates every scenario and agent file under DIR.

#include <cstdio>
#include <filesystem>
#include <set>

#include <yaml-cpp/yaml.h>

#include "agent/agent_config.h"
#include "agent/tools/insurance/insurance_tools.h"
#include "agent/tools/webhook_tool.h"
#include "app/commands.h"

namespace artagent::app {

int AgentsCommand(int argc, char** argv) {
  auto args = ParseArgs(argc - 1, argv + 1, {}, {"help"});
  const bool usage_error = !args.ok() || args->command != "check";
  if (!args.ok() || args->Has("help") || usage_error) {
    std::fputs(
        "Usage: artagent agents check [DIR]\n\n"
        "Validates the scenarios (DIR/<name>/scenario.yaml) and agent files under DIR (default:\n"
        "agents): YAML syntax, unknown keys, slot types, transitions to unknown or unreachable\n"
        "flow nodes, the start agent, hand-off edges, unknown tools and webhook declarations.\n"
        "Prints one line per problem as FILE:LINE: message; exits 1 if there is any.\n",
        usage_error && !(args.ok() && args->Has("help")) ? stderr : stdout);
    return args.ok() && args->Has("help") ? 0 : 2;
  }
  const std::string dir = args->positional.empty() ? "agents" : args->positional[0];
  if (!std::filesystem::is_directory(dir)) {
    std::fprintf(stderr, "artagent agents check: %s is not a directory\n", dir.c_str());
    return 2;
  }
  int problems = 0, agents = 0;
  std::set<std::string> reported;  // a broken agent file fails its scenario and itself: say it once
  auto report = [&](const std::string& message) {
    if (reported.insert(message).second) {
      std::printf("%s\n", message.c_str());
      ++problems;
    }
  };
  // The built-in tools, as the server registers them (names and schemas only: nothing runs).
  std::vector<std::string> builtin;
  if (auto data = agent::InsuranceData::Open(":memory:", ""); data.ok()) {
    for (const auto& t : agent::MakeInsuranceTools(*data, nullptr)) {
      builtin.push_back(t->spec().name);
    }
  }
  const auto scenarios = agent::ListScenarios(dir);
  std::set<std::string> referenced;
  for (const auto& name : scenarios) {
    auto s = agent::LoadScenario(dir, name);
    if (!s.ok()) {
      report(s.status().message());
      continue;
    }
    for (const auto& [agent_name, a] : s->agents) {
      referenced.insert(std::filesystem::weakly_canonical(a.file).string());
      ++agents;
    }
    bool scenario_ok = true;
    try {
      YAML::Node root = YAML::LoadFile(s->file);
      if (root["tools"] && root["tools"].IsSequence()) {
        for (const auto& node : root["tools"]) {
          auto parsed = agent::ParseWebhookTool(node, s->file);
          if (!parsed.ok()) {
            report(parsed.status().message());
            scenario_ok = false;
          }
        }
      }
    } catch (const YAML::Exception&) {
    }
    for (const auto& problem : agent::CheckScenarioTools(*s, builtin)) {
      report(problem);
      scenario_ok = false;
    }
    if (!scenario_ok) continue;
    std::printf("ok  scenario %s: %zu agent(s), starts with %s\n", name.c_str(), s->agents.size(),
                s->start_agent.c_str());
  }
  // Agent files no scenario lists are still checked: they are usually about to be added.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    const auto& p = entry.path();
    if (p.extension() != ".yaml" || p.filename() == "scenario.yaml") continue;
    if (referenced.count(std::filesystem::weakly_canonical(p).string())) continue;
    auto a = agent::LoadAgentFile(p.string());
    if (!a.ok()) {
      report(a.status().message());
    } else {
      std::printf("ok  agent %s (%s, in no scenario)\n", a->name.c_str(), p.string().c_str());
    }
  }
  if (scenarios.empty()) report(dir + ": no scenario (no */scenario.yaml)");
  std::printf("%d problem(s), %zu scenario(s), %d agent(s)\n", problems, scenarios.size(), agents);
  return problems ? 1 : 0;
}

}  // namespace artagent::app
