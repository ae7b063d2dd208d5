#pragma once
// Responder: the "model" seen by the session engine — the embedded flow model, an LLM, anything
// that turns the conversation so far into a stream of text. One Responder per session (it may keep
// dialogue state); at most one response is in progress at a time.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace artagent::session {

struct HistoryItem {
  enum class Role { kUser, kAssistant, kSystem };
  std::string id;
  Role role = Role::kUser;
  std::string text;          // for the assistant: only what the caller actually heard
  bool interrupted = false;  // assistant item cut short by a barge-in or a truncation
};

struct ResponseRequest {
  const std::vector<HistoryItem>* history = nullptr;  // oldest first; valid during Respond()
  bool greeting = false;          // the session just started: say the agent's greeting
  std::string instructions;       // extra per-response instructions (Realtime response.create)
};

// Callbacks run on the session's executor, never from inside Respond() itself.
struct ResponseCallbacks {
  std::function<void(std::string_view delta)> on_text;
  // Exactly once per response unless it was cancelled first. A non-OK status means the model
  // failed; the session says a short apology instead of leaving dead air.
  std::function<void(const core::Status& status)> on_done;
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
};

}  // namespace artagent::session
