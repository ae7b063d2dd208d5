#pragma once
// espeak-ng 1.51 text-to-speech (embedded, offline, many languages, 22050 Hz). Formant synthesis:
// intelligible to people, but recognised poorly by pocketsphinx, so it is not the test voice.
//
// Voices are espeak-ng language codes ("en", "en-us", "fr", ...) or voice names; Voices() lists the
// language codes. Default "en".
//
// espeak-ng's API is a process-wide singleton (one voice, one callback, one synthesis at a time):
// every engine shares one global mutex, so Synthesize() calls are serialised across the process.
// That is cheap: ~1 ms of CPU per sentence (RTF 0.0005).

#include <memory>

#include "core/status.h"
#include "speech/tts.h"

namespace artagent::speech {

inline constexpr char kEspeakDefaultVoice[] = "en";

// kUnavailable if espeak-ng cannot find its data (package espeak-ng-data).
core::Result<std::unique_ptr<TtsEngine>> CreateEspeakEngine();

}  // namespace artagent::speech
