#include "audio/pcm.h"

namespace artagent::audio {

void BytesToSamples(std::span<const uint8_t> bytes, Samples* out) {
  const size_t count = bytes.size() / 2;
  const size_t base = out->size();
  out->resize(base + count);
  int16_t* dst = out->data() + base;
  for (size_t i = 0; i < count; ++i) {
    // Assemble explicitly so the result is little-endian on any host.
    const uint16_t lo = bytes[2 * i];
    const uint16_t hi = bytes[2 * i + 1];
    dst[i] = static_cast<int16_t>(static_cast<uint16_t>(lo | (hi << 8)));
  }
}

void SamplesToBytes(std::span<const int16_t> samples, std::vector<uint8_t>* out) {
  const size_t base = out->size();
  out->resize(base + samples.size() * 2);
  uint8_t* dst = out->data() + base;
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto value = static_cast<uint16_t>(samples[i]);
    dst[2 * i] = static_cast<uint8_t>(value & 0xFF);
    dst[2 * i + 1] = static_cast<uint8_t>(value >> 8);
  }
}

}  // namespace artagent::audio
