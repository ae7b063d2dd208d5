#include "transport/acs/media_connection.h"

#include <type_traits>

#include "core/log.h"
#include "platform/metrics.h"

namespace artagent::transport::acs {

AcsMediaConnection::AcsMediaConnection(AcsMediaPeer* peer, SessionFactory factory,
                                       session::SessionOptions defaults, platform::Metrics* metrics,
                                       AcsMediaOptions options, AcsCallHooks* hooks)
    : peer_(peer),
      factory_(std::move(factory)),
      defaults_(std::move(defaults)),
      metrics_(metrics),
      options_(std::move(options)),
      hooks_(hooks),
      rate_(IsSupportedAcsRate(options_.sample_rate) ? options_.sample_rate
                                                     : kAcsDefaultSampleRate),
      out_frames_(std::in_place, audio::SamplesPerFrame(rate_)) {}

AcsMediaConnection::~AcsMediaConnection() {
  if (session_) session_->Close("ended");
}

void AcsMediaConnection::Open() {
  session::SessionOptions opts = defaults_;
  opts.transport = "acs";
  opts.output_sample_rate = rate_;
  auto created = factory_(opts, this);
  if (!created.ok()) {
    core::LogError("acs", "call {}: cannot create a session: {}", options_.call_id,
                   created.status().ToString());
    Count("session_failed");
    peer_->Close(1011, "session could not be created");
    closed_ = true;
    return;
  }
  session_ = std::move(created).value();
  if (hooks_) hooks_->OnSessionStarted(session_->id());
  session_->Start();
}

void AcsMediaConnection::Count(const std::string& kind) {
  ++bad_frames_;
  if (metrics_) {
    metrics_->protocol_errors_total.Add({{"transport", "acs"}, {"kind", kind}}).Increment();
  }
}

void AcsMediaConnection::Send(std::string message) {
  if (!closed_) peer_->SendText(std::move(message));
}

void AcsMediaConnection::OnMessage(std::string_view data, bool is_text) {
  if (closed_ || !session_) return;
  if (!is_text) {
    Count("binary_frame");
    return;
  }
  MediaError error;
  auto msg = ParseMediaMessage(data, &error);
  if (!msg) {
    Count(error.code);
    if (bad_frames_ <= 3) {
      core::LogWarn("acs", "call {}: dropped a media frame: {}", options_.call_id, error.message);
    }
    return;
  }
  if (auto* audio = std::get_if<AudioData>(&*msg)) {
    if (audio->pcm.empty()) {
      // A silent packet without samples still stands for one packet of time: keep the timeline.
      silence_.assign(audio::SamplesPerFrame(rate_), 0);
      session_->PushAudio(silence_, rate_);
    } else {
      session_->PushAudio(audio->pcm, rate_);
    }
  } else if (auto* meta = std::get_if<AudioMetadata>(&*msg)) {
    metadata_seen_ = true;
    if (meta->sample_rate != rate_) {
      core::LogInfo("acs", "call {}: stream is {} Hz (answered for {} Hz)", options_.call_id,
                    meta->sample_rate, rate_);
      FlushTail();
      rate_ = meta->sample_rate;
      out_frames_.emplace(audio::SamplesPerFrame(rate_));
      session_->SetOutputSampleRate(rate_);
    }
  } else if (auto* dtmf = std::get_if<DtmfData>(&*msg)) {
    PushDtmf(dtmf->digit);
  }
}

void AcsMediaConnection::PushDtmf(char digit) {
  if (session_) session_->PushDtmf(digit);
}

void AcsMediaConnection::NotifyAgent(const std::string& event) {
  if (session_) session_->Notify(event);
}

void AcsMediaConnection::SendAudio(std::span<const int16_t> pcm, int rate) {
  if (rate != rate_) {
    if (!resampler_ || resampler_->in_rate() != rate || resampler_->out_rate() != rate_) {
      auto r = audio::Resampler::Create(rate, rate_);
      if (!r.ok()) {
        Count("output_rate_unsupported");
        return;
      }
      resampler_ = std::move(r).value();
    }
    resampled_.clear();
    resampler_->Process(pcm, &resampled_);
    pcm = resampled_;
  }
  out_frames_->Push(pcm, [&](std::span<const int16_t> frame) {
    Send(EncodeAudioData(frame));
    ++frames_sent_;
  });
}

// The engine pads a reply's last frame; if anything is left over, send it as a full frame so the
// far end never gets a short one.
void AcsMediaConnection::FlushTail() {
  const size_t left = out_frames_->buffered();
  if (left == 0) return;
  audio::Samples pad(out_frames_->frame_samples() - left, 0);
  SendAudio(pad, rate_);
}

void AcsMediaConnection::HandleCallControl(const session::CallControl& control) {
  FlushTail();
  if (hooks_) hooks_->OnCallControl(control);
}

void AcsMediaConnection::OnSessionEvent(session::SessionEvent event) {
  std::visit(
      [&](auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, session::AudioChunk>) {
          if (e.samples) SendAudio(*e.samples, e.sample_rate);
        } else if constexpr (std::is_same_v<T, session::AudioCleared>) {
          out_frames_->Clear();
          if (resampler_) resampler_->Reset();
          Send(EncodeStopAudio());
          ++stops_sent_;
        } else if constexpr (std::is_same_v<T, session::ResponseDone>) {
          FlushTail();
        } else if constexpr (std::is_same_v<T, session::SessionEnded>) {
          core::LogInfo("acs", "call {}: session ended by the server: {}", options_.call_id,
                        e.reason);
          FlushTail();
          std::string reason = e.reason;
          session_.reset();
          if (hooks_) hooks_->OnSessionEnded(reason);
        } else if constexpr (requires { e.control; }) {
          if constexpr (std::is_same_v<std::decay_t<decltype(e.control)>, session::CallControl>) {
            HandleCallControl(e.control);
          }
        }
      },
      event);
}

void AcsMediaConnection::Hangup(const std::string& status) {
  if (session_) {
    session_->Close(status);
    session_.reset();
  }
  if (!closed_) {
    closed_ = true;
    peer_->Close(1000, "call ended");
  }
}

void AcsMediaConnection::OnClose(uint16_t code) {
  if (closed_) {
    if (session_) {
      session_->Close("ended");
      session_.reset();
    }
    return;
  }
  closed_ = true;
  const bool clean = code == 1000 || code == 1001;
  if (!clean && metrics_) {
    metrics_->protocol_errors_total.Add({{"transport", "acs"}, {"kind", "vanished"}}).Increment();
  }
  if (session_) {
    core::LogInfo("acs", "call {}: media stream closed (code {})", options_.call_id, code);
    session_->Close(clean ? "ended" : "vanished");
    session_.reset();
  }
}

}  // namespace artagent::transport::acs
