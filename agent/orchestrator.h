#pragma once
// Orchestrator: the Responder a session talks to when it runs a scenario. It keeps which agent is
// answering, the session's memory, and one model per agent (the flow model or an LLM), and runs
// the tool loop: model -> tool calls (run off the strand, with timeouts) -> results back to the
// model -> ... until the model answers without calling a tool. Hand-off tools generated from the
// scenario's edges switch the agent (announced: the new agent greets; discrete: it carries on);
// end_call / transfer_call become CallControl for the transport; tools the Realtime client
// declared end the response with the call pending.
//
// Used on the session's strand only.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/agent_config.h"
#include "agent/memory.h"
#include "agent/model.h"
#include "agent/tools/tool.h"
#include "core/executor.h"
#include "session/responder.h"

namespace artagent::platform {
class Metrics;
}

namespace artagent::agent {

// Creates the LLM model of an agent whose provider is not "flow" (the app knows the endpoints).
using ModelFactory = std::function<core::Result<std::unique_ptr<Model>>(
    const AgentConfig& agent, std::shared_ptr<core::Executor> executor)>;

struct OrchestratorOptions {
  std::string session_id;
  std::string default_provider = "flow";  // model.provider: for agents that do not pin one
  int max_tool_iterations = 5;            // model calls per response that follow tool results
};

// A scenario's `email:` rendered when its session ends (agent_config.h ScenarioEmail).
struct CallSummary {
  std::string session_id;
  std::string scenario;
  std::vector<std::string> to;
  std::string subject;
  std::string body;
  std::string transcript;  // "Caller: ..." / "Agent (name): ..." lines; empty = not attached
};

struct OrchestratorDeps {
  std::shared_ptr<const ScenarioConfig> scenario;
  const ToolRegistry* tools = nullptr;  // may be null: only generated tools then
  ModelFactory model_factory;           // may be empty when every agent runs on flow
  std::shared_ptr<core::Executor> executor;
  platform::Metrics* metrics = nullptr;
  // Called once, from the destructor, when the scenario has an `email:` that is due (its `when`
  // slot is set and `to` renders to an address). Must not block: hand the sending elsewhere.
  std::function<void(CallSummary)> on_call_summary;
};

class Orchestrator : public session::Responder {
 public:
  Orchestrator(OrchestratorDeps deps, OrchestratorOptions options);
  ~Orchestrator() override;

  std::string agent_name() const override { return current_; }
  std::unique_ptr<session::ResponseStream> Respond(const session::ResponseRequest& request,
                                                   session::ResponseCallbacks callbacks) override;
  std::string ExpectedGrammar() const override;
  session::AgentSpeech speech() const override;

  const Memory& memory() const { return memory_; }
  // The tools an agent is offered: its `tools:` (registry, webhooks, end_call, transfer_call)
  // plus the hand-off tools of its edges.
  std::vector<ToolSpec> ToolsFor(const AgentConfig& agent) const;

 private:
  class Turn;
  friend class Turn;

  const AgentConfig& Current() const;
  // The agent's model, created on first use. nullptr + status on failure.
  core::Result<Model*> ModelFor(const AgentConfig& agent);
  std::string ProviderOf(const AgentConfig& agent) const;
  // The chat an agent sees: its system prompt, then the conversation (all of it when the last
  // hand-off shared context, else what followed it plus the caller's last words).
  std::vector<ChatMessage> MessagesFor(const AgentConfig& agent,
                                       const std::vector<session::HistoryItem>& history) const;
  std::string SystemPrompt(const AgentConfig& agent) const;

  OrchestratorDeps deps_;
  OrchestratorOptions opts_;
  std::string current_;
  std::set<std::string> visited_;
  Memory memory_;
  std::map<std::string, std::unique_ptr<Model>> models_;
  std::map<std::string, bool> share_context_;  // agent -> how the last hand-off to it was made
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  // The conversation as of the last response (for the call summary's transcript).
  std::vector<session::HistoryItem> last_history_;
  // The summary of the session, if the scenario's `email:` is due.
  std::optional<CallSummary> Summary();
};

}  // namespace artagent::agent
