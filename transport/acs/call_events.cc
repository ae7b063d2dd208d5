#include "transport/acs/call_events.h"

#include <cctype>
#include <cstdint>

#include <nlohmann/json.hpp>

namespace artagent::transport::acs {
namespace {

using nlohmann::json;

std::string Str(const json& obj, const char* name) {
  if (!obj.is_object()) return {};
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int Int(const json& obj, const char* name) {
  if (!obj.is_object()) return 0;
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_number_integer()) return 0;
  const int64_t v = it->get<int64_t>();
  return v < INT32_MIN || v > INT32_MAX ? 0 : static_cast<int>(v);
}

struct KindName {
  CallEventKind kind;
  std::string_view name;
};
constexpr KindName kKinds[] = {
    {CallEventKind::kCallConnected, "CallConnected"},
    {CallEventKind::kCallDisconnected, "CallDisconnected"},
    {CallEventKind::kAnswerFailed, "AnswerFailed"},
    {CallEventKind::kCreateCallFailed, "CreateCallFailed"},
    {CallEventKind::kConnectFailed, "ConnectFailed"},
    {CallEventKind::kCallTransferAccepted, "CallTransferAccepted"},
    {CallEventKind::kCallTransferFailed, "CallTransferFailed"},
    {CallEventKind::kParticipantsUpdated, "ParticipantsUpdated"},
    {CallEventKind::kPlayStarted, "PlayStarted"},
    {CallEventKind::kPlayCompleted, "PlayCompleted"},
    {CallEventKind::kPlayCanceled, "PlayCanceled"},
    {CallEventKind::kPlayFailed, "PlayFailed"},
    {CallEventKind::kRecognizeCompleted, "RecognizeCompleted"},
    {CallEventKind::kRecognizeFailed, "RecognizeFailed"},
    {CallEventKind::kRecognizeCanceled, "RecognizeCanceled"},
    {CallEventKind::kContinuousDtmfToneReceived, "ContinuousDtmfRecognitionToneReceived"},
    {CallEventKind::kMediaStreamingStarted, "MediaStreamingStarted"},
    {CallEventKind::kMediaStreamingStopped, "MediaStreamingStopped"},
    {CallEventKind::kMediaStreamingFailed, "MediaStreamingFailed"},
    {CallEventKind::kRecordingStateChanged, "RecordingStateChanged"},
};

constexpr std::string_view kTypePrefix = "Microsoft.Communication.";

void Tones(const json& result, std::string* out) {
  if (!result.is_object()) return;
  auto tones = result.find("tones");
  if (tones == result.end() || !tones->is_array()) return;
  for (const auto& t : *tones) {
    if (!t.is_string()) continue;
    if (char c = ToneToChar(t.get_ref<const std::string&>())) out->push_back(c);
  }
}

}  // namespace

std::string_view CallEventKindName(CallEventKind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "Other";
}

char ToneToChar(std::string_view tone) {
  static constexpr std::pair<std::string_view, char> kNames[] = {
      {"zero", '0'},  {"one", '1'},      {"two", '2'},   {"three", '3'}, {"four", '4'},
      {"five", '5'},  {"six", '6'},      {"seven", '7'}, {"eight", '8'}, {"nine", '9'},
      {"pound", '#'}, {"asterisk", '*'}, {"a", 'A'},     {"b", 'B'},     {"c", 'C'},
      {"d", 'D'},     {"#", '#'},        {"*", '*'}};
  std::string lower(tone);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.size() == 1 && lower[0] >= '0' && lower[0] <= '9') return lower[0];
  for (const auto& [name, c] : kNames) {
    if (name == lower) return c;
  }
  return 0;
}

