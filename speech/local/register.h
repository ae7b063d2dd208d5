#pragma once
// Registers the embedded (offline) speech providers: vad "webrtc", stt "pocketsphinx",
// tts "flite" and "espeak-ng". Nothing is loaded until an engine is created. Every CreateStt()
// builds a new pocketsphinx engine with its own decoder pool (~100 MB per decoder): create it once
// and share it; engines are thread-safe.

#include "speech/local/pocketsphinx_stt.h"
#include "speech/registry.h"

namespace artagent::speech {

struct LocalSpeechOptions {
  PocketsphinxOptions pocketsphinx;
};

void RegisterLocalProviders(SpeechProviders* providers, const LocalSpeechOptions& options);

}  // namespace artagent::speech
