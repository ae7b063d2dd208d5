#include "agent/tools/tool.h"

#include <fmt/format.h>

#include <atomic>
#include <exception>
#include <utility>

#include "core/log.h"

namespace artagent::agent {
namespace {

bool IsCallableName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

ToolResult Failure(core::Status status) {
  ToolResult result;
  result.output = nlohmann::json{{"error", status.message()}};
  result.status = std::move(status);
  return result;
}

// Shared between the run handle and the queued job: a run cancelled before its job starts never
// calls the function, and one cancelled while it runs never reports.
struct RunState {
  std::atomic<bool> cancelled{false};
};

class FunctionRun : public ToolRun {
 public:
  explicit FunctionRun(std::shared_ptr<RunState> state) : state_(std::move(state)) {}
  void Cancel() override { state_->cancelled.store(true); }

 private:
  std::shared_ptr<RunState> state_;
};

class FunctionTool : public Tool {
 public:
  FunctionTool(ToolSpec spec, ToolFunction fn, core::ComputePool* pool, bool idempotent,
               std::chrono::milliseconds timeout)
      : spec_(std::move(spec)),
        fn_(std::make_shared<ToolFunction>(std::move(fn))),
        pool_(pool),
        idempotent_(idempotent),
        timeout_(timeout) {}

  const ToolSpec& spec() const override { return spec_; }
  bool idempotent() const override { return idempotent_; }
  std::chrono::milliseconds timeout() const override { return timeout_; }

  std::unique_ptr<ToolRun> Invoke(const nlohmann::json& args, const ToolContext& context,
                                  std::function<void(ToolResult)> done) override {
    auto state = std::make_shared<RunState>();
    // The job owns copies of everything it reads: the caller's arguments and context may be gone
    // by the time a worker picks it up.
    auto job = [fn = fn_, name = spec_.name, args, context, state, done]() mutable {
      if (state->cancelled.load()) return;
      ToolResult result = Run(*fn, name, args, context);
      if (state->cancelled.load()) return;
      done(std::move(result));
    };
    if (pool_ == nullptr || !pool_->TrySubmit(std::move(job))) {
      core::LogWarn("tools", "tool '{}' refused: the compute queue is full", spec_.name);
      done(Failure(core::UnavailableError("tool queue full")));
    }
    return std::make_unique<FunctionRun>(std::move(state));
  }

 private:
  static ToolResult Run(const ToolFunction& fn, const std::string& name, const nlohmann::json& args,
                        const ToolContext& context) {
    try {
      core::Result<nlohmann::json> out = fn(args, context);
      if (!out.ok()) return Failure(out.status());
      ToolResult result;
      result.output = std::move(out).value();
      return result;
    } catch (const std::exception& e) {
      core::LogError("tools", "tool '{}' threw: {}", name, e.what());
      return Failure(core::InternalError(fmt::format("tool '{}' failed: {}", name, e.what())));
    } catch (...) {
      core::LogError("tools", "tool '{}' threw a non-standard exception", name);
      return Failure(core::InternalError(fmt::format("tool '{}' failed", name)));
    }
  }

  ToolSpec spec_;
  std::shared_ptr<ToolFunction> fn_;
  core::ComputePool* pool_;
  bool idempotent_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<Tool> MakeFunctionTool(ToolSpec spec, ToolFunction fn, core::ComputePool* pool,
                                       bool idempotent, std::chrono::milliseconds timeout) {
  return std::make_unique<FunctionTool>(std::move(spec), std::move(fn), pool, idempotent, timeout);
}

core::Status ToolRegistry::Register(std::unique_ptr<Tool> tool) {
  if (tool == nullptr) return core::InvalidArgumentError("cannot register a null tool");
  const std::string& name = tool->spec().name;
  if (!IsCallableName(name)) {
    return core::InvalidArgumentError(fmt::format(
        "tool name '{}' cannot be called by a model: use 1 to 64 letters, digits, '_' or '-'",
        name));
  }
  if (tools_.count(name) != 0) {
    return core::AlreadyExistsError(fmt::format("a tool named '{}' is already registered", name));
  }
  tools_.emplace(name, std::move(tool));
  return core::OkStatus();
}

const Tool* ToolRegistry::Find(const std::string& name) const {
  auto it = tools_.find(name);
  return it == tools_.end() ? nullptr : it->second.get();
}

std::vector<std::string> ToolRegistry::Names() const {
  std::vector<std::string> names;
  names.reserve(tools_.size());
  for (const auto& [name, tool] : tools_) names.push_back(name);
  return names;
}

}  // namespace artagent::agent
