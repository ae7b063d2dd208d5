#pragma once
// The `artagent` subcommands. Each returns the process exit code.

#include "app/cli.h"
#include "platform/config.h"

namespace artagent::app {

int ServeCommand(int argc, char** argv);
int ConverseCommand(int argc, char** argv);
int GenCertCommand(int argc, char** argv);
int AgentsCommand(int argc, char** argv);
int LoadgenCommand(int argc, char** argv);

// Loads defaults < file (--config, else ./artagent.yaml if present) < environment, prints
// warnings, applies the log settings. `effective` (optional) receives the provenance JSON.
core::Result<platform::Config> LoadConfig(const Args& args, nlohmann::json* effective = nullptr);

}  // namespace artagent::app
