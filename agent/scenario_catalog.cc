#include "agent/scenario_catalog.h"

#include <algorithm>
#include <filesystem>

#include "core/log.h"

namespace artagent::agent {

namespace fs = std::filesystem;

ScenarioCatalog::ScenarioCatalog(std::string dir, Validator validate, std::chrono::seconds every)
    : dir_(std::move(dir)), validate_(std::move(validate)), every_(every) {
  last_check_ = std::chrono::steady_clock::now();
}

core::Result<std::unique_ptr<ScenarioCatalog>> ScenarioCatalog::Load(
    const std::string& dir, Validator validate, std::chrono::seconds reload_every) {
  std::unique_ptr<ScenarioCatalog> c(new ScenarioCatalog(dir, std::move(validate), reload_every));
  std::vector<std::string> names = ListScenarios(dir);
  if (names.empty()) {
    return core::NotFoundError("no scenarios under '" + dir +
                               "' (a scenario is a folder holding scenario.yaml)");
  }
  std::string problems;
  for (const auto& name : names) {
    auto s = c->LoadOne(name);
    if (!s.ok()) {
      problems += (problems.empty() ? "" : "\n") + s.status().message();
      continue;
    }
    c->scenarios_[name] = *s;
    c->fingerprints_[name] = c->Fingerprint(name);
  }
  if (!problems.empty()) return core::InvalidArgumentError(problems);
  return c;
}

core::Result<std::shared_ptr<const ScenarioConfig>> ScenarioCatalog::LoadOne(
    const std::string& name) const {
  auto s = LoadScenario(dir_, name);
  if (!s.ok()) return s.status();
  if (validate_) {
    std::vector<std::string> problems = validate_(*s);
    if (!problems.empty()) {
      std::string all;
      for (const auto& p : problems) all += (all.empty() ? "" : "\n") + p;
      return core::InvalidArgumentError(all);
    }
  }
  return std::shared_ptr<const ScenarioConfig>(
      std::make_shared<ScenarioConfig>(std::move(s).value()));
}

std::string ScenarioCatalog::Fingerprint(const std::string& name) const {
  std::vector<std::string> parts;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(fs::path(dir_) / name, ec)) {
    const std::string ext = e.path().extension().string();
    if (ext != ".yaml" && ext != ".yml") continue;
    auto t = fs::last_write_time(e.path(), ec);
    parts.push_back(e.path().string() + ":" + std::to_string(t.time_since_epoch().count()) + ":" +
                    std::to_string(fs::file_size(e.path(), ec)));
  }
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) out += p + "\n";
  return out;
}

std::shared_ptr<const ScenarioConfig> ScenarioCatalog::Get(const std::string& name) {
  if (every_.count() > 0) {
    bool due = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto now = std::chrono::steady_clock::now();
      if (now - last_check_ >= every_) {
        last_check_ = now;
        due = true;
      }
    }
    if (due) ReloadChanged();
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = scenarios_.find(name);
  return it == scenarios_.end() ? nullptr : it->second;
}

std::vector<std::string> ScenarioCatalog::Names() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, s] : scenarios_) out.push_back(name);
  return out;
}

uint64_t ScenarioCatalog::reloads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reloads_;
}

int ScenarioCatalog::ReloadChanged() {
  int reloaded = 0;
  for (const auto& name : ListScenarios(dir_)) {
    const std::string fp = Fingerprint(name);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = fingerprints_.find(name);
      if (it != fingerprints_.end() && it->second == fp) continue;
      fingerprints_[name] = fp;  // a broken version is reported once, not on every check
    }
    auto s = LoadOne(name);
    if (!s.ok()) {
      core::LogError("agents",
                     "scenario '{}' changed but does not load; keeping the previous "
                     "version: {}",
                     name, s.status().message());
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    scenarios_[name] = *s;
    ++reloads_;
    ++reloaded;
    core::LogInfo("agents", "scenario '{}' reloaded", name);
  }
  return reloaded;
}

}  // namespace artagent::agent
