#pragma once
// Speech-to-text. An SttEngine is a shared, thread-safe factory (models loaded once); an SttStream
// is one session's recognizer: it is NOT thread-safe, and the session serialises every call on it
// (jobs on the compute pool, one at a time), because decoding is CPU-heavy and must never run on an
// I/O thread.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace artagent::speech {

struct SttOptions {
  std::string language = "en-US";
  // Words or phrases likely to be said (names, product terms); engines that support it bias
  // recognition towards them.
  std::vector<std::string> phrase_hints;
};

struct SttResult {
  std::string text;         // normalised: lower case words separated by single spaces; may be empty
  double confidence = 0.0;  // 0..1, engine-specific calibration
  bool from_grammar = false;  // true if the grammar search produced it
};

class SttStream {
 public:
  virtual ~SttStream() = default;
  // Begins an utterance. Audio before this call is not recognised.
  virtual core::Status StartUtterance() = 0;
  // Feeds 16 kHz mono PCM16 (any length) and returns the current partial hypothesis (may be empty,
  // may change completely between calls).
  virtual core::Result<std::string> Feed(std::span<const int16_t> pcm) = 0;
  // Ends the utterance and returns the final hypothesis.
  virtual core::Result<SttResult> EndUtterance() = 0;
  // Abandons the current utterance, if any (barge-in of a turn that is being thrown away).
  virtual void CancelUtterance() = 0;

  // Grammar mode: the following utterances are recognised against a JSGF grammar (the expected
  // answers of a dialogue state). Speech outside the grammar is rejected (empty text, low
  // confidence) and, if `fallback_to_lm` is set, re-decoded with the language model.
  // InvalidArgument if the grammar does not parse; Unimplemented engines return FailedPrecondition.
  virtual core::Status UseGrammar(const std::string& jsgf, bool fallback_to_lm) = 0;
  // Back to open vocabulary (language-model) recognition.
  virtual void UseLanguageModel() = 0;

  // Words or phrases likely in the following utterances (the answering agent's
  // speech.phrase_hints), replacing earlier ones; engines that can bias recognition towards them
  // do so from the next utterance on, the others ignore them.
  virtual void UsePhraseHints(const std::vector<std::string>& hints) { (void)hints; }
};

class SttEngine {
 public:
  virtual ~SttEngine() = default;
  virtual std::string name() const = 0;
  // May block (creating a decoder costs ~0.2 s unless a warm one is pooled): call it on the compute
  // pool. The stream is ready to use: primed, so that its first utterance is recognised well.
  virtual core::Result<std::unique_ptr<SttStream>> NewStream(const SttOptions& options) = 0;
};

}  // namespace artagent::speech
