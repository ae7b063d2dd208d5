#pragma once
// CallRegistry: the phone calls this server handles, each with its state machine, session id,
// caller, timestamps and the Call Automation events applied to it. Thread-safe (one mutex): Event
// Grid and callback handlers run on I/O threads, media sockets on their strands, REST results on
// the ACS strand.
//
// State machine (terminal states never change; events arriving after them are only logged, which
// makes duplicated and out-of-order callbacks harmless):
//   inbound:  answering -> connected -> [transferring -> connected] -> disconnecting -> ended
//   outbound: dialing   -> connected -> ...
//   any live state -> ended (CallDisconnected, transfer accepted) | failed (AnswerFailed, ...)
//   refused calls are recorded as rejected.

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "transport/acs/call_events.h"

namespace artagent::transport::acs {

enum class CallState {
  kAnswering,
  kDialing,
  kConnected,
  kTransferring,
  kDisconnecting,
  kEnded,
  kFailed,
  kRejected,
};
std::string_view CallStateName(CallState state);
bool IsTerminal(CallState state);

struct CallInfo {
  std::string id;         // ours: "call_..."
  std::string token;      // per-call secret carried in our callback and media URLs; never listed
  std::string direction;  // "inbound" | "outbound"
  std::string caller;     // E.164 or raw id
  std::string callee;
  std::string call_connection_id;  // ACS's, once answered / created
  std::string server_call_id;
  std::string correlation_id;
  std::string incoming_call_context;  // never listed
  CallState state = CallState::kAnswering;
  std::string session_id;
  std::string end_reason;
  std::string media_state;  // last mediaStreamingStatus
  std::string transfer_target;
  int participants = -1;
  int64_t participants_sequence = -1;
  bool media_connected = false;
  bool admitted = false;  // holds one Runtime admission slot until it ends
  int sample_rate = 16000;
  int64_t created_ms = 0;  // unix time
  int64_t connected_ms = 0;
  int64_t ended_ms = 0;
  std::vector<std::string> events;  // "CallConnected", ... in arrival order (at most 64)

  // For GET /api/v1/calls: no token, no call context.
  nlohmann::json ToJson() const;
};

// What the app has to do after an event was applied (outside the registry lock).
struct CallEventEffect {
  bool applied = false;      // false: duplicate-free but ignored (terminal call, stale event)
  bool end_session = false;  // close the session / media socket with `session_status`
  std::string session_status;
  bool release = false;  // give the admission slot back
  bool hang_up = false;  // ask ACS to hang up (e.g. media streaming failed)
  bool transfer_failed = false;
  std::string dtmf;  // keys to hand to the session
};

// The pure state machine: applies `event` to `call`. `now_ms` is unix time.
CallEventEffect ApplyCallEvent(CallInfo& call, const CallEvent& event, int64_t now_ms);

class CallRegistry {
 public:
  explicit CallRegistry(size_t keep_ended = 200) : keep_ended_(keep_ended) {}

  // Adds a call; assigns `id` and `token` when empty. Returns the id.
  std::string Add(CallInfo call);
  std::optional<CallInfo> Get(const std::string& id) const;
  std::optional<CallInfo> FindByConnection(const std::string& call_connection_id) const;
  // Runs `fn` on the call under the lock; false if there is no such call.
  bool Update(const std::string& id, const std::function<void(CallInfo&)>& fn);
  // Newest first.
  std::vector<CallInfo> List() const;
  // Constant-time comparison of the call's token; false for unknown calls.
  bool CheckToken(const std::string& id, const std::string& token) const;
  size_t live_count() const;

 private:
  void TrimEnded();  // under mu_

  mutable std::mutex mu_;
  size_t keep_ended_;
  std::deque<CallInfo> calls_;  // oldest first
};

}  // namespace artagent::transport::acs
