// `artagent loadgen --transport realtime`: one OpenAI Realtime client per caller (loadgen.h).

#include <nlohmann/json.hpp>

#include "app/loadgen.h"
#include "audio/g711.h"
#include "audio/pcm.h"
#include "audio/resampler.h"
#include "core/base64.h"

namespace artagent::app {

namespace {

using nlohmann::json;

// The value of the first "key":"..." string in a message, without parsing the whole JSON: audio
// deltas are most of what arrives and are only measured, never decoded.
std::string_view StringField(std::string_view msg, std::string_view key) {
  std::string pattern = "\"" + std::string(key) + "\":\"";
  const size_t at = msg.find(pattern);
  if (at == std::string_view::npos) return {};
  const size_t begin = at + pattern.size();
  const size_t end = msg.find('"', begin);
  if (end == std::string_view::npos) return {};
  return msg.substr(begin, end - begin);
}

size_t Base64Bytes(std::string_view b64) {
  size_t n = b64.size() / 4 * 3;
  if (!b64.empty() && b64.back() == '=') --n;
  if (b64.size() > 1 && b64[b64.size() - 2] == '=') --n;
  return n;
}

class RealtimeCaller final : public LoadCaller {
 public:
  RealtimeCaller(LoadContext* ctx, int index)
      : ctx_(ctx),
        script_(&ctx->audio.clips, ctx->options.caller, ctx->options.seed * 1000003 + index,
                ctx->stats) {}

  void Start() override {
    ++ctx_->stats->sessions_started;
    LoadSocket::Handlers h;
    h.on_open = [this](bool ok, int status, const std::string& error) {
      OnOpen(ok, status, error);
    };
    h.on_message = [this](std::string_view text) { OnMessage(text); };
    h.on_close = [this](int code) { OnClose(code); };
    socket_ = std::make_shared<LoadSocket>(*ctx_->io, std::move(h));
    std::string target = "/v1/realtime";
    if (!ctx_->options.scenario.empty()) target += "?scenario=" + ctx_->options.scenario;
    socket_->Open(ctx_->server, ctx_->host, target, {}, "realtime");
  }

  void Tick(core::TimePoint now) override {
    if (!live_) return;
    const FrameChoice choice = script_.Tick(now);
    if (!socket_->Send(ctx_->audio.Frame(choice))) ctx_->stats->Error("send_queue_full");
  }

  void Stop() override {
    if (socket_ && !socket_->closed()) socket_->Close();
  }
  bool live() const override { return live_; }
  bool done() const override { return done_; }

 private:
  void OnOpen(bool ok, int status, const std::string& error) {
    if (!ok) {
      done_ = true;
      if (status == 503 || status == 429) {
        ctx_->Refused("http_" + std::to_string(status));
      } else {
        ctx_->stats->Error(status ? "upgrade_http_" + std::to_string(status) : "connect_failed");
        (void)error;
      }
      return;
    }
    json format = ctx_->options.format == "pcmu"
                      ? json{{"type", "audio/pcmu"}}
                      : json{{"type", "audio/pcm"}, {"rate", ctx_->audio.sample_rate}};
    json update = {
        {"type", "session.update"},
        {"session",
         {{"type", "realtime"},
          {"audio", {{"input", {{"format", format}}}, {"output", {{"format", format}}}}}}}};
    socket_->Send(std::make_shared<const std::string>(update.dump()));
  }

