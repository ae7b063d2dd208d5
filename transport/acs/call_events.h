#pragma once
// Call Automation callbacks (protocols.md §1.7): the CloudEvents ACS POSTs to our callback URI,
// parsed into one flat CallEvent per event, and an EventDeduplicator for idempotency by event id
// (ACS retries deliveries; duplicates must not be applied twice).
//
// Correlate by `call_connection_id` (data.callConnectionId) and `operation_context`; never by the
// envelope's `source`, whose shape varies.

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/status.h"

namespace artagent::transport::acs {

enum class CallEventKind {
  kCallConnected,
  kCallDisconnected,
  kAnswerFailed,
  kCreateCallFailed,
  kConnectFailed,
  kCallTransferAccepted,
  kCallTransferFailed,
  kParticipantsUpdated,
  kPlayStarted,
  kPlayCompleted,
  kPlayCanceled,
  kPlayFailed,
  kRecognizeCompleted,
  kRecognizeFailed,
  kRecognizeCanceled,
  kContinuousDtmfToneReceived,
  kMediaStreamingStarted,
  kMediaStreamingStopped,
  kMediaStreamingFailed,
  kRecordingStateChanged,
  kOther,  // a valid event of a type we do not act on (kept in the call's event log)
};

// "CallConnected", ... ("Other" for kOther).
std::string_view CallEventKindName(CallEventKind kind);

struct CallEvent {
  std::string id;    // envelope id (idempotency key)
  std::string type;  // full type: "Microsoft.Communication.CallConnected"
  CallEventKind kind = CallEventKind::kOther;
  std::string time;
  std::string call_connection_id;
  std::string server_call_id;
  std::string correlation_id;
  std::string operation_context;
  int result_code = 0;  // resultInformation.code (0 when absent)
  int result_sub_code = 0;
  std::string result_message;
  // RecognizeCompleted (dtmfResult.tones or collectTonesResult.tones) and
  // ContinuousDtmfRecognitionToneReceived: the keys, as characters ("980#").
  std::string dtmf;
  std::string recognition_type;        // "dtmf" | "speech" | "choices"
  std::string speech_text;             // speechResult.speech / choiceResult.label
  std::string media_streaming_status;  // mediaStreamingUpdate.mediaStreamingStatus
  std::string media_streaming_details;
  int participant_count = -1;  // ParticipantsUpdated
  int64_t sequence_number = -1;
  std::string transfer_target;  // CallTransferAccepted: transferTarget raw id / phone number
  std::string recording_id;
  std::string recording_state;  // "active" | "inactive"
};

struct CallbackDelivery {
  std::vector<CallEvent> events;
  std::vector<std::string> errors;  // malformed entries, skipped
};

// Parses a callback body: a JSON array of CloudEvents (or one object). kInvalidArgument when the
// body is not JSON / not events; an event without id, type or data.callConnectionId goes to
// `errors`.
core::Result<CallbackDelivery> ParseCallbackEvents(std::string_view body);

// Builds one CloudEvent (array of one) as ACS sends it; for the simulator and tests. `data_extra`
// is a JSON object text merged into `data` ("" for none).
std::string EncodeCallbackEvent(const std::string& id, const std::string& event_name,
                                const std::string& call_connection_id,
                                const std::string& operation_context,
                                const std::string& data_extra = "");

// Remembers the last `capacity` event ids. Thread-safe.
class EventDeduplicator {
 public:
  explicit EventDeduplicator(size_t capacity = 4096) : capacity_(capacity) {}
  // True the first time `id` is seen (and records it); false for a duplicate. An empty id is
  // never a duplicate.
  bool FirstTime(const std::string& id);

 private:
  std::mutex mu_;
  size_t capacity_;
  std::deque<std::string> order_;
  std::unordered_set<std::string> seen_;
};

// "pound" -> '#', "five" -> '5', "A" -> 'A'; 0 if unknown.
char ToneToChar(std::string_view tone);

}  // namespace artagent::transport::acs
