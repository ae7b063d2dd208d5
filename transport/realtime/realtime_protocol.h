#pragma once
// The OpenAI Realtime protocol, server side (GA event names; beta spellings accepted on input where
// cheap). Pure translation, no I/O: client JSON -> ClientEvent, session events -> server JSON.
// Hot path: input_audio_buffer.append in, response.output_audio.delta out.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "audio/pcm.h"
#include "core/status.h"
#include "session/events.h"

namespace artagent::transport::realtime {

// Wire audio formats: GA {type:"audio/pcm", rate:24000} | {type:"audio/pcmu"} | {type:"audio/pcma"}
// and the beta names "pcm16" | "g711_ulaw" | "g711_alaw".
struct AudioFormat {
  enum class Encoding { kPcm16, kMulaw, kAlaw };
  Encoding encoding = Encoding::kPcm16;
  int rate = 24000;  // 8000 for G.711
};

struct TurnDetection {
  bool enabled = true;  // false: "turn_detection": null (client commits)
  int silence_duration_ms = 500;
  int prefix_padding_ms = 300;
  double threshold = 0.5;
  bool create_response = true;
  bool interrupt_response = true;
};

// The session settings a client can see and change. Fields not present in an update keep their
// value.
struct SessionConfig {
  std::string id;
  std::string model = "artagent-flow";
  std::string instructions;
  bool output_audio = true;  // output_modalities ["audio"] (with transcript) or ["text"]
  AudioFormat input_format;
  AudioFormat output_format;
  TurnDetection turn_detection;
  std::string voice;
  double speed = 1.0;
  std::string transcription_model = "pocketsphinx";
  // Tools the client runs itself ({type:"function", name, description, parameters}), echoed in
  // session.created / session.updated.
  std::vector<nlohmann::json> tools;
};

// ---- client events ----
struct SessionUpdate {
  std::optional<std::string> instructions;
  std::optional<bool> output_audio;
  std::optional<AudioFormat> input_format;
  std::optional<AudioFormat> output_format;
  std::optional<TurnDetection> turn_detection;
  std::optional<std::string> voice;
  std::optional<double> speed;
  // session.tools: every entry an object with a string `name` (and `type` "function" if given).
  std::optional<std::vector<nlohmann::json>> tools;
};
struct AudioAppend {
  std::string audio_base64;
};
struct AudioCommit {};
struct AudioClear {};
struct UserText {
  std::string text;
};
struct Truncate {
  std::string item_id;
  int content_index = 0;
  int64_t audio_end_ms = 0;
};
struct ResponseCreate {
  std::optional<bool> output_audio;
  std::string instructions;
};
struct ResponseCancel {
  std::string response_id;
};
struct OutputAudioClear {};
// conversation.item.create with a function_call_output item: the result of a client-run tool.
struct FunctionCallOutput {
  std::string item_id;  // the client's, or empty (the server makes one)
  std::string call_id;
  std::string output;  // text as sent (a non-string JSON value is kept as its JSON text)
};
// artagent.input_dtmf {digits:"1234#"}: keys pressed on a keypad, each one of 0-9 * # A-D.
struct InputDtmf {
  std::string digits;
};

using ClientEventBody =
    std::variant<SessionUpdate, AudioAppend, AudioCommit, AudioClear, UserText, Truncate,
                 ResponseCreate, ResponseCancel, OutputAudioClear, FunctionCallOutput, InputDtmf>;

struct ClientEvent {
  std::string event_id;  // the client's, echoed in errors
  std::string type;
  ClientEventBody body;
};

// A protocol error to report to the client as an `error` event.
struct ProtocolError {
  std::string code;  // "invalid_json", "unknown_event", "missing_field", "invalid_value", ...
  std::string message;
  std::string param;
  std::string event_id;
};

// Parses one client message. On failure fills `error` and returns nullopt.
std::optional<ClientEvent> ParseClientEvent(std::string_view json, ProtocolError* error);

// Decodes appended audio (base64, in `format`) to PCM16 samples. Errors: not base64, odd byte
// count for PCM16.
core::Status DecodeAudio(std::string_view base64, const AudioFormat& format, audio::Samples* out);

// ---- server events ----
// Turns session events into Realtime server messages. Keeps the little state the protocol needs
// (event ids, the response's output modality).
class ServerEventEncoder {
 public:
  explicit ServerEventEncoder(std::string id_prefix);

  std::string SessionCreated(const SessionConfig& config);
  std::string SessionUpdated(const SessionConfig& config);
  std::string Error(const ProtocolError& error, std::string_view type = "invalid_request_error");
  // conversation.item.created for a function_call_output item the client added (`item_id` is the
  // item's id, the client's or one made for it).
  std::string FunctionCallOutputCreated(const FunctionCallOutput& item, const std::string& item_id);

  // Appends zero or more messages for `event`. `config` gives the output format and modality.
  //
  // What agents do besides talking: server-side tool calls become artagent.tool.started /
  // artagent.tool.completed; a call of a tool the client declared (status "client") becomes the
  // standard function_call item events instead (response.output_item.added,
  // conversation.item.created, response.function_call_arguments.delta/.done,
  // response.output_item.done), and the item is listed in the response's response.done output
  // after the assistant message. Hand-offs, slots and call control are artagent.handoff
  // {from, to, handoff_type, share_context, reason}, artagent.slot {name, slot_type, value,
  // agent}, artagent.call.end / artagent.call.transfer (`type` is the event's own, so the hand-off
  // and slot types go by longer names); a DTMF user item carries "artagent_dtmf": true.
  void Encode(const session::SessionEvent& event, const SessionConfig& config,
              std::vector<std::string>* out);

 private:
  std::string NextEventId();
  std::string SessionJson(const SessionConfig& config, std::string_view type);

  std::string prefix_;
  uint64_t counter_ = 0;
  bool response_audio_ = true;  // modality of the response in progress
  // Client-run function calls of the response in progress: call_id -> output_index, and the
  // finished items for response.done.
  std::map<std::string, int> open_function_calls_;
  std::vector<nlohmann::json> function_call_items_;
  int next_output_index_ = 1;
};

}  // namespace artagent::transport::realtime
