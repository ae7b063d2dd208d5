#pragma once
// FlowModel: the embedded, deterministic dialogue model. It walks an agent's `flow` (nodes with a
// prompt, expected answers or a typed slot, and transitions) and answers through the same stream
// of text deltas an LLM produces, so everything above it — chunking, TTS, barge-in, history — is
// shared with the cloud models.

#include <map>
#include <memory>
#include <string>

#include "agent/agent_config.h"
#include "core/executor.h"
#include "session/responder.h"

namespace artagent::agent {

class FlowModel : public session::Responder {
 public:
  // `agent` must outlive the model. Callbacks are posted on `executor` (the session's).
  FlowModel(const AgentConfig* agent, core::Executor* executor);

  std::string agent_name() const override { return agent_->name; }
  std::unique_ptr<session::ResponseStream> Respond(const session::ResponseRequest& request,
                                                   session::ResponseCallbacks callbacks) override;
  // The current node's grammar when the agent enables grammar recognition (speech.grammar).
  std::string ExpectedGrammar() const override;

  // Dialogue state, for tests and the session API.
  const std::string& current_node() const { return node_; }
  const std::map<std::string, std::string>& slots() const { return slots_; }

  // The reply to a caller utterance (advances the dialogue). Exposed for tests.
  std::string Advance(const std::string& caller_text);
  std::string Greet();

 private:
  std::string Enter(const std::string& node_id);
  std::string Render(const std::string& templ) const;

  const AgentConfig* agent_;
  core::Executor* executor_;
  std::string node_;
  std::map<std::string, std::string> slots_;
  int no_match_count_ = 0;
};

}  // namespace artagent::agent
