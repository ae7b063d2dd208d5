// Session engine hot paths: per 20 ms frame of caller audio, per text delta.

#include <benchmark/benchmark.h>

#include "core/fake_executor.h"
#include "session/clause_chunker.h"
#include "session/endpoint_detector.h"
#include "session/fakes_for_test.h"
#include "session/session.h"

namespace artagent::session {
namespace {

void BM_ClauseChunkerPerDelta(benchmark::State& state) {
  const std::vector<std::string> words = {"I",       " can",  " help",   " you",    " file",
                                          " a",      " claim,", " and",  " then",   " we",
                                          " will",   " review", " your", " policy.", " Thanks!"};
  ClauseChunker chunker;
  std::vector<std::string> out;
  size_t i = 0;
  for (auto _ : state) {
    chunker.Push(words[i++ % words.size()], &out);
    if (out.size() > 64) out.clear();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClauseChunkerPerDelta);

void BM_EndpointDetectorPerFrame(benchmark::State& state) {
  EndpointDetector d;
  int64_t n = 0;
  for (auto _ : state) {
    // 1 s of speech, 1 s of silence, repeating.
    benchmark::DoNotOptimize(d.Push((n++ / 50) % 2 == 0));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EndpointDetectorPerFrame);

// The whole engine on caller audio, pass-through providers (energy VAD, scripted STT on a fake
// compute pool): what the engine itself costs per 20 ms frame while the caller talks and pauses.
class NullOutput : public SessionOutput {
 public:
  void OnSessionEvent(SessionEvent) override { ++events; }
  int64_t events = 0;
};

// A session on a fake clock with pass-through providers and the echo model.
struct Bench {
  std::shared_ptr<core::FakeExecutor> ex = std::make_shared<core::FakeExecutor>();
  testing::ScriptedStt stt;
  testing::ToneTts tts;
  NullOutput out;
  std::shared_ptr<Session> session;

  explicit Bench(bool create_response) {
    SessionDeps deps;
    deps.executor = ex;
    deps.compute = ex.get();
    deps.vad = std::make_unique<testing::EnergyVad>();
    deps.stt = &stt;
    deps.tts = &tts;
    deps.responder = std::make_unique<testing::EchoResponder>(ex.get());
    deps.output = &out;
    SessionOptions opts;
    opts.speak_greeting = false;
    opts.create_response = create_response;
    opts.output_sample_rate = 16000;
    session = Session::Create(std::move(deps), opts);
    session->Start();
  }
  ~Bench() { session->Close("ended"); }
};

void BM_SessionPerInputFrame(benchmark::State& state) {
  Bench b(/*create_response=*/false);  // the input path only
  auto& ex = b.ex;
  auto& session = b.session;
  ex->RunPending();
  const audio::Samples speech = testing::Tone(20);
  const audio::Samples silence = testing::Silence(20);
  int64_t n = 0;
  for (auto _ : state) {
    const bool talking = (n++ / 100) % 2 == 0;  // 2 s talk, 2 s pause
    session->PushAudio(talking ? speech : silence, 16000);
    ex->RunPending();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["events"] = static_cast<double>(b.out.events);
}
BENCHMARK(BM_SessionPerInputFrame);

// Agent output: from model text to paced 20 ms frames (TTS is a tone generator).
void BM_SessionResponsePipeline(benchmark::State& state) {
  Bench b(/*create_response=*/true);
  auto& ex = b.ex;
  auto& session = b.session;
  int64_t frames = 0;
  for (auto _ : state) {
    session->AddUserText("i want to file a claim for my car");
    session->CreateResponse();
    while (session->response_active()) {
      ex->AdvanceBy(core::milliseconds(20));
      ++frames;
    }
  }
  state.SetItemsProcessed(frames);  // items = 20 ms frames of agent audio paced out
}
BENCHMARK(BM_SessionResponsePipeline);

}  // namespace
}  // namespace artagent::session
