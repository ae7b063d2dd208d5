#include "speech/local/flite_tts.h"

#include <flite.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <mutex>
#include <string_view>

// The voice libraries export their registration functions but flite installs no header for them.
extern "C" {
cst_voice* register_cmu_us_slt(const char* voxdir);
cst_voice* register_cmu_us_kal16(const char* voxdir);
cst_voice* register_cmu_us_rms(const char* voxdir);
cst_voice* register_cmu_us_awb(const char* voxdir);
cst_voice* register_cmu_us_kal(const char* voxdir);
}

namespace artagent::speech {
namespace {

// Thread-safety, measured and chosen:
//  * flite_synth_text() needs per-request settings (the streaming callback, duration_stretch) and
//    the usual way is to set them on the voice's features, which are global (register_cmu_us_X()
//    returns the same voice every time): two threads would overwrite each other's sink.
//  * utt_init() only *links* the voice's features behind the utterance's own, so this engine
//    builds the utterance itself and sets the per-request features on the utterance. The voice is
//    then only read during synthesis (its features, CARTs and clustergen model are read-only data,
//    the regex matcher returns a fresh state per call, rand() is locked by glibc), so requests for
//    one voice run in parallel with no lock. The alternative, a mutex per voice, serialises every
//    session speaking with the default voice onto one core (slt: ~13 ms of CPU per second of
//    audio); a voice copy per thread would need flite internals we do not own. What remains
//    shared is glibc's rand() lock (clustergen noise) and malloc: 20 slt replies synthesised by
//    2 threads made 36 futex calls in all (strace), i.e. no contention to speak of.
//    speech_bench's BM_FliteSltParallel measures 1 against 2 threads; flite_tts_test checks that
//    concurrent requests with different rates and sinks get exactly their own audio.
//  * Voice registration and flite_init() are not thread-safe: they run once, under call_once.
struct VoiceEntry {
  const char* name;
  cst_voice* (*register_fn)(const char*);
  cst_voice* voice;
};

std::array<VoiceEntry, 5>& VoiceTable() {
  static std::array<VoiceEntry, 5> table = {{
      {"slt", &register_cmu_us_slt, nullptr},
      {"kal16", &register_cmu_us_kal16, nullptr},
      {"rms", &register_cmu_us_rms, nullptr},
      {"awb", &register_cmu_us_awb, nullptr},
      {"kal", &register_cmu_us_kal, nullptr},
  }};
  return table;
}

void RegisterVoicesOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    flite_init();
    for (VoiceEntry& entry : VoiceTable()) {
      entry.voice = entry.register_fn(nullptr);
    }
  });
}

// Sentence-sized pieces: flite treats its whole input as one utterance, so the first audio of a
// long reply would wait for the whole reply's front end. Splitting after . ! ? ; and at line ends
// keeps the time to first audio at one sentence's worth (~10 ms for slt).
std::vector<std::string_view> SplitSentences(std::string_view text) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  auto emit = [&](size_t end) {
    std::string_view piece = text.substr(start, end - start);
    while (!piece.empty() && std::isspace(static_cast<unsigned char>(piece.front()))) {
      piece.remove_prefix(1);
    }
    while (!piece.empty() && std::isspace(static_cast<unsigned char>(piece.back()))) {
      piece.remove_suffix(1);
    }
    if (!piece.empty()) {
      pieces.push_back(piece);
    }
    start = end;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool at_end = i + 1 == text.size();
    if (c == '\n') {
      emit(i + 1);
    } else if ((c == '.' || c == '!' || c == '?' || c == ';') &&
               (at_end || std::isspace(static_cast<unsigned char>(text[i + 1])))) {
      emit(i + 1);
    }
  }
  emit(text.size());
  return pieces;
}

struct StreamState {
  const TtsAudioSink* sink = nullptr;
  bool stopped = false;
  int delivered = 0;  // samples of the current utterance's wave already handed to the sink
};

int OnAudio(const cst_wave* wave, int start, int size, int /*last*/,
            cst_audio_streaming_info* asi) {
  auto* state = static_cast<StreamState*>(asi->userdata);
  if (state->stopped) {
    return CST_AUDIO_STREAM_STOP;
  }
  if (size > 0) {
    std::span<const int16_t> pcm(wave->samples + start, static_cast<size_t>(size));
    if (!(*state->sink)(pcm, wave->sample_rate)) {
      state->stopped = true;
      return CST_AUDIO_STREAM_STOP;
    }
  }
  state->delivered = std::max(state->delivered, start + size);
  return CST_AUDIO_STREAM_CONT;
}

