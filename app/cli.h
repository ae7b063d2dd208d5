#pragma once
// Command-line parsing for `artagent <command> [flags]`: "--name value", "--name=value", repeated
// flags keep every value in order, boolean flags take no value.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace artagent::app {

struct Args {
  std::string command;
  // Every flag occurrence in command-line order: {"in", "a.wav"}, {"text", "hi"}, ...
  std::vector<std::pair<std::string, std::string>> flags;
  std::vector<std::string> positional;

  bool Has(const std::string& name) const;
  // The last value given for `name`, or `fallback`.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> All(const std::string& name) const;
};

// `value_flags` take a value; `bool_flags` do not. Anything else is an error naming the flag.
core::Result<Args> ParseArgs(int argc, char** argv, const std::set<std::string>& value_flags,
                             const std::set<std::string>& bool_flags);

}  // namespace artagent::app
