#pragma once
// Tools: what an agent can do besides talking. One ToolRegistry per server holds every tool by
// name: built-in C++ tools (registered explicitly at start-up, no static initialisers), HTTP
// webhook tools declared in YAML, and the hand-off / end-call / transfer tools the orchestrator
// generates. Agents list the tools they may use by name; `agents check` refuses unknown names.
//
// A tool runs off the session strand (built-in tools on the compute pool, webhooks on the HTTP
// client) and reports exactly once through `done`, from any thread. The orchestrator owns the
// timeout and posts the result back to the session.

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/model.h"
#include "core/executor.h"
#include "core/status.h"

namespace artagent::agent {

// What a running tool knows about the conversation that called it.
struct ToolContext {
  std::string session_id;
  std::string agent;                        // the agent whose model made the call
  nlohmann::json slots = nlohmann::json::object();  // the session's slots at call time
  std::shared_ptr<core::Executor> executor;         // the session's strand (for async tools)
  std::string traceparent;  // W3C context of the turn (telemetry): outbound calls carry it
};

// A tool's answer. `output` goes back to the model as the tool message (JSON). A non-OK status is
// a failure the model is told about ({"error": message}); the conversation goes on.
struct ToolResult {
  core::Status status;
  nlohmann::json output = nlohmann::json::object();
};

class ToolRun {
 public:
  virtual ~ToolRun() = default;
  // Best effort: a tool that cannot be stopped may still finish; its result is then ignored.
  virtual void Cancel() {}
};

class Tool {
 public:
  virtual ~Tool() = default;
  virtual const ToolSpec& spec() const = 0;
  // Safe to run twice with the same arguments (lookups): may be retried on transient failure.
  virtual bool idempotent() const { return false; }
  virtual std::chrono::milliseconds timeout() const { return std::chrono::seconds(10); }
  // Starts the call. `args` has been parsed (a JSON object) but not checked against the schema.
  // `done` must be called exactly once, from any thread, unless the run is cancelled.
  virtual std::unique_ptr<ToolRun> Invoke(const nlohmann::json& args, const ToolContext& context,
                                          std::function<void(ToolResult)> done) = 0;
};

// A synchronous built-in tool: `fn` runs on the compute pool.
using ToolFunction =
    std::function<core::Result<nlohmann::json>(const nlohmann::json& args, const ToolContext&)>;
std::unique_ptr<Tool> MakeFunctionTool(ToolSpec spec, ToolFunction fn, core::ComputePool* pool,
                                       bool idempotent = false,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

class ToolRegistry {
 public:
  // kAlreadyExists if the name is taken; kInvalidArgument for a name a model cannot call
  // (OpenAI: ^[a-zA-Z0-9_-]{1,64}$).
  core::Status Register(std::unique_ptr<Tool> tool);
  const Tool* Find(const std::string& name) const;
  std::vector<std::string> Names() const;  // sorted

 private:
  std::map<std::string, std::unique_ptr<Tool>> tools_;
};

}  // namespace artagent::agent
