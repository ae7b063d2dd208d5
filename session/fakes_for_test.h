#pragma once
// Deterministic stand-ins for the speech providers and the model, for engine tests: no models,
// no threads, exact timing under a FakeExecutor.

#include <cmath>
#include <deque>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "audio/pcm.h"
#include "core/executor.h"
#include "session/responder.h"
#include "speech/stt.h"
#include "speech/tts.h"
#include "speech/vad.h"

namespace artagent::session::testing {

// Loud frames are speech.
class EnergyVad : public speech::Vad {
 public:
  bool IsSpeech(std::span<const int16_t> frame) override {
    double sum = 0;
    for (int16_t s : frame) sum += double(s) * s;
    return std::sqrt(sum / std::max<size_t>(1, frame.size())) > 500;
  }
  void Reset() override {}
};

// Returns scripted transcripts, one per utterance; a partial (the first word) once 200 ms of
// audio has been fed.
struct ScriptedSttState {
  std::deque<std::string> transcripts;
  int utterances_started = 0;
  int utterances_cancelled = 0;
  std::vector<std::string> grammars;
};

class ScriptedSttStream : public speech::SttStream {
 public:
  explicit ScriptedSttStream(std::shared_ptr<ScriptedSttState> st) : st_(std::move(st)) {}
  core::Status StartUtterance() override {
    fed_ = 0;
    ++st_->utterances_started;
    return core::OkStatus();
  }
  core::Result<std::string> Feed(std::span<const int16_t> pcm) override {
    fed_ += pcm.size();
    if (fed_ < 3200 || st_->transcripts.empty()) return std::string();
    std::istringstream in(st_->transcripts.front());
    std::string first;
    in >> first;
    return first;
  }
  core::Result<speech::SttResult> EndUtterance() override {
    speech::SttResult r;
    if (!st_->transcripts.empty()) {
      r.text = st_->transcripts.front();
      st_->transcripts.pop_front();
    }
    r.confidence = 0.9;
    return r;
  }
  void CancelUtterance() override { ++st_->utterances_cancelled; }
  core::Status UseGrammar(const std::string& jsgf, bool) override {
    st_->grammars.push_back(jsgf);
    return core::OkStatus();
  }
  void UseLanguageModel() override { st_->grammars.push_back(""); }

 private:
  std::shared_ptr<ScriptedSttState> st_;
  size_t fed_ = 0;
};

class ScriptedStt : public speech::SttEngine {
 public:
  std::shared_ptr<ScriptedSttState> state = std::make_shared<ScriptedSttState>();
  std::string name() const override { return "scripted"; }
  core::Result<std::unique_ptr<speech::SttStream>> NewStream(const speech::SttOptions&) override {
    return std::unique_ptr<speech::SttStream>(std::make_unique<ScriptedSttStream>(state));
  }
};

// 100 ms of a 16 kHz tone per word, delivered in two chunks.
class ToneTts : public speech::TtsEngine {
 public:
  static constexpr int kRate = 16000;
  static constexpr size_t kSamplesPerWord = 1600;
  std::vector<std::string> spoken;
  size_t chunk_samples = 0;  // > 0: audio delivered in pieces of this many samples
  std::string name() const override { return "tone"; }
  std::vector<std::string> Voices() const override { return {"tone"}; }
  core::Status Synthesize(const speech::TtsRequest& req,
                          const speech::TtsAudioSink& sink) override {
    spoken.push_back(req.text);
    std::istringstream in(req.text);
    size_t words = 0;
    for (std::string w; in >> w;) ++words;
    audio::Samples pcm(words * kSamplesPerWord);
    for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = (i / 8) % 2 ? 2000 : -2000;
    if (chunk_samples > 0) {
      // Small pieces, like a streaming synthesizer (flite: ~16 ms).
      for (size_t off = 0; off < pcm.size(); off += chunk_samples) {
        size_t n = std::min(chunk_samples, pcm.size() - off);
        if (!sink(std::span<const int16_t>(pcm.data() + off, n), kRate)) {
          return core::CancelledError("");
        }
      }
      return core::OkStatus();
    }
    size_t half = pcm.size() / 2;
    if (!sink(std::span<const int16_t>(pcm.data(), half), kRate)) return core::CancelledError("");
    if (!sink(std::span<const int16_t>(pcm.data() + half, pcm.size() - half), kRate)) {
      return core::CancelledError("");
    }
    return core::OkStatus();
  }
};

// Greets with `greeting`; answers "You said <last user text>." word by word, one word per post.
class EchoResponder : public Responder {
 public:
  explicit EchoResponder(core::Executor* ex) : ex_(ex) {}
  std::string greeting = "Hello, thanks for calling. How can I help you today?";
  bool fail_next = false;
  int word_interval_ms = 0;  // > 0: words arrive one by one, this far apart
  int responses = 0;
  std::string grammar;

