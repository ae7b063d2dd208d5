// Realtime protocol hot paths: one input_audio_buffer.append in, one response.output_audio.delta
// out, each carrying 20 ms of 24 kHz PCM16.

#include <benchmark/benchmark.h>

#include <cmath>

#include "core/base64.h"
#include "transport/realtime/realtime_protocol.h"

namespace artagent::transport::realtime {
namespace {

audio::Samples Frame24k() {
  audio::Samples s(480);
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<int16_t>(8000 * std::sin(i * 0.1));
  return s;
}

void BM_ParseAndDecodeAppend(benchmark::State& state) {
  audio::Samples frame = Frame24k();
  std::string event = R"({"type":"input_audio_buffer.append","audio":")" +
                      core::Base64Encode(frame.data(), frame.size() * 2) + "\"}";
  AudioFormat fmt;
  audio::Samples out;
  for (auto _ : state) {
    ProtocolError err;
    auto ev = ParseClientEvent(event, &err);
    out.clear();
    auto st = DecodeAudio(std::get<AudioAppend>(ev->body).audio_base64, fmt, &out);
    benchmark::DoNotOptimize(st);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(event.size()));
}
BENCHMARK(BM_ParseAndDecodeAppend);

void BM_EncodeAudioDelta(benchmark::State& state) {
  ServerEventEncoder enc("b_");
  SessionConfig cfg;
  auto frame = std::make_shared<audio::Samples>(Frame24k());
  session::AudioChunk chunk{"resp_0123456789abcdefghij", "item_0123456789abcdefghij", frame, 24000};
  session::SessionEvent ev = chunk;
  std::vector<std::string> out;
  for (auto _ : state) {
    out.clear();
    enc.Encode(ev, cfg, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeAudioDelta);

void BM_EncodeAudioDeltaMulaw(benchmark::State& state) {
  ServerEventEncoder enc("b_");
  SessionConfig cfg;
  cfg.output_format = AudioFormat{AudioFormat::Encoding::kMulaw, 8000};
  auto frame = std::make_shared<audio::Samples>(audio::Samples(160, 1000));
  session::SessionEvent ev = session::AudioChunk{"resp_1", "item_1", frame, 8000};
  std::vector<std::string> out;
  for (auto _ : state) {
    out.clear();
    enc.Encode(ev, cfg, &out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeAudioDeltaMulaw);

void BM_EncodeTextDelta(benchmark::State& state) {
  ServerEventEncoder enc("b_");
  SessionConfig cfg;
  session::SessionEvent ev = session::TextDelta{"resp_1", "item_1", " claim"};
  std::vector<std::string> out;
  for (auto _ : state) {
    out.clear();
    enc.Encode(ev, cfg, &out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeTextDelta);

}  // namespace
}  // namespace artagent::transport::realtime
