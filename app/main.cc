// artagent: a real-time voice agent server. `artagent --help` lists the commands.

#include <cstdio>
#include <cstring>
#include <string>

#include "app/acs_routes.h"
#include "app/commands.h"

namespace {

constexpr char kUsage[] = R"(artagent — real-time voice agents: browser, phone and OpenAI-Realtime clients

Usage: artagent <command> [flags]

Commands:
  serve       run the server: web console, /v1/realtime, API, metrics
  converse    run whole turns offline from WAV files / typed text; one JSON line per turn
  gen-cert    write a self-signed development certificate (for wss:// clients)
  agents      check DIR: validate agent and scenario YAML (file:line errors)
  call        --simulate: call an agent by phone through a local ACS simulator
  loadgen     N concurrent callers against a server: latency, jitter, errors, CPU per session

Run 'artagent <command> --help' for the flags of a command.
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string command = argv[1];
  if (command == "serve") return artagent::app::ServeCommand(argc, argv);
  if (command == "converse") return artagent::app::ConverseCommand(argc, argv);
  if (command == "gen-cert") return artagent::app::GenCertCommand(argc, argv);
  if (command == "agents") return artagent::app::AgentsCommand(argc, argv);
  if (command == "call") return artagent::app::CallCommand(argc, argv);
  if (command == "loadgen") return artagent::app::LoadgenCommand(argc, argv);
  if (command == "--version" || command == "version") {
    std::puts("artagent 0.1.0");
    return 0;
  }
  std::fprintf(stderr, "artagent: unknown command '%s'\n\n%s", command.c_str(), kUsage);
  return 2;
}