  void OnMessage(std::string_view msg) {
    const core::TimePoint now = core::Clock::now();
    // Audio deltas (most of what arrives) are encoded with "type" first and only measured.
    constexpr std::string_view kDelta = R"({"type":"response.output_audio.delta")";
    if (msg.substr(0, kDelta.size()) == kDelta) {
      const size_t bytes = Base64Bytes(StringField(msg, "delta"));
      const double ms = ctx_->options.format == "pcmu"
                            ? double(bytes) / 8.0
                            : double(bytes / 2) * 1000.0 / ctx_->audio.sample_rate;
      if (live_) script_.OnAgentAudio(now, ms);
      return;
    }
    const json j = json::parse(msg, nullptr, false);
    if (!j.is_object()) {
      ctx_->stats->Error("invalid_server_event");
      return;
    }
    const std::string type = j.value("type", "");
    if (type == "session.created") {
      // Admitted: the call is up; caller audio starts on the next tick.
      if (!live_) {
        live_ = true;
        ctx_->Connected();
      }
      return;
    }
    if (!live_) return;
    auto text = [&](const char* key) {
      auto it = j.find(key);
      return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    if (type == "output_audio_buffer.cleared") {
      script_.OnAudioStopped(now);
    } else if (type == "response.done") {
      const json& r = j.contains("response") ? j["response"] : json();
      if (r.is_object() && r.value("status", "") == "cancelled") script_.OnAudioStopped(now);
    } else if (type == "conversation.item.input_audio_transcription.completed") {
      script_.OnTranscript(text("transcript"));
    } else if (type == "response.output_audio_transcript.delta" ||
               type == "response.output_text.delta") {
      script_.OnReplyText(text("delta"));
    } else if (type == "error") {
      std::string code = "unknown";
      if (j.contains("error") && j["error"].is_object()) {
        code = j["error"].value("code", j["error"].value("type", "unknown"));
      }
      ctx_->stats->Error("server_error_" + code);
    }
  }

  void OnClose(int code) {
    done_ = true;
    if (!live_) {
      // Closed before the session was created: refused (1013 = try again later) or failed.
      if (code == 1013) {
        ctx_->Refused("ws_1013");
      } else {
        ctx_->stats->Error("closed_before_session_" + std::to_string(code));
      }
      return;
    }
    live_ = false;
    script_.End();
    ctx_->Ended(!ctx_->stopping);
    if (!ctx_->stopping) ctx_->stats->Error("closed_by_server_" + std::to_string(code));
  }

  LoadContext* ctx_;
  CallerScript script_;
  std::shared_ptr<LoadSocket> socket_;
  bool live_ = false;
  bool done_ = false;
};

}  // namespace

core::Result<EncodedAudio> EncodeRealtimeAudio(const std::vector<std::vector<int16_t>>& clips16k,
                                               const std::string& format) {
  if (format != "pcm" && format != "pcmu") {
    return core::InvalidArgumentError("--format must be pcm or pcmu, not '" + format + "'");
  }
  EncodedAudio out;
  out.sample_rate = format == "pcmu" ? 8000 : 24000;
  const size_t frame = audio::SamplesPerFrame(out.sample_rate);
  auto encode = [&](std::span<const int16_t> pcm) {
    std::string b64;
    if (format == "pcmu") {
      std::vector<uint8_t> bytes;
      audio::MulawEncode(pcm, &bytes);
      b64 = core::Base64Encode(bytes.data(), bytes.size());
    } else {
      b64 = core::Base64Encode(pcm.data(), pcm.size() * sizeof(int16_t));
    }
    return std::make_shared<const std::string>(R"({"type":"input_audio_buffer.append","audio":")" +
                                               b64 + "\"}");
  };
  for (const auto& clip : clips16k) {
    audio::Samples pcm = audio::ResampleAll(clip, audio::kEngineSampleRate, out.sample_rate);
    ClipInfo info = AnalyseClip(pcm, out.sample_rate);
    if (info.frames == 0) return core::InvalidArgumentError("a caller clip has no speech in it");
    out.clips.push_back(info);
    auto& frames = out.frames.emplace_back();
    for (size_t f = 0; f < info.frames; ++f) {
      frames.push_back(encode(std::span<const int16_t>(pcm.data() + f * frame, frame)));
    }
  }
  std::vector<int16_t> silence(frame, 0);
  out.silence = encode(silence);
  return out;
}

std::unique_ptr<LoadCaller> NewRealtimeCaller(LoadContext* context, int index) {
  return std::make_unique<RealtimeCaller>(context, index);
}

}  // namespace artagent::app
