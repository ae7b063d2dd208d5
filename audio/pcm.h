#pragma once
// PCM16 audio as it moves through artagent. Inside the engine audio is 16 kHz mono PCM16 in 20 ms
// frames (320 samples); transports convert at the edge. Buffers are immutable once published:
// share them as PcmBuffer.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace artagent::audio {

constexpr int kEngineSampleRate = 16000;
constexpr int kFrameMs = 20;
constexpr size_t kEngineFrameSamples = kEngineSampleRate * kFrameMs / 1000;  // 320

using Samples = std::vector<int16_t>;
using PcmBuffer = std::shared_ptr<const Samples>;

constexpr size_t SamplesPerFrame(int sample_rate, int frame_ms = kFrameMs) {
  return static_cast<size_t>(sample_rate) * frame_ms / 1000;
}
// Duration of `samples` mono samples at `sample_rate`, in milliseconds (floored).
constexpr int64_t SamplesToMs(size_t samples, int sample_rate) {
  return static_cast<int64_t>(samples) * 1000 / sample_rate;
}
constexpr size_t MsToSamples(int64_t ms, int sample_rate) {
  return static_cast<size_t>(ms * sample_rate / 1000);
}

// Little-endian bytes <-> samples (the wire order of every protocol we speak).
void BytesToSamples(std::span<const uint8_t> bytes, Samples* out);  // appends; odd byte dropped
void SamplesToBytes(std::span<const int16_t> samples, std::vector<uint8_t>* out);  // appends

}  // namespace artagent::audio