core::Result<CallbackDelivery> ParseCallbackEvents(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return core::InvalidArgumentError("the body is not JSON");
  if (j.is_object()) j = json::array({std::move(j)});
  if (!j.is_array()) return core::InvalidArgumentError("a callback is a JSON array of CloudEvents");
  CallbackDelivery out;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& ev = j[i];
    CallEvent e;
    e.id = Str(ev, "id");
    e.type = Str(ev, "type");
    e.time = Str(ev, "time");
    const json data = ev.is_object() ? ev.value("data", json()) : json();
    e.call_connection_id = Str(data, "callConnectionId");
    if (e.id.empty() || e.type.empty() || e.call_connection_id.empty()) {
      out.errors.push_back("callback event " + std::to_string(i) +
                           " lacks id, type or data.callConnectionId");
      continue;
    }
    std::string_view suffix = e.type;
    if (suffix.substr(0, kTypePrefix.size()) == kTypePrefix)
      suffix.remove_prefix(kTypePrefix.size());
    for (const auto& k : kKinds) {
      if (k.name == suffix) e.kind = k.kind;
    }
    e.server_call_id = Str(data, "serverCallId");
    e.correlation_id = Str(data, "correlationId");
    e.operation_context = Str(data, "operationContext");
    if (auto ri = data.find("resultInformation"); ri != data.end() && ri->is_object()) {
      e.result_code = Int(*ri, "code");
      e.result_sub_code = Int(*ri, "subCode");
      e.result_message = Str(*ri, "message");
    }
    e.recognition_type = Str(data, "recognitionType");
    Tones(data.value("dtmfResult", json()), &e.dtmf);
    if (e.dtmf.empty()) Tones(data.value("collectTonesResult", json()), &e.dtmf);
    if (e.kind == CallEventKind::kContinuousDtmfToneReceived) {
      if (char c = ToneToChar(Str(data, "tone"))) e.dtmf.push_back(c);
    }
    if (auto sr = data.find("speechResult"); sr != data.end()) e.speech_text = Str(*sr, "speech");
    if (auto cr = data.find("choiceResult"); cr != data.end()) e.speech_text = Str(*cr, "label");
    if (auto mu = data.find("mediaStreamingUpdate"); mu != data.end()) {
      e.media_streaming_status = Str(*mu, "mediaStreamingStatus");
      e.media_streaming_details = Str(*mu, "mediaStreamingStatusDetails");
    }
    if (auto p = data.find("participants"); p != data.end() && p->is_array()) {
      e.participant_count = static_cast<int>(p->size());
    }
    if (auto s = data.find("sequenceNumber"); s != data.end() && s->is_number_integer()) {
      e.sequence_number = s->get<int64_t>();
    }
    if (auto t = data.find("transferTarget"); t != data.end() && t->is_object()) {
      e.transfer_target = Str(*t, "rawId");
      if (auto p = t->find("phoneNumber"); p != t->end()) e.transfer_target = Str(*p, "value");
    }
    e.recording_id = Str(data, "recordingId");
    e.recording_state = Str(data, "state");
    out.events.push_back(std::move(e));
  }
  return out;
}

std::string EncodeCallbackEvent(const std::string& id, const std::string& event_name,
                                const std::string& call_connection_id,
                                const std::string& operation_context,
                                const std::string& data_extra) {
  json data = {{"callConnectionId", call_connection_id},
               {"serverCallId", "sim-server-call"},
               {"correlationId", "sim-correlation"},
               {"operationContext", operation_context},
               {"resultInformation", {{"code", 200}, {"subCode", 0}, {"message", "ok"}}}};
  if (!data_extra.empty()) {
    json extra = json::parse(data_extra, nullptr, false);
    if (extra.is_object()) data.update(extra);
  }
  json ev = {{"id", id},
             {"source", "calling/callConnections/" + call_connection_id},
             {"type", std::string(kTypePrefix) + event_name},
             {"data", data},
             {"time", "2024-01-02T03:04:05.0000000+00:00"},
             {"specversion", "1.0"},
             {"datacontenttype", "application/json"},
             {"subject", "calling/callConnections/" + call_connection_id}};
  return json::array({ev}).dump();
}

bool EventDeduplicator::FirstTime(const std::string& id) {
  if (id.empty()) return true;
  std::lock_guard<std::mutex> lock(mu_);
  if (!seen_.insert(id).second) return false;
  order_.push_back(id);
  if (order_.size() > capacity_) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

}  // namespace artagent::transport::acs
