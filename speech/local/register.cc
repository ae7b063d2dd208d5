#include "speech/local/register.h"

#include "speech/local/espeak_tts.h"
#include "speech/local/flite_tts.h"
#include "speech/local/webrtc_vad.h"

namespace artagent::speech {

void RegisterLocalProviders(SpeechProviders* providers, const LocalSpeechOptions& options) {
  providers->RegisterVad("webrtc", &CreateWebRtcVad);
  providers->RegisterStt("pocketsphinx", [pocketsphinx = options.pocketsphinx] {
    return CreatePocketsphinxEngine(pocketsphinx);
  });
  providers->RegisterTts("flite", &CreateFliteEngine);
  providers->RegisterTts("espeak-ng", &CreateEspeakEngine);
}

}  // namespace artagent::speech
