#pragma once
// pocketsphinx 5prealpha speech-to-text (embedded, offline, English, 16 kHz).
//
// Decoders cost ~100 MB and ~0.2 s to create and are not thread-safe, so the engine keeps a pool
// of warm ones: NewStream() takes an idle decoder (or creates one) and the stream hands it back
// when destroyed, reset to the language model and to the primed cepstral mean. The engine is
// thread-safe; each stream is used by one thread at a time (speech/stt.h).
//
// Priming: a fresh decoder's cepstral mean (CMN) is the model's generic initial value, so its first
// utterance comes out badly ("a ton of close" for "ten of clubs"). The engine decodes a priming
// clip once, keeps the resulting CMN and installs it in every new decoder, and again whenever a
// decoder returns to the pool, so every stream starts from the same warm state. Within a stream
// the CMN keeps adapting to its caller from utterance to utterance.
//
// Grammar mode (UseGrammar): JSGF search, ~15x cheaper than the language model, but any speech is
// forced onto some grammar sentence. Out-of-grammar rejection uses the hypothesis' mean acoustic
// score per speech frame (pocketsphinx scores senones relative to the best senone of each frame,
// so this measures how far the forced path is from the best unconstrained acoustic match); see
// PocketsphinxOptions::grammar_reject_score. A rejected utterance returns empty text and the
// confidence; with fallback_to_lm the utterance's audio (kept while in grammar mode) is decoded
// again with the language model, which costs one LM pass (~0.1-0.15 s of CPU per second of audio)
// at the end of that utterance only.
// UseGrammar()/UseLanguageModel() may be called at any time; they take effect at the next
// StartUtterance().

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "speech/stt.h"

namespace artagent::speech {

struct PocketsphinxOptions {
  // Acoustic model directory, pronunciation dictionary, language model (Debian
  // pocketsphinx-en-us).
  std::string hmm_dir = "/usr/share/pocketsphinx/model/en-us/en-us";
  std::string dict_path = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";
  std::string lm_path = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin";
  // Warm decoders created with the engine and kept idle afterwards; more are created on demand
  // when more streams are open at once, and freed when they come back to a full pool.
  int pool_size = 2;
  // -fwdflat no -bestpath no: measured best on this model (80 % word accuracy against 76 %, and
  // 13-60 ms from the last audio to the final hypothesis instead of 100-280 ms).
  bool low_latency = true;
  // Grammar-mode rejection. x = mean acoustic score per frame of the hypothesis' words (scaled log
  // units, <= 0). Measured on this model: in-grammar speech -10 .. -24 (flite slt/kal16 sentences,
  // the human cards recordings), out-of-grammar speech -39 .. -61 (flite sentences, librivox).
  // confidence = 1 / (1 + exp((grammar_reject_score - x) / grammar_score_scale)); an utterance is
  // rejected when confidence < 0.5, i.e. when x < grammar_reject_score. Noisy telephone audio
  // scores lower: raise the threshold's magnitude (e.g. -36) if good answers get rejected.
  double grammar_reject_score = -32.0;
  double grammar_score_scale = 3.0;
  // 16 kHz mono speech used once to warm up the cepstral mean. Empty: the engine synthesises
  // "thank you for calling, how can i help you today" with flite (slt).
  std::vector<int16_t> priming_audio;
};

// kNotFound if a model file is missing (install pocketsphinx-en-us), kInternal if pocketsphinx
// refuses the model. Blocks for ~0.3 s per pooled decoder: call it at start-up.
core::Result<std::unique_ptr<SttEngine>> CreatePocketsphinxEngine(
    const PocketsphinxOptions& options);

// Normalises a pocketsphinx hypothesis: lower case, single spaces, without <s>, </s>, <sil>,
// fillers ([NOISE], ++NOISE++) and alternate-pronunciation markers ("four(2)" -> "four").
std::string NormalizePocketsphinxText(std::string_view hypothesis);

}  // namespace artagent::speech
