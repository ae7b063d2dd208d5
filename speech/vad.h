#pragma once
// Voice activity detection: a per-frame speech/non-speech classifier. Turn-taking (onset,
// hang-over, end of turn) is built on top of it in session/.

#include <cstdint>
#include <memory>
#include <span>

namespace artagent::speech {

struct VadOptions {
  // 0 (least aggressive, more speech) .. 3 (most aggressive). 2 is the measured sweet spot:
  // 99 % speech recall, 5.7 % false positives on silence (local-speech-stack.md §4b).
  int aggressiveness = 2;
};

// Not thread-safe: one per session, used from the session's executor.
class Vad {
 public:
  virtual ~Vad() = default;
  // `frame` is 10, 20 or 30 ms of 16 kHz mono PCM16. Returns true if it holds speech.
  virtual bool IsSpeech(std::span<const int16_t> frame) = 0;
  virtual void Reset() = 0;
};

}  // namespace artagent::speech
