#pragma once
// Text-to-speech. A TtsEngine is shared and thread-safe; Synthesize() blocks and runs on the
// compute pool, handing audio out chunk by chunk as it is produced so that playback can start
// before the whole clause is synthesised.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace artagent::speech {

struct TtsRequest {
  std::string text;
  std::string voice;  // engine-specific name ("slt", "kal16", "en-us"); empty = engine default
  double rate = 1.0;  // speaking rate multiplier, 0.5 .. 2.0
};

// Receives successive chunks of mono PCM16 at `sample_rate` (constant for one request). Return
// false to stop synthesis early (barge-in); Synthesize() then returns kCancelled.
using TtsAudioSink = std::function<bool(std::span<const int16_t> pcm, int sample_rate)>;

class TtsEngine {
 public:
  virtual ~TtsEngine() = default;
  virtual std::string name() const = 0;
  virtual std::vector<std::string> Voices() const = 0;
  // kNotFound for an unknown voice, kInvalidArgument for empty text, kCancelled if the sink
  // stopped it.
  virtual core::Status Synthesize(const TtsRequest& request, const TtsAudioSink& sink) = 0;
};

}  // namespace artagent::speech
