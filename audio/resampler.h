#pragma once
// Streaming sample-rate conversion of mono PCM16, for the edges of the engine: transports and TTS
// voices deliver 8, 16, 22.05, 24 or 48 kHz and the engine runs at 16 kHz (audio/pcm.h).
//
// Built on the speexdsp resampler because it is the low-latency choice: at quality 3-5 it holds
// back only 1.5-5 ms of audio, where soxr's streaming modes hold 8-54 ms (measurements in
// reference/local-speech-stack.md §4c). That delay is added to every turn twice (caller in, agent
// out), so it matters more than the last decibel of stop-band rejection. At the default quality
// the delay is 2 ms (16 <-> 22.05/24/48 kHz) or 4 ms (8 <-> 16 kHz: the filter is as long in
// samples but the 8 kHz samples are twice as long); see latency_samples().

#include <cstdint>
#include <memory>
#include <span>

#include "audio/pcm.h"
#include "core/status.h"

namespace artagent::audio {

constexpr int kMinResampleRate = 8000;
constexpr int kMaxResampleRate = 48000;
constexpr int kDefaultResampleQuality = 4;

// One mono stream. Not thread-safe: a Resampler belongs to one session (one strand) and keeps
// filter state between calls, so the chunks of one stream must go through the same instance in
// order. Process() never fails and never throws except for allocation failure.
class Resampler {
 public:
  // in_rate and out_rate must lie in [kMinResampleRate, kMaxResampleRate] and quality in [0, 10]
  // (speex's scale: 0 fastest, 10 best); anything else is kInvalidArgument. Equal rates are
  // allowed and make Process() a plain copy with zero latency.
  static core::Result<std::unique_ptr<Resampler>> Create(int in_rate, int out_rate,
                                                         int quality = kDefaultResampleQuality);

  ~Resampler();
  Resampler(const Resampler&) = delete;
  Resampler& operator=(const Resampler&) = delete;

  // Converts `in` and appends the result to `out`. Any chunk size is fine, including 0 and 1; the
  // concatenated output does not depend on how the input was chunked. The output is delayed by
  // latency_samples() (the filter's warm-up comes out first as near-silence), so over a stream the
  // number of output samples tracks in_count * out_rate / in_rate within one sample: 20 ms in
  // gives 20 ms out, which keeps playout pacing simple. The last latency_samples() of the signal
  // stay inside the filter until more input (or silence) pushes them out.
  void Process(std::span<const int16_t> in, Samples* out);

  // Forgets all history, as if freshly created (use between unrelated streams, e.g. after a
  // barge-in drops the rest of an utterance).
  void Reset();

  // Delay of the output signal relative to the input, in output samples (0 for equal rates).
  int latency_samples() const { return latency_samples_; }
  int in_rate() const { return in_rate_; }
  int out_rate() const { return out_rate_; }

 private:
  struct SpeexState;  // hides speex's headers from users of this one
  Resampler(int in_rate, int out_rate, std::unique_ptr<SpeexState> state);

  const int in_rate_;
  const int out_rate_;
  const std::unique_ptr<SpeexState> state_;  // null when in_rate == out_rate
  int latency_samples_ = 0;
};

// Converts a whole clip at once (files, test fixtures, a finished TTS utterance), at the default
// quality. Unlike streaming Process() the result is time-aligned with the input, with no
// warm-up delay and the filter's tail flushed, and has exactly round(in.size() * out_rate /
// in_rate) samples. Rates outside [kMinResampleRate, kMaxResampleRate] give an empty result.
Samples ResampleAll(std::span<const int16_t> in, int in_rate, int out_rate);

}  // namespace artagent::audio
