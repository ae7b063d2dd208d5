// ParseWav on any bytes; a decoded result must be self-consistent and survive an encode/parse
// round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "audio/wav.h"

using artagent::audio::EncodeWav;
using artagent::audio::ParseWav;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto result = ParseWav(std::span<const uint8_t>(data, size));
  if (!result.ok()) return 0;
  const auto& wav = *result;
  if (wav.channels < 1 || wav.channels > artagent::audio::kMaxWavChannels) std::abort();
  if (wav.sample_rate < 1 || wav.sample_rate > artagent::audio::kMaxWavSampleRate) std::abort();
  if (wav.samples.size() % static_cast<size_t>(wav.channels) != 0) std::abort();
  // Decoded PCM16 is at most one sample per input byte (8-bit formats) .
  if (wav.samples.size() > size) std::abort();
  auto again = ParseWav(EncodeWav(wav));
  if (!again.ok() || again->samples != wav.samples || again->channels != wav.channels ||
      again->sample_rate != wav.sample_rate) {
    std::abort();
  }
  (void)artagent::audio::DownmixToMono(wav);
  return 0;
}
