#pragma once
// Pass-through speech providers: engines that cost (almost) nothing, so that a load test measures
// the session engine and the transports rather than decoding and synthesis. Registered as stt
// "passthrough" and tts "tone" (speech.stt.provider / speech.tts.provider).
//
//   * PassthroughStt: every utterance that was fed any audio ends with the same canned transcript
//     (confidence 1); partials are empty; an utterance fed nothing ends empty. Grammars are
//     accepted and ignored.
//   * ToneTts: a quiet 400 Hz tone at 16 kHz lasting `ms_per_char` per character of the text,
//     handed out in 100 ms chunks as a streaming engine would. Any voice name is accepted.
//
// Both engines and their streams are cheap and thread-safe as the interfaces require.

#include <memory>
#include <string>

#include "core/status.h"
#include "speech/registry.h"
#include "speech/stt.h"
#include "speech/tts.h"

namespace artagent::speech {

inline constexpr char kPassthroughDefaultTranscript[] = "i want to file a claim";
inline constexpr int kToneSampleRate = 16000;

struct PassthroughOptions {
  std::string transcript = kPassthroughDefaultTranscript;  // normalised as SttResult::text is
  int ms_per_char = 60;                                    // tone duration per text character
};

std::unique_ptr<SttEngine> CreatePassthroughStt(const PassthroughOptions& options);
std::unique_ptr<TtsEngine> CreateToneTts(const PassthroughOptions& options);

// Registers stt "passthrough" and tts "tone".
void RegisterPassthroughProviders(SpeechProviders* providers, const PassthroughOptions& options);

}  // namespace artagent::speech
