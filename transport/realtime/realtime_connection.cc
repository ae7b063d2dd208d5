#include "transport/realtime/realtime_connection.h"

#include "core/ids.h"
#include "core/log.h"
#include "platform/metrics.h"

namespace artagent::transport::realtime {

RealtimeConnection::RealtimeConnection(RealtimePeer* peer, SessionFactory factory,
                                       session::SessionOptions defaults, platform::Metrics* metrics)
    : peer_(peer),
      factory_(std::move(factory)),
      defaults_(std::move(defaults)),
      metrics_(metrics),
      encoder_(core::NewId("").substr(1, 8) + "_") {}

RealtimeConnection::~RealtimeConnection() {
  if (session_) session_->Close("ended");
}

void RealtimeConnection::Open() {
  session::SessionOptions opts = defaults_;
  opts.transport = "realtime";
  opts.output_sample_rate = config_.output_format.rate;
  config_.turn_detection.silence_duration_ms = opts.end_of_turn_silence_ms;
  config_.turn_detection.prefix_padding_ms = opts.prefix_padding_ms;
  config_.voice = opts.voice;
  config_.output_audio = opts.output_audio;
  auto created = factory_(opts, this);
  if (!created.ok()) {
    core::LogError("realtime", "cannot create a session: {}", created.status().ToString());
    SendError(ProtocolError{"session_failed", created.status().message(), "", ""});
    peer_->Close(1011, "session could not be created");
    closed_ = true;
    return;
  }
  session_ = std::move(created).value();
  config_.id = session_->id();
  Send(encoder_.SessionCreated(config_));
  session_->Start();
}

void RealtimeConnection::Send(std::string message) {
  if (!closed_) peer_->SendText(std::move(message));
}

void RealtimeConnection::SendError(const ProtocolError& error) {
  if (metrics_) {
    metrics_->protocol_errors_total.Add({{"transport", "realtime"}, {"kind", error.code}})
        .Increment();
  }
  Send(encoder_.Error(error));
}

void RealtimeConnection::OnMessage(std::string_view data, bool is_text) {
  if (closed_ || !session_) return;
  if (!is_text) {
    SendError({"invalid_message",
               "binary frames are not part of the Realtime protocol; send "
               "JSON text events",
               "", ""});
    return;
  }
  ProtocolError error;
  auto event = ParseClientEvent(data, &error);
  if (!event) {
    SendError(error);
    return;
  }
  Handle(*event);
}

void RealtimeConnection::Handle(ClientEvent& ev) {
  std::visit(
      [&](auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, AudioAppend>) {
          decoded_.clear();
          core::Status st = DecodeAudio(body.audio_base64, config_.input_format, &decoded_);
          if (!st.ok()) {
            SendError({"invalid_audio", st.message(), "audio", ev.event_id});
            return;
          }
          session_->PushAudio(decoded_, config_.input_format.rate);
        } else if constexpr (std::is_same_v<T, SessionUpdate>) {
          ApplyUpdate(body);
          Send(encoder_.SessionUpdated(config_));
        } else if constexpr (std::is_same_v<T, AudioCommit>) {
          session_->CommitInput();
        } else if constexpr (std::is_same_v<T, AudioClear>) {
          session_->ClearInput();
        } else if constexpr (std::is_same_v<T, UserText>) {
          session_->AddUserText(body.text);
        } else if constexpr (std::is_same_v<T, Truncate>) {
          if (!session_->Truncate(body.item_id, body.audio_end_ms)) {
            SendError({"item_not_found", "no agent audio item '" + body.item_id + "' to truncate",
                       "item_id", ev.event_id});
          }
        } else if constexpr (std::is_same_v<T, ResponseCreate>) {
          if (body.output_audio && *body.output_audio != config_.output_audio) {
            config_.output_audio = *body.output_audio;
            session_->SetOutputAudio(config_.output_audio);
          }
          session_->CreateResponse(body.instructions);
        } else if constexpr (std::is_same_v<T, ResponseCancel>) {
          session_->CancelResponse();
        } else if constexpr (std::is_same_v<T, OutputAudioClear>) {
          session_->ClearOutputAudio();
        } else if constexpr (std::is_same_v<T, FunctionCallOutput>) {
          if (!session_->AddToolOutput(body.call_id, body.output)) {
            SendError({"unknown_call_id",
                       "no client tool call '" + body.call_id + "' is waiting for its output",
                       "item.call_id", ev.event_id});
            return;
          }
          const std::string item_id = body.item_id.empty() ? core::NewId("item") : body.item_id;
          Send(encoder_.FunctionCallOutputCreated(body, item_id));
        } else if constexpr (std::is_same_v<T, InputDtmf>) {
          for (char key : body.digits) {
            if (!session_) return;  // a key may end the session (e.g. the agent says goodbye)
            session_->PushDtmf(key);
          }
        }
      },
      ev.body);
}

void RealtimeConnection::ApplyUpdate(const SessionUpdate& u) {
  if (u.instructions) config_.instructions = *u.instructions;
  if (u.output_audio) {
    config_.output_audio = *u.output_audio;
    session_->SetOutputAudio(config_.output_audio);
  }
  if (u.input_format) config_.input_format = *u.input_format;
  if (u.output_format) {
    config_.output_format = *u.output_format;
    session_->SetOutputSampleRate(config_.output_format.rate);
  }
  if (u.turn_detection) {
    config_.turn_detection = *u.turn_detection;
    const auto& td = config_.turn_detection;
    session_->SetTurnDetection(td.enabled, td.silence_duration_ms, td.prefix_padding_ms,
                               td.create_response, td.interrupt_response);
  }
  if (u.tools) {
    config_.tools = *u.tools;
    session_->SetClientTools(config_.tools);
  }
  if (u.voice || u.speed) {
    if (u.voice) config_.voice = *u.voice;
    if (u.speed) config_.speed = *u.speed;
    session_->SetVoice(config_.voice, config_.speed);
  }
}

void RealtimeConnection::OnSessionEvent(session::SessionEvent event) {
  if (auto* ended = std::get_if<session::SessionEnded>(&event)) {
    core::LogInfo("realtime", "session {} ended by the server: {}", config_.id, ended->reason);
    peer_->Close(1000, ended->reason);
    closed_ = true;
    session_.reset();
    return;
  }
  out_.clear();
  encoder_.Encode(event, config_, &out_);
  for (auto& m : out_) Send(std::move(m));
}

void RealtimeConnection::OnClose(uint16_t code) {
  if (closed_) return;
  closed_ = true;
  const bool clean = code == 1000 || code == 1001;
  if (!clean && metrics_) {
    metrics_->protocol_errors_total.Add({{"transport", "realtime"}, {"kind", "vanished"}})
        .Increment();
  }
  if (session_) {
    session_->Close(clean ? "ended" : "vanished");
    core::LogInfo("realtime", "session {} closed (code {})", session_->id(), code);
    session_.reset();
  }
}

}  // namespace artagent::transport::realtime
