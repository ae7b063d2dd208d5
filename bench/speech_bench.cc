// Embedded speech providers: cost per VAD frame, pocketsphinx real-time factor (CPU seconds per
// audio second) in language-model and grammar mode, flite / espeak-ng time to first audio and RTF.
//
//   ./build/bench/artagent_speech_bench [--benchmark_filter=Pocketsphinx]
//
// Counters: rtf = CPU seconds of the decoding / synthesising thread per second of audio;
// end_ms = wall time from the last Feed() to the final result; ttfa_ms = wall time from
// Synthesize() to the first chunk.

#include <benchmark/benchmark.h>

#include <chrono>
#include <ctime>
#include <memory>

#include "speech/local/espeak_tts.h"
#include "speech/local/flite_tts.h"
#include "speech/local/pocketsphinx_stt.h"
#include "speech/local/speech_test_util.h"
#include "speech/local/webrtc_vad.h"

namespace artagent::speech {
namespace {

constexpr char kCallerSentence[] = "my policy number is four five six seven";  // ~3 s with kal16
using test_audio::kAnswers;
constexpr char kReply[] =
    "I can help you file a claim for your car. First, I will need your policy number. "
    "Please say the digits one at a time.";

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double MsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

TtsEngine& Flite() {
  static std::unique_ptr<TtsEngine> engine = std::move(CreateFliteEngine()).value();
  return *engine;
}

std::vector<int16_t> Say(const std::string& text) {
  std::vector<int16_t> pcm;
  (void)Flite().Synthesize({text, "kal16", 1.0}, [&](std::span<const int16_t> chunk, int) {
    pcm.insert(pcm.end(), chunk.begin(), chunk.end());
    return true;
  });
  return pcm;
}

void BM_WebRtcVadFrame20ms(benchmark::State& state) {
  std::vector<int16_t> speech = Say(kCallerSentence);
  auto vad = std::move(CreateWebRtcVad({2})).value();
  size_t offset = 0;
  for (auto _ : state) {
    if (offset + 320 > speech.size()) offset = 0;
    benchmark::DoNotOptimize(vad->IsSpeech({speech.data() + offset, 320}));
    offset += 320;
  }
}
BENCHMARK(BM_WebRtcVadFrame20ms);

SttEngine& Pocketsphinx() {
  static std::unique_ptr<SttEngine> engine = [] {
    PocketsphinxOptions options;
    options.pool_size = 1;
    return std::move(CreatePocketsphinxEngine(options)).value();
  }();
  return *engine;
}

// One utterance per iteration, fed in 20 ms chunks as a session does.
void DecodeUtterances(benchmark::State& state, const std::string& sentence, bool grammar,
                      bool fallback) {
  std::vector<int16_t> pcm = Say(sentence);
  auto stream = std::move(Pocketsphinx().NewStream({})).value();
  if (grammar && !stream->UseGrammar(kAnswers, fallback).ok()) {
    state.SkipWithError("grammar refused");
    return;
  }
  double cpu = 0, end_ms = 0;
  std::string text;
  for (auto _ : state) {
    double cpu_start = ThreadCpuSeconds();
    (void)stream->StartUtterance();
    for (size_t i = 0; i < pcm.size(); i += 320) {
      benchmark::DoNotOptimize(
          stream->Feed({pcm.data() + i, std::min<size_t>(320, pcm.size() - i)}));
    }
    auto end_start = std::chrono::steady_clock::now();
    auto result = stream->EndUtterance();
    end_ms += MsSince(end_start);
    cpu += ThreadCpuSeconds() - cpu_start;
    text = result.ok() ? result->text : result.status().ToString();
  }
  double audio_s = pcm.size() / 16000.0 * state.iterations();
  state.counters["audio_s"] = pcm.size() / 16000.0;
  state.counters["rtf"] = cpu / audio_s;
  state.counters["end_ms"] = end_ms / state.iterations();
  state.SetLabel(text);
}

void BM_PocketsphinxLanguageModel(benchmark::State& state) {
  DecodeUtterances(state, kCallerSentence, false, false);
}
BENCHMARK(BM_PocketsphinxLanguageModel)->Unit(benchmark::kMillisecond)->Iterations(8);

void BM_PocketsphinxGrammar(benchmark::State& state) {
  DecodeUtterances(state, kCallerSentence, true, false);
}
BENCHMARK(BM_PocketsphinxGrammar)->Unit(benchmark::kMillisecond)->Iterations(30);

// An out-of-grammar utterance: rejected by the grammar, decoded again by the language model.
void BM_PocketsphinxGrammarRejectedWithFallback(benchmark::State& state) {
  DecodeUtterances(state, "my car was hit in the parking lot", true, true);
}
BENCHMARK(BM_PocketsphinxGrammarRejectedWithFallback)->Unit(benchmark::kMillisecond)->Iterations(8);

void Synthesise(benchmark::State& state, TtsEngine& engine, const std::string& voice) {
  double ttfa_ms = 0, cpu = 0, audio_s = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    double cpu_start = ThreadCpuSeconds();
    double first = -1;
    size_t samples = 0;
    int rate = 1;
    (void)engine.Synthesize({kReply, voice, 1.0}, [&](std::span<const int16_t> pcm, int r) {
      if (first < 0) first = MsSince(start);
      samples += pcm.size();
      rate = r;
      return true;
    });
    cpu += ThreadCpuSeconds() - cpu_start;
    ttfa_ms += first;
    audio_s += double(samples) / rate;
  }
  state.counters["ttfa_ms"] = ttfa_ms / state.iterations();
  state.counters["rtf"] = cpu / audio_s;
  state.counters["audio_s"] = audio_s / state.iterations();
}

void BM_FliteSlt(benchmark::State& state) { Synthesise(state, Flite(), "slt"); }
BENCHMARK(BM_FliteSlt)->Unit(benchmark::kMillisecond);

void BM_FliteKal16(benchmark::State& state) { Synthesise(state, Flite(), "kal16"); }
BENCHMARK(BM_FliteKal16)->Unit(benchmark::kMillisecond);

// Same voice from 1 and 2 threads at once: with no lock around the shared voice the throughput
// (items_per_second, replies per second of wall time) should scale with the cores.
void BM_FliteSltParallel(benchmark::State& state) {
  for (auto _ : state) {
    (void)Flite().Synthesize({kReply, "slt", 1.0},
                             [](std::span<const int16_t>, int) { return true; });
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_FliteSltParallel)
    ->Unit(benchmark::kMillisecond)
    ->Threads(1)
    ->Threads(2)
    ->UseRealTime();

void BM_EspeakEn(benchmark::State& state) {
  static std::unique_ptr<TtsEngine> espeak = std::move(CreateEspeakEngine()).value();
  Synthesise(state, *espeak, "en");
}
BENCHMARK(BM_EspeakEn)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace artagent::speech
