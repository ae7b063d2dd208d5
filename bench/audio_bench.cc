// Audio primitives per 20 ms frame: the unit every session pays for at the edges of the engine.
// items_per_second is frames per second; divide into 1 s for the per-frame cost.

#include <benchmark/benchmark.h>

#include <cmath>
#include <numbers>

#include "audio/g711.h"
#include "audio/resampler.h"

namespace artagent::audio {
namespace {

Samples Tone(int rate, size_t n) {
  Samples s(n);
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<int16_t>(
        12000 * std::sin(2 * std::numbers::pi * 440 * static_cast<double>(i) / rate));
  }
  return s;
}

// Args: input rate, output rate. One iteration converts one 20 ms chunk.
void BM_ResampleFrame(benchmark::State& state) {
  const int in_rate = static_cast<int>(state.range(0));
  const int out_rate = static_cast<int>(state.range(1));
  auto resampler = Resampler::Create(in_rate, out_rate);
  if (!resampler.ok()) {
    state.SkipWithError(resampler.status().ToString().c_str());
    return;
  }
  const Samples chunk = Tone(in_rate, SamplesPerFrame(in_rate));
  Samples out;
  out.reserve(SamplesPerFrame(out_rate) * 2);
  for (auto _ : state) {
    out.clear();
    (*resampler)->Process(chunk, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::to_string(in_rate) + "->" + std::to_string(out_rate));
}
BENCHMARK(BM_ResampleFrame)
    ->Args({24000, 16000})
    ->Args({16000, 24000})
    ->Args({8000, 16000})
    ->Args({16000, 8000})
    ->Args({48000, 16000})
    ->Args({22050, 16000});

// Telephony frames: 20 ms at 8 kHz = 160 samples.
void BM_MulawEncodeFrame(benchmark::State& state) {
  const Samples chunk = Tone(8000, SamplesPerFrame(8000));
  std::vector<uint8_t> out;
  out.reserve(chunk.size());
  for (auto _ : state) {
    out.clear();
    MulawEncode(chunk, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MulawEncodeFrame);

void BM_MulawDecodeFrame(benchmark::State& state) {
  std::vector<uint8_t> codes;
  MulawEncode(Tone(8000, SamplesPerFrame(8000)), &codes);
  Samples out;
  out.reserve(codes.size());
  for (auto _ : state) {
    out.clear();
    MulawDecode(codes, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MulawDecodeFrame);

void BM_AlawEncodeFrame(benchmark::State& state) {
  const Samples chunk = Tone(8000, SamplesPerFrame(8000));
  std::vector<uint8_t> out;
  out.reserve(chunk.size());
  for (auto _ : state) {
    out.clear();
    AlawEncode(chunk, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AlawEncodeFrame);

}  // namespace
}  // namespace artagent::audio
