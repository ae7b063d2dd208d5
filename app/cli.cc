#include "app/cli.h"

namespace artagent::app {

bool Args::Has(const std::string& name) const {
  for (const auto& [k, v] : flags) {
    if (k == name) return true;
  }
  return false;
}

std::string Args::Get(const std::string& name, const std::string& fallback) const {
  std::string out = fallback;
  for (const auto& [k, v] : flags) {
    if (k == name) out = v;
  }
  return out;
}

std::vector<std::string> Args::All(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : flags) {
    if (k == name) out.push_back(v);
  }
  return out;
}

core::Result<Args> ParseArgs(int argc, char** argv, const std::set<std::string>& value_flags,
                             const std::set<std::string>& bool_flags) {
  Args args;
  int i = 1;
  if (i < argc && argv[i][0] != '-') args.command = argv[i++];
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || a.size() == 2) {
      if (a == "-h") {
        args.flags.emplace_back("help", "");
        continue;
      }
      args.positional.push_back(a);
      continue;
    }
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (bool_flags.count(name)) {
      if (has_value) return core::InvalidArgumentError("--" + name + " takes no value");
      args.flags.emplace_back(name, "true");
    } else if (value_flags.count(name)) {
      if (!has_value) {
        if (i + 1 >= argc) return core::InvalidArgumentError("--" + name + " needs a value");
        value = argv[++i];
      }
      args.flags.emplace_back(name, value);
    } else {
      return core::InvalidArgumentError("unknown flag --" + name + " (see --help)");
    }
  }
  return args;
}

}  // namespace artagent::app
