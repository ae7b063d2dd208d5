#pragma once
// ScenarioCatalog: every scenario under the agents directory, loaded and checked at start-up, and
// reloaded when its files change (development hot reload). Sessions hold a shared_ptr to the
// version they started with, so an edit never changes a call in progress; a broken edit is
// reported and the previous version stays in service.
//
// Thread-safe.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/agent_config.h"
#include "core/status.h"

namespace artagent::agent {

class ScenarioCatalog {
 public:
  // Extra checks a scenario must pass (e.g. that its tools exist); "" problems = fine.
  using Validator = std::function<std::vector<std::string>(const ScenarioConfig&)>;

  // Loads every scenario under `dir`. Any error (YAML, schema, a failed check) fails the load with
  // every problem listed, each as FILE:LINE: message.
  static core::Result<std::unique_ptr<ScenarioCatalog>> Load(const std::string& dir,
                                                             Validator validate,
                                                             std::chrono::seconds reload_every);

  // The current version of a scenario; nullptr if there is none by that name. Checks the files
  // for changes first when the reload interval has passed.
  std::shared_ptr<const ScenarioConfig> Get(const std::string& name);
  std::vector<std::string> Names() const;
  // Checks for changed files now; returns how many scenarios were reloaded.
  int ReloadChanged();
  uint64_t reloads() const;

 private:
  ScenarioCatalog(std::string dir, Validator validate, std::chrono::seconds every);
  // Files of a scenario with their modification times and sizes: changes when any is edited.
  std::string Fingerprint(const std::string& name) const;
  core::Result<std::shared_ptr<const ScenarioConfig>> LoadOne(const std::string& name) const;

  const std::string dir_;
  const Validator validate_;
  const std::chrono::seconds every_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const ScenarioConfig>> scenarios_;
  std::map<std::string, std::string> fingerprints_;
  std::chrono::steady_clock::time_point last_check_;
  uint64_t reloads_ = 0;
};

}  // namespace artagent::agent
