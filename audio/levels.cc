#include "audio/levels.h"

#include <algorithm>
#include <cmath>

namespace artagent::audio {

double Rms(std::span<const int16_t> samples) {
  if (samples.empty()) {
    return 0.0;
  }
  // Integer accumulation is exact: each square is < 2^30, so 2^33 of them fit in uint64 (hours
  // of audio at 48 kHz). Splitting keeps it exact for any length.
  constexpr size_t kBlock = size_t{1} << 32;
  double sum = 0.0;
  for (size_t start = 0; start < samples.size(); start += kBlock) {
    const size_t end = std::min(samples.size(), start + kBlock);
    uint64_t block_sum = 0;
    for (size_t i = start; i < end; ++i) {
      const int32_t s = samples[i];
      block_sum += static_cast<uint64_t>(s * s);
    }
    sum += static_cast<double>(block_sum);
  }
  return std::sqrt(sum / static_cast<double>(samples.size())) / 32768.0;
}

double RmsDbfs(std::span<const int16_t> samples) {
  const double rms = Rms(samples);
  if (rms <= 0.0) {
    return kSilenceDbfs;
  }
  return std::max(kSilenceDbfs, 20.0 * std::log10(rms));
}

int16_t Peak(std::span<const int16_t> samples) {
  int peak = 0;
  for (const int16_t s : samples) {
    peak = std::max(peak, s < 0 ? -static_cast<int>(s) : static_cast<int>(s));
  }
  return static_cast<int16_t>(std::min(peak, 32767));
}

}  // namespace artagent::audio
