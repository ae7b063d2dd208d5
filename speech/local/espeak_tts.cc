#include "speech/local/espeak_tts.h"

#include <espeak-ng/espeak_ng.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <mutex>
#include <string>
#include <vector>

namespace artagent::speech {
namespace {

// Everything below is process-wide state of libespeak-ng, guarded by one mutex.
std::mutex& EspeakMutex() {
  static std::mutex mu;
  return mu;
}

struct GlobalState {
  bool initialized = false;
  core::Status init_status;
  int sample_rate = 0;
  std::vector<std::string> voices;  // lower-case language codes and voice names
  std::vector<std::string> language_codes;
};

GlobalState& State() {
  static GlobalState state;
  return state;
}

struct Request {
  const TtsAudioSink* sink = nullptr;
  int sample_rate = 0;
  bool stopped = false;
};

// Runs inside espeak_ng_Synthesize() (synchronous mode), on the caller's thread, under the mutex.
// Returning 1 aborts the synthesis.
int OnSynth(short* wav, int num_samples, espeak_EVENT* events) {
  auto* request = static_cast<Request*>(events != nullptr ? events->user_data : nullptr);
  if (request == nullptr || request->stopped) {
    return 1;
  }
  if (wav != nullptr && num_samples > 0) {
    std::span<const int16_t> pcm(reinterpret_cast<const int16_t*>(wav),
                                 static_cast<size_t>(num_samples));
    if (!(*request->sink)(pcm, request->sample_rate)) {
      request->stopped = true;
      return 1;
    }
  }
  return 0;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string StatusMessage(espeak_ng_STATUS status) {
  char buffer[256] = {};
  espeak_ng_GetStatusCodeMessage(status, buffer, sizeof buffer);
  return buffer;
}

// Caller holds the mutex.
core::Status InitializeLocked() {
  GlobalState& state = State();
  if (state.initialized) {
    return state.init_status;
  }
  state.initialized = true;
  espeak_ng_InitializePath(nullptr);
  espeak_ng_ERROR_CONTEXT context = nullptr;
  espeak_ng_STATUS status = espeak_ng_Initialize(&context);
  espeak_ng_ClearErrorContext(&context);
  if (status == ENS_OK) {
    status = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 20, nullptr);
  }
  if (status != ENS_OK) {
    state.init_status =
        core::UnavailableError("espeak-ng failed to initialise: " + StatusMessage(status));
    return state.init_status;
  }
  espeak_SetSynthCallback(&OnSynth);
  state.sample_rate = espeak_ng_GetSampleRate();
  for (const espeak_VOICE** v = espeak_ListVoices(nullptr); v != nullptr && *v != nullptr; ++v) {
    // `languages` is a list of (priority byte, zero-terminated code) ended by an empty code.
    for (const char* lang = (*v)->languages; lang != nullptr && lang[0] != 0 && lang[1] != 0;
         lang += std::char_traits<char>::length(lang + 1) + 2) {
      std::string code = Lower(lang + 1);
      if (std::find(state.language_codes.begin(), state.language_codes.end(), code) ==
          state.language_codes.end()) {
        state.language_codes.push_back(code);
      }
    }
    if ((*v)->name != nullptr) {
      state.voices.push_back(Lower((*v)->name));
    }
  }
  state.voices.insert(state.voices.end(), state.language_codes.begin(), state.language_codes.end());
  return core::OkStatus();
}

class EspeakEngine final : public TtsEngine {
 public:
  std::string name() const override { return "espeak-ng"; }

  std::vector<std::string> Voices() const override {
    std::lock_guard<std::mutex> lock(EspeakMutex());
    return State().language_codes;
  }

  core::Status Synthesize(const TtsRequest& request, const TtsAudioSink& sink) override {
    std::string voice = Lower(request.voice.empty() ? kEspeakDefaultVoice : request.voice);
    if (!std::isfinite(request.rate) || request.rate < 0.5 || request.rate > 2.0) {
      return core::InvalidArgumentError("tts rate must be within 0.5 .. 2.0");
    }
    if (std::all_of(request.text.begin(), request.text.end(),
                    [](unsigned char c) { return std::isspace(c); })) {
      return core::InvalidArgumentError("tts text is empty");
    }
    std::lock_guard<std::mutex> lock(EspeakMutex());
    GlobalState& state = State();
    // espeak-ng falls back to a default voice for names it does not know: check them ourselves.
    if (std::find(state.voices.begin(), state.voices.end(), voice) == state.voices.end()) {
      return core::NotFoundError("espeak-ng has no voice '" + request.voice +
                                 "' (use a language code such as en, en-us, fr)");
    }
    espeak_ng_STATUS status = espeak_ng_SetVoiceByName(voice.c_str());
    if (status != ENS_OK) {
      return core::NotFoundError("espeak-ng cannot load voice '" + request.voice +
                                 "': " + StatusMessage(status));
    }
    espeak_ng_SetParameter(espeakRATE,
                           static_cast<int>(std::lround(espeakRATE_NORMAL * request.rate)), 0);
    Request req;
    req.sink = &sink;
    req.sample_rate = state.sample_rate;
    status = espeak_ng_Synthesize(request.text.c_str(), request.text.size() + 1, 0, POS_CHARACTER,
                                  0, espeakCHARS_UTF8, nullptr, &req);
    if (req.stopped) {
      espeak_ng_Cancel();
      return core::CancelledError("tts stopped by its sink");
    }
    if (status != ENS_OK) {
      return core::InternalError("espeak-ng synthesis failed: " + StatusMessage(status));
    }
    espeak_ng_Synchronize();
    return core::OkStatus();
  }
};

}  // namespace

core::Result<std::unique_ptr<TtsEngine>> CreateEspeakEngine() {
  std::lock_guard<std::mutex> lock(EspeakMutex());
  ARTAGENT_RETURN_IF_ERROR(InitializeLocked());
  return std::unique_ptr<TtsEngine>(std::make_unique<EspeakEngine>());
}

}  // namespace artagent::speech
