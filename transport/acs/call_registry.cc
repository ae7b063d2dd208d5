#include "transport/acs/call_registry.h"

#include <algorithm>

#include "core/ids.h"

namespace artagent::transport::acs {

using nlohmann::json;

std::string_view CallStateName(CallState s) {
  switch (s) {
    case CallState::kAnswering:
      return "answering";
    case CallState::kDialing:
      return "dialing";
    case CallState::kConnected:
      return "connected";
    case CallState::kTransferring:
      return "transferring";
    case CallState::kDisconnecting:
      return "disconnecting";
    case CallState::kEnded:
      return "ended";
    case CallState::kFailed:
      return "failed";
    case CallState::kRejected:
      return "rejected";
  }
  return "unknown";
}

bool IsTerminal(CallState s) {
  return s == CallState::kEnded || s == CallState::kFailed || s == CallState::kRejected;
}

json CallInfo::ToJson() const {
  auto ms = [](int64_t v) { return v ? json(v) : json(nullptr); };
  json j = {{"id", id},
            {"direction", direction},
            {"caller", caller},
            {"callee", callee},
            {"state", CallStateName(state)},
            {"call_connection_id", call_connection_id},
            {"server_call_id", server_call_id},
            {"correlation_id", correlation_id},
            {"session_id", session_id.empty() ? json(nullptr) : json(session_id)},
            {"media_connected", media_connected},
            {"media_state", media_state},
            {"sample_rate", sample_rate},
            {"created_at_ms", created_ms},
            {"connected_at_ms", ms(connected_ms)},
            {"ended_at_ms", ms(ended_ms)},
            {"end_reason", end_reason},
            {"events", events}};
  if (participants >= 0) j["participants"] = participants;
  if (!transfer_target.empty()) j["transfer_target"] = transfer_target;
  return j;
}

namespace {
void End(CallInfo& call, CallState state, std::string reason, int64_t now_ms, CallEventEffect* fx) {
  call.state = state;
  if (call.end_reason.empty()) call.end_reason = std::move(reason);
  call.ended_ms = now_ms;
  fx->end_session = true;
  fx->session_status = state == CallState::kFailed ? "failed" : "ended";
  if (call.admitted) {
    call.admitted = false;
    fx->release = true;
  }
}
}  // namespace

CallEventEffect ApplyCallEvent(CallInfo& call, const CallEvent& e, int64_t now_ms) {
  CallEventEffect fx;
  if (call.events.size() < 64) call.events.push_back(std::string(CallEventKindName(e.kind)));
  if (!e.server_call_id.empty() && call.server_call_id.empty()) {
    call.server_call_id = e.server_call_id;
  }
  if (!e.correlation_id.empty() && call.correlation_id.empty()) {
    call.correlation_id = e.correlation_id;
  }
  if (IsTerminal(call.state)) return fx;
  fx.applied = true;
  switch (e.kind) {
    case CallEventKind::kCallConnected:
      if (call.state == CallState::kAnswering || call.state == CallState::kDialing) {
        call.state = CallState::kConnected;
        call.connected_ms = now_ms;
      }
      break;
    case CallEventKind::kCallDisconnected:
      End(call, CallState::kEnded, "disconnected", now_ms, &fx);
      break;
    case CallEventKind::kAnswerFailed:
    case CallEventKind::kCreateCallFailed:
    case CallEventKind::kConnectFailed:
      End(call, CallState::kFailed,
          std::string(CallEventKindName(e.kind)) +
              (e.result_message.empty() ? "" : ": " + e.result_message),
          now_ms, &fx);
      break;
    case CallEventKind::kCallTransferAccepted:
      if (!e.transfer_target.empty()) call.transfer_target = e.transfer_target;
      End(call, CallState::kEnded, "transferred", now_ms, &fx);
      break;
    case CallEventKind::kCallTransferFailed:
      if (call.state == CallState::kTransferring) call.state = CallState::kConnected;
      fx.transfer_failed = true;
      break;
    case CallEventKind::kMediaStreamingStarted:
    case CallEventKind::kMediaStreamingStopped:
      call.media_state = e.media_streaming_status;
      break;
    case CallEventKind::kMediaStreamingFailed:
      call.media_state =
          e.media_streaming_status.empty() ? "mediaStreamingFailed" : e.media_streaming_status;
      // Without media the agent can neither hear nor speak: leave rather than hold dead air.
      fx.hang_up = true;
      break;
    case CallEventKind::kParticipantsUpdated:
      if (e.sequence_number < 0 || e.sequence_number > call.participants_sequence) {
        call.participants = e.participant_count;
        call.participants_sequence = e.sequence_number;
      }
      break;
    case CallEventKind::kRecognizeCompleted:
    case CallEventKind::kContinuousDtmfToneReceived:
      fx.dtmf = e.dtmf;
      break;
    default:
      break;
  }
  return fx;
}

std::string CallRegistry::Add(CallInfo call) {
  if (call.id.empty()) call.id = core::NewId("call");
  if (call.token.empty()) call.token = core::NewId("tok");
  std::string id = call.id;
  std::lock_guard<std::mutex> lock(mu_);
  calls_.push_back(std::move(call));
  TrimEnded();
  return id;
}

std::optional<CallInfo> CallRegistry::Get(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& c : calls_) {
    if (c.id == id) return c;
  }
  return std::nullopt;
}

std::optional<CallInfo> CallRegistry::FindByConnection(const std::string& conn) const {
  if (conn.empty()) return std::nullopt;
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = calls_.rbegin(); it != calls_.rend(); ++it) {
    if (it->call_connection_id == conn) return *it;
  }
  return std::nullopt;
}

bool CallRegistry::Update(const std::string& id, const std::function<void(CallInfo&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& c : calls_) {
    if (c.id == id) {
      fn(c);
      TrimEnded();
      return true;
    }
  }
  return false;
}

std::vector<CallInfo> CallRegistry::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::vector<CallInfo>(calls_.rbegin(), calls_.rend());
}

bool CallRegistry::CheckToken(const std::string& id, const std::string& token) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& c : calls_) {
    if (c.id != id) continue;
    if (c.token.size() != token.size()) return false;
    unsigned diff = 0;
    for (size_t i = 0; i < token.size(); ++i)
      diff |= static_cast<unsigned char>(c.token[i] ^ token[i]);
    return diff == 0;
  }
  return false;
}

size_t CallRegistry::live_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::count_if(calls_.begin(), calls_.end(),
                       [](const CallInfo& c) { return !IsTerminal(c.state); });
}

void CallRegistry::TrimEnded() {
  size_t ended = std::count_if(calls_.begin(), calls_.end(),
                               [](const CallInfo& c) { return IsTerminal(c.state); });
  for (auto it = calls_.begin(); ended > keep_ended_ && it != calls_.end();) {
    if (IsTerminal(it->state)) {
      it = calls_.erase(it);
      --ended;
    } else {
      ++it;
    }
  }
}

}  // namespace artagent::transport::acs
