// `artagent agents check DIR`: validates every scenario and agent file under DIR.

#include <cstdio>
#include <filesystem>
#include <set>

#include "agent/agent_config.h"
#include "app/commands.h"

namespace artagent::app {

int AgentsCommand(int argc, char** argv) {
  auto args = ParseArgs(argc - 1, argv + 1, {}, {"help"});
  const bool usage_error = !args.ok() || args->command != "check";
  if (!args.ok() || args->Has("help") || usage_error) {
    std::fputs(
        "Usage: artagent agents check [DIR]\n\n"
        "Validates the scenarios (DIR/<name>/scenario.yaml) and agent files under DIR (default:\n"
        "agents): YAML syntax, required keys, slot types, transitions to unknown or unreachable\n"
        "flow nodes, the start agent. Prints one line per problem as FILE:LINE: message; exits 1\n"
        "if there is any.\n",
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
