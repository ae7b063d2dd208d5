#pragma once
// flite 2.2 text-to-speech (embedded, offline). Voices: "slt" (default, 16 kHz, clustergen),
// "kal16" (16 kHz diphone, deterministic), "rms", "awb" (16 kHz clustergen) and "kal" (8 kHz
// diphone). The sink receives each voice's native rate; nothing is resampled here.
//
// Streaming: text is split into sentences and each sentence is one flite utterance; the clustergen
// voices hand audio out in ~20 ms chunks while they synthesise (first audio ~10 ms after the call
// for a sentence), the diphone voices once per sentence (they take ~1 ms per sentence).
//
// Thread-safety: Synthesize() may be called from any number of threads at once, also for the same
// voice (see flite_tts.cc for why that is safe without a lock).
//
// Determinism: kal/kal16 are bit-exact from run to run. The clustergen voices draw excitation noise
// from the C library's rand(); this engine never seeds it, so a test that needs bit-exact
// slt/rms/awb output calls srand() itself before a single-threaded Synthesize().

#include <memory>

#include "core/status.h"
#include "speech/tts.h"

namespace artagent::speech {

inline constexpr char kFliteDefaultVoice[] = "slt";

core::Result<std::unique_ptr<TtsEngine>> CreateFliteEngine();

}  // namespace artagent::speech
