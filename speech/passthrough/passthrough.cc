#include "speech/passthrough/passthrough.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numbers>
#include <vector>

namespace artagent::speech {
namespace {

// Lower case words separated by single spaces, as SttResult::text promises.
std::string Normalise(const std::string& text) {
  std::string out;
  bool space = false;
  for (unsigned char c : text) {
    if (std::isspace(c)) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

class PassthroughStream final : public SttStream {
 public:
  explicit PassthroughStream(const std::string* transcript) : transcript_(transcript) {}

  core::Status StartUtterance() override {
    active_ = true;
    fed_ = 0;
    return core::OkStatus();
  }
  core::Result<std::string> Feed(std::span<const int16_t> pcm) override {
    if (!active_) return core::FailedPreconditionError("Feed() outside an utterance");
    fed_ += pcm.size();
    return std::string();
  }
  core::Result<SttResult> EndUtterance() override {
    if (!active_) return core::FailedPreconditionError("EndUtterance() outside an utterance");
    active_ = false;
    SttResult r;
    if (fed_ > 0) {
      r.text = *transcript_;
      r.confidence = 1.0;
    }
    return r;
  }
  void CancelUtterance() override { active_ = false; }
  core::Status UseGrammar(const std::string&, bool) override { return core::OkStatus(); }
  void UseLanguageModel() override {}

 private:
  const std::string* transcript_;  // owned by the engine, which outlives its streams
  bool active_ = false;
  size_t fed_ = 0;
};

class PassthroughStt final : public SttEngine {
 public:
  explicit PassthroughStt(std::string transcript) : transcript_(std::move(transcript)) {}
  std::string name() const override { return "passthrough"; }
  core::Result<std::unique_ptr<SttStream>> NewStream(const SttOptions&) override {
    return std::unique_ptr<SttStream>(std::make_unique<PassthroughStream>(&transcript_));
  }

 private:
  const std::string transcript_;
};

class ToneTts final : public TtsEngine {
 public:
  explicit ToneTts(int ms_per_char) : ms_per_char_(std::max(1, ms_per_char)) {
    // 100 ms of a 400 Hz tone: exactly 40 periods, so chunks join without clicks.
    constexpr int kChunk = kToneSampleRate / 10;
    chunk_.resize(kChunk);
    for (int i = 0; i < kChunk; ++i) {
      chunk_[i] = static_cast<int16_t>(
          std::lround(1000.0 * std::sin(2.0 * std::numbers::pi * 400.0 * i / kToneSampleRate)));
    }
  }
  std::string name() const override { return "tone"; }
  std::vector<std::string> Voices() const override { return {"tone"}; }
  core::Status Synthesize(const TtsRequest& request, const TtsAudioSink& sink) override {
    if (request.text.empty()) return core::InvalidArgumentError("nothing to synthesise");
    const double rate = std::clamp(request.rate, 0.5, 2.0);
    size_t remaining = static_cast<size_t>(double(request.text.size()) * ms_per_char_ / rate *
                                           kToneSampleRate / 1000.0);
    while (remaining > 0) {
      const size_t n = std::min(remaining, chunk_.size());
      if (!sink(std::span<const int16_t>(chunk_.data(), n), kToneSampleRate)) {
        return core::CancelledError("synthesis stopped by the sink");
      }
      remaining -= n;
    }
    return core::OkStatus();
  }

 private:
  const int ms_per_char_;
  std::vector<int16_t> chunk_;
};

}  // namespace

std::unique_ptr<SttEngine> CreatePassthroughStt(const PassthroughOptions& options) {
  return std::make_unique<PassthroughStt>(Normalise(options.transcript));
}

std::unique_ptr<TtsEngine> CreateToneTts(const PassthroughOptions& options) {
  return std::make_unique<ToneTts>(options.ms_per_char);
}

void RegisterPassthroughProviders(SpeechProviders* providers, const PassthroughOptions& options) {
  providers->RegisterStt("passthrough", [options]() -> core::Result<std::unique_ptr<SttEngine>> {
    return CreatePassthroughStt(options);
  });
  providers->RegisterTts("tone", [options]() -> core::Result<std::unique_ptr<TtsEngine>> {
    return CreateToneTts(options);
  });
}

}  // namespace artagent::speech