  // Replies to "run tool" start a tool call that stays open until FinishTool().
  std::shared_ptr<ResponseCallbacks> held_tool;
  std::shared_ptr<bool> held_cancelled;
  // Replies to "goodbye" end the call after speaking.
  AgentSpeech speech_settings;
  std::vector<ResponseRequest> requests;  // history not kept
  std::vector<std::string> last_user_texts;
  std::vector<bool> last_user_dtmf;

  std::string agent_name() const override { return "echo"; }
  std::string ExpectedGrammar() const override { return grammar; }
  AgentSpeech speech() const override { return speech_settings; }

  // Ends the held tool call with `output` and says "Done.".
  void FinishTool(const std::string& output) {
    if (!held_tool || *held_cancelled) return;
    auto cb = held_tool;
    auto cancelled = held_cancelled;
    ex_->Post([cb, cancelled, output] {
      if (*cancelled) return;
      ToolCallInfo call{"call_1", "lookup", "{}", "echo", output, "completed", 5};
      cb->on_tool_finished(call);
      cb->on_text("Done.");
      cb->on_done(core::OkStatus());
    });
  }

  class Stream : public ResponseStream {
   public:
    void Cancel() override { *cancelled = true; }
    ~Stream() override { *cancelled = true; }
    std::shared_ptr<bool> cancelled = std::make_shared<bool>(false);
    std::vector<std::unique_ptr<core::Timer>> timers;
  };

  std::unique_ptr<ResponseStream> Respond(const ResponseRequest& req,
                                          ResponseCallbacks cb) override {
    ++responses;
    requests.push_back(ResponseRequest{nullptr, req.greeting, req.no_input, req.instructions});
    std::string text = greeting;
    std::string last;
    bool last_dtmf = false;
    if (!req.greeting) {
      for (const auto& h : *req.history) {
        if (h.role == HistoryItem::Role::kUser) {
          last = h.text;
          last_dtmf = h.dtmf;
        }
      }
      text = req.no_input ? "Are you there?" : "You said " + last + ".";
      last_user_texts.push_back(last);
      last_user_dtmf.push_back(last_dtmf);
    }
    auto stream = std::make_unique<Stream>();
    auto cancelled = stream->cancelled;
    if (!req.greeting && last == "run tool") {
      held_tool = std::make_shared<ResponseCallbacks>(std::move(cb));
      held_cancelled = cancelled;
      auto held = held_tool;
      ex_->Post([cancelled, held] {
        if (*cancelled) return;
        held->on_text("Checking.");
        held->on_tool_started(ToolCallInfo{"call_1", "lookup", "{}", "echo", "", "running", -1});
      });
      return stream;
    }
    if (!req.greeting && last == "goodbye") {
      auto shared = std::make_shared<ResponseCallbacks>(std::move(cb));
      ex_->Post([cancelled, shared] {
        if (*cancelled) return;
        shared->on_text("Goodbye.");
        shared->on_call_control(CallControl{CallControl::Kind::kEndCall, "", "done"});
        shared->on_done(core::OkStatus());
      });
      return stream;
    }
    bool fail = fail_next;
    fail_next = false;
    std::istringstream in(text);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    auto shared_cb = std::make_shared<ResponseCallbacks>(std::move(cb));
    if (word_interval_ms > 0 && !fail) {
      // A slow model: one word every word_interval_ms.
      for (size_t i = 0; i <= words.size(); ++i) {
        std::string delta = i < words.size() ? (i ? " " : "") + words[i] : "";
        const bool last = i == words.size();
        stream->timers.push_back(
            ex_->RunAfter(core::milliseconds(word_interval_ms * static_cast<int>(i)),
                          [cancelled, shared_cb, delta, last] {
                            if (*cancelled) return;
                            if (last) {
                              shared_cb->on_done(core::OkStatus());
                            } else {
                              shared_cb->on_text(delta);
                            }
                          }));
      }
      return stream;
    }
    for (size_t i = 0; i < words.size() && !fail; ++i) {
      std::string delta = (i ? " " : "") + words[i];
      ex_->Post([cancelled, shared_cb, delta] {
        if (!*cancelled) shared_cb->on_text(delta);
      });
    }
    ex_->Post([cancelled, shared_cb, fail] {
      if (!*cancelled) {
        shared_cb->on_done(fail ? core::UnavailableError("model down") : core::OkStatus());
      }
    });
    return stream;
  }

 private:
  core::Executor* ex_;
};

inline audio::Samples Tone(int ms, int rate = 16000) {
  audio::Samples s(audio::MsToSamples(ms, rate));
  for (size_t i = 0; i < s.size(); ++i) {
    s[i] = static_cast<int16_t>(4000 * std::sin(2 * M_PI * 440 * double(i) / rate));
  }
  return s;
}
inline audio::Samples Silence(int ms, int rate = 16000) {
  return audio::Samples(audio::MsToSamples(ms, rate), 0);
}

}  // namespace artagent::session::testing