// Owns one flite utterance; the streaming info set on it is freed with it.
struct UtteranceDeleter {
  void operator()(cst_utterance* u) const { delete_utterance(u); }
};
using UtterancePtr = std::unique_ptr<cst_utterance, UtteranceDeleter>;

class FliteEngine final : public TtsEngine {
 public:
  std::string name() const override { return "flite"; }

  std::vector<std::string> Voices() const override {
    std::vector<std::string> names;
    for (const VoiceEntry& entry : VoiceTable()) {
      names.emplace_back(entry.name);
    }
    return names;
  }

  core::Status Synthesize(const TtsRequest& request, const TtsAudioSink& sink) override {
    cst_voice* voice = FindVoice(request.voice.empty() ? kFliteDefaultVoice : request.voice);
    if (voice == nullptr) {
      return core::NotFoundError("flite has no voice '" + request.voice +
                                 "' (voices: slt, kal16, " + "rms, awb, kal)");
    }
    if (!std::isfinite(request.rate) || request.rate < 0.5 || request.rate > 2.0) {
      return core::InvalidArgumentError("tts rate must be within 0.5 .. 2.0");
    }
    std::vector<std::string_view> sentences = SplitSentences(request.text);
    if (sentences.empty()) {
      return core::InvalidArgumentError("tts text is empty");
    }
    StreamState state;
    state.sink = &sink;
    for (std::string_view sentence : sentences) {
      ARTAGENT_RETURN_IF_ERROR(
          SynthesizeSentence(voice, std::string(sentence), request.rate, &state));
      if (state.stopped) {
        return core::CancelledError("tts stopped by its sink");
      }
    }
    return core::OkStatus();
  }

 private:
  static cst_voice* FindVoice(std::string_view name) {
    for (const VoiceEntry& entry : VoiceTable()) {
      if (name == entry.name) {
        return entry.voice;
      }
    }
    return nullptr;
  }

  static core::Status SynthesizeSentence(cst_voice* voice, const std::string& text, double rate,
                                         StreamState* state) {
    UtterancePtr utt(new_utterance());
    utt_set_input_text(utt.get(), text.c_str());
    utt_init(utt.get(), voice);

    cst_audio_streaming_info* asi = new_audio_streaming_info();
    asi->min_buffsize = 256;
    asi->asc = &OnAudio;
    asi->userdata = state;
    feat_set(utt->features, "streaming_info", audio_streaming_info_val(asi));  // utt owns asi
    // Voices carry their own stretch (kal16's is not 1.0): scale it, do not replace it.
    float stretch = get_param_float(voice->features, "duration_stretch", 1.0f);
    feat_set_float(utt->features, "duration_stretch", static_cast<float>(stretch / rate));

    state->delivered = 0;
    if (utt_synth(utt.get()) == nullptr) {
      return core::InternalError("flite failed to synthesise \"" + text + "\"");
    }
    if (state->stopped) {
      return core::OkStatus();
    }
    // The diphone voices (kal, kal16) do not call the streaming callback for every chunk: hand
    // out whatever part of the finished wave the callback has not delivered.
    const cst_wave* wave = utt_wave(utt.get());
    if (wave != nullptr && wave->num_samples > state->delivered) {
      std::span<const int16_t> rest(wave->samples + state->delivered,
                                    static_cast<size_t>(wave->num_samples - state->delivered));
      if (!(*state->sink)(rest, wave->sample_rate)) {
        state->stopped = true;
      }
    }
    return core::OkStatus();
  }
};

}  // namespace

core::Result<std::unique_ptr<TtsEngine>> CreateFliteEngine() {
  RegisterVoicesOnce();
  for (const VoiceEntry& entry : VoiceTable()) {
    if (entry.voice == nullptr) {
      return core::InternalError(std::string("flite voice '") + entry.name +
                                 "' failed to register");
    }
  }
  return std::unique_ptr<TtsEngine>(std::make_unique<FliteEngine>());
}

}  // namespace artagent::speech
