#pragma once
// FlowModel: the embedded, deterministic dialogue model. It walks an agent's `flow` (nodes with a
// prompt, expected answers or a typed slot, tool calls, hand-offs and transitions) and answers
// through the same stream of text deltas and tool calls an LLM produces, so everything above it —
// the tool loop, hand-offs, memory, chunking, TTS, barge-in — is shared with the cloud models.
//
// What it reacts to is the tail of the request: a greeting request enters the start node; a user
// message is the caller's answer to the current node (DTMF answers digit slots and menus); a tool
// message is the result of the call the current node made; a no-input request re-prompts.
// One FlowModel per agent per session (it keeps the dialogue state); used on the session strand.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/agent_config.h"
#include "agent/memory.h"
#include "agent/model.h"
#include "core/executor.h"

namespace artagent::agent {

class FlowModel : public Model {
 public:
  // `scenario`, `agent` and `memory` must outlive the model. Callbacks are posted on `executor`.
  FlowModel(const ScenarioConfig* scenario, const AgentConfig* agent, Memory* memory,
            std::shared_ptr<core::Executor> executor);

  std::string name() const override { return "flow"; }
  std::unique_ptr<ModelStream> Stream(const ModelRequest& request,
                                      ModelCallbacks callbacks) override;

  // The current node's grammar when the agent enables grammar recognition (speech.grammar).
  std::string ExpectedGrammar() const;
  const std::string& current_node() const { return node_; }

  // One step of the dialogue: what to say, and the call to make after saying it.
  struct Step {
    std::string text;
    std::optional<ToolCall> call;
  };
  Step Start();
  Step Hear(const std::string& caller_text, bool dtmf);
  Step NoInput();
  // Something happened outside the conversation (ModelRequest::event). A failed transfer goes to
  // the transfer node's on_failure (default: an apology and the flow's start); anything else
  // repeats the current prompt.
  Step Event(const std::string& event);
  Step ToolResult(const std::string& output_json);
  // A discrete hand-off: the caller's last words were meant for this agent too. The first node
  // that waits for an answer takes them as its answer when they fit (its question is then not
  // asked at all); otherwise it asks as usual.
  void CarryOver(std::string caller_text) { carry_ = std::move(caller_text); }
  // Today's date for relative dates ("yesterday"); the system's local date unless set (tests).
  void SetToday(CalendarDate today) { today_ = today; }

 private:
  void Enter(const std::string& node_id, Step* step);
  void Retry(const FlowNode& node, const std::string& problem, bool no_input, Step* step);
  void Accept(const FlowNode& node, const SlotValue& value, Step* step);
  // Whether `text` answers `node` (an answer's keywords, or a slot value that parses).
  bool Fits(const FlowNode& node, const std::string& text) const;
  void Apply(const SlotAssignments& set, const nlohmann::json* result);
  ToolCall Call(const std::string& name, nlohmann::json args);
  CalendarDate Today() const;

  const ScenarioConfig* scenario_;
  const AgentConfig* agent_;
  Memory* memory_;
  std::shared_ptr<core::Executor> executor_;
  std::string node_;
  int retries_ = 0;
  std::optional<SlotValue> pending_;  // filled, waiting for the caller's confirmation
  bool awaiting_result_ = false;      // the node's tool call is out
  std::optional<CalendarDate> today_;
  std::string carry_;
};

}  // namespace artagent::agent
