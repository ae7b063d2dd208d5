#pragma once
// Responder: the "model" seen by the session engine — the embedded flow model, an LLM, anything
// that turns the conversation so far into a stream of text. One Responder per session (it may keep
// dialogue state); at most one response is in progress at a time.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace artagent::session {

// A tool call as the session records it: the call and, once it ended, its output. A call and its
// output are always one history item, so a barge-in cannot leave a call without an answer.
struct ToolCallInfo {
  std::string call_id;
  std::string name;
  std::string arguments;  // JSON text, as the model produced it
  std::string agent;      // whose model called it
  std::string output;     // JSON text given back to the model ("" while running)
  // "running" | "completed" | "failed" | "timeout" | "cancelled" | "client" (a tool the Realtime
  // client runs itself: the output arrives as a conversation item)
  std::string status = "running";
  double duration_ms = -1;
};

// The conversation passed from one agent to another (scenario edge).
struct HandoffInfo {
  std::string from;
  std::string to;
  std::string type = "announced";  // "announced": the new agent greets; "discrete": it carries on
  bool share_context = true;       // the new agent sees the conversation so far
  std::string reason;
};

// A typed value the agent collected (memory). `value` is JSON text.
struct SlotInfo {
  std::string name;
  std::string type;
  std::string value;
  std::string agent;
};

// The agent ends the call, or asks the transport to transfer the caller, once it has finished
// speaking.
struct CallControl {
  enum class Kind { kEndCall, kTransfer };
  Kind kind = Kind::kEndCall;
  std::string target;  // transfer: phone number ("+1...") or SIP URI
  std::string reason;
};

struct HistoryItem {
  enum class Role { kUser, kAssistant, kSystem, kTool, kHandoff };
  std::string id;
  Role role = Role::kUser;
  std::string text;          // for the assistant: only what the caller actually heard
  bool interrupted = false;  // assistant item cut short by a barge-in or a truncation
  std::string agent;         // assistant, tool and hand-off items: the agent speaking/acting
  bool dtmf = false;         // user item typed on the keypad
  ToolCallInfo tool;         // kTool
  HandoffInfo handoff;       // kHandoff
};

struct ResponseRequest {
  const std::vector<HistoryItem>* history = nullptr;  // oldest first; valid during Respond()
  bool greeting = false;     // the session just started: say the agent's greeting
  bool no_input = false;     // the caller said nothing for speech().no_input_timeout_ms
  std::string instructions;  // extra per-response instructions (Realtime response.create)
  // Something happened outside the conversation that the agent must react to now
  // (Session::Notify), e.g. "transfer_failed: ...". It is also the last history item (kSystem).
  std::string event;
  // Tools the Realtime client declared (session.update "tools", OpenAI function shape). When the
  // model calls one, the response ends with that call pending (status "client").
  const std::vector<nlohmann::json>* client_tools = nullptr;
  // W3C traceparent of the turn's span (telemetry): outbound calls made for this response are its
  // children. Empty when telemetry is off.
  std::string traceparent;
};

// Callbacks run on the session's executor, never from inside Respond() itself.
struct ResponseCallbacks {
  std::function<void(std::string_view delta)> on_text;
  // Exactly once per response unless it was cancelled first. A non-OK status means the model
  // failed; the session says a short apology instead of leaving dead air.
  std::function<void(const core::Status& status)> on_done;

  // Optional: what the agent does besides talking, in the order it happens.
  std::function<void(const ToolCallInfo& call)> on_tool_started;
  std::function<void(const ToolCallInfo& call)> on_tool_finished;  // output and status set
  std::function<void(const HandoffInfo& handoff)> on_handoff;      // the new agent answers now
  std::function<void(const SlotInfo& slot)> on_slot;
  std::function<void(const CallControl& control)> on_call_control;
};

// Per-agent speech settings (agent YAML `voice`, `speech`), applied when the agent takes over.
struct AgentSpeech {
  std::string voice;               // "" = keep the session's
  int end_of_turn_silence_ms = 0;  // 0 = keep the session's
  // Re-prompt (ResponseRequest::no_input) when the caller stays silent this long after the
  // agent finished speaking; 0 = never.
  int no_input_timeout_ms = 0;
  std::vector<std::string> phrase_hints;
};

// A response in progress. Destroying it, or Cancel(), stops it: no callback runs afterwards.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  virtual void Cancel() = 0;
};

class Responder {
 public:
  virtual ~Responder() = default;
  // Name of the agent currently answering (shown to clients; changes on hand-off).
  virtual std::string agent_name() const = 0;
  virtual std::unique_ptr<ResponseStream> Respond(const ResponseRequest& request,
                                                  ResponseCallbacks callbacks) = 0;
  // What the recognizer should expect in the caller's next turn, as a JSGF grammar; empty for
  // open vocabulary. Asked after each response.
  virtual std::string ExpectedGrammar() const { return {}; }
  // Speech settings of the agent currently answering. Asked at start and after each hand-off.
  virtual AgentSpeech speech() const { return {}; }
};

}  // namespace artagent::session
