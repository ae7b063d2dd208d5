#pragma once
// Model: what the agent layer asks for the next piece of a reply. The embedded flow model and the
// OpenAI-compatible chat-completions model both implement it, so the tool loop, hand-offs, memory,
// chunking, TTS and barge-in above it are shared.
//
// A model turns a chat (system prompt, messages, tool results) plus the tools it may call into a
// stream of text deltas and complete tool calls. It does not run tools: the Orchestrator does,
// appends the results to the messages and calls Stream() again (the tool loop).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace artagent::agent {

// One call the model asks for. `arguments` is the JSON text exactly as the model produced it (it
// may be malformed: the orchestrator validates it before running the tool).
struct ToolCall {
  std::string id;  // "call_..." (generated when the model gives none)
  std::string name;
  std::string arguments;
};

struct ChatMessage {
  enum class Role { kSystem, kUser, kAssistant, kTool };
  Role role = Role::kUser;
  std::string content;
  std::vector<ToolCall> tool_calls;  // assistant messages that call tools
  std::string tool_call_id;          // tool messages: the call answered
  std::string name;                  // tool messages: the tool's name
  bool dtmf = false;                 // user messages typed on the keypad ("1234#")
};

// A tool as offered to a model: OpenAI function-tool shape.
struct ToolSpec {
  std::string name;
  std::string description;
  nlohmann::json parameters = nlohmann::json::object();  // JSON Schema of the arguments
};

struct ModelRequest {
  std::vector<ChatMessage> messages;  // oldest first; the system prompt first when there is one
  std::vector<ToolSpec> tools;
  // The agent has just become active (session start, or an announced hand-off) and should
  // greet; messages hold the context it was given.
  bool greeting = false;
  // The caller said nothing for the agent's no-input timeout: re-prompt.
  bool no_input = false;
  // W3C traceparent of the caller's span (telemetry); the request to the model carries it.
  std::string traceparent;
  // Something happened outside the conversation ("transfer_failed: ..."): react to it now.
  std::string event;
};

struct ModelUsage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t total_tokens = 0;
};

struct ModelResult {
  std::string finish_reason;  // "stop" | "tool_calls" | "length" | "content_filter" | ...
  ModelUsage usage;
  double first_token_ms = -1;  // request sent -> first text delta or tool-call fragment
  int attempts = 1;            // HTTP attempts made (retries + 1)
};

// Callbacks are posted to the executor the model was created with, never run inside Stream().
struct ModelCallbacks {
  std::function<void(std::string_view delta)> on_text;
  // Each complete tool call, in the order the model produced them (parallel calls: several).
  std::function<void(ToolCall call)> on_tool_call;
  // Exactly once unless cancelled first. Non-OK: the model failed (after any retries); text and
  // calls delivered before stay valid.
  std::function<void(const core::Status& status, const ModelResult& result)> on_done;
};

class ModelStream {
 public:
  virtual ~ModelStream() = default;
  // No callback runs after Cancel() returns (on the model's executor). Destroying cancels.
  virtual void Cancel() = 0;
};

class Model {
 public:
  virtual ~Model() = default;
  // "flow", "openai:gpt-4o-mini", ... (logs, metrics, the session API).
  virtual std::string name() const = 0;
  virtual std::unique_ptr<ModelStream> Stream(const ModelRequest& request,
                                              ModelCallbacks callbacks) = 0;
};

}  // namespace artagent::agent
