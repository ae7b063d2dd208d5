#pragma once
// RecognizerPipe: one session's speech recognizer, driven from the session's executor. Opening
// the stream and every command on it (start, feed, end, cancel, grammar) run on the compute pool,
// in order, one job at a time — an SttStream is not thread-safe and decoding must never run on an
// I/O thread. Audio fed while a job runs is batched into the next job, so a slow decoder falls
// behind gracefully instead of flooding the pool. Results come back on the executor.

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/executor.h"
#include "speech/stt.h"

namespace artagent::session {

class RecognizerPipe {
 public:
  struct Outcome {
    enum class Kind { kPartial, kFinal, kOpenFailed, kFailed } kind = Kind::kPartial;
    uint64_t utterance = 0;
    std::string partial;       // kPartial: the current hypothesis
    speech::SttResult result;  // kFinal
    core::Status status;       // kOpenFailed / kFailed (and kFinal when the final failed)
  };
  // Runs on the executor, never after the pipe is destroyed.
  using Handler = std::function<void(const Outcome&)>;

  RecognizerPipe(std::shared_ptr<core::Executor> executor, core::ComputePool* pool,
                 speech::SttEngine* engine, Handler handler);
  ~RecognizerPipe();
  RecognizerPipe(const RecognizerPipe&) = delete;
  RecognizerPipe& operator=(const RecognizerPipe&) = delete;

  // Creates the stream in the background; commands queue up until it is there.
  void Open();
  // The stream could not be opened: no results will come.
  bool failed() const;

  void Start(uint64_t utterance);
  void Feed(uint64_t utterance, std::span<const int16_t> pcm16k);
  void End(uint64_t utterance);  // a kFinal outcome follows
  void Cancel(uint64_t utterance);
  void UseGrammar(const std::string& jsgf);
  void UseLanguageModel();
  void UsePhraseHints(const std::vector<std::string>& hints);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace artagent::session
