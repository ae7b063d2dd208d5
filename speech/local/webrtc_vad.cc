#include "speech/local/webrtc_vad.h"

#include <cstddef>
#include <cstdint>
#include <string>

// Why the standalone C functions and not AudioProcessing::voice_detection():
//  * both give identical decisions (local-speech-stack.md §4a: APM likelihood low = mode 2);
//  * an APM instance carries the whole processing chain (buffers, band splitting, optional
//    modules): far more memory per session than the ~1 KB VadInst, against the budget of < 1 MB
//    per session at 500 sessions per core; it also only takes 10 ms AudioFrames, so 20 ms engine
//    frames would be split and copied, and it drags the library's C++ ABI into our build;
//  * the price is that libwebrtc-audio-processing exports WebRtcVad_* without installing a header.
//    The prototypes below are those of upstream common_audio/vad/include/webrtc_vad.h in the
//    WebRTC revision the 0.3 library was cut from (Create() returning the instance, size_t frame
//    length; older revisions differ) and were checked against the binary by disassembly
//    (local-speech-stack.md §4a). CreateWebRtcVad() also asks the library, at run time, whether it
//    accepts our rate and frame sizes, so a different library fails loudly at start-up.
extern "C" {
struct WebRtcVadInst;
typedef struct WebRtcVadInst VadInst;
VadInst* WebRtcVad_Create(void);
void WebRtcVad_Free(VadInst* handle);
int WebRtcVad_Init(VadInst* handle);
int WebRtcVad_set_mode(VadInst* handle, int mode);
int WebRtcVad_Process(VadInst* handle, int fs, const int16_t* audio_frame, size_t frame_length);
int WebRtcVad_ValidRateAndFrameLength(int rate, size_t frame_length);
}

namespace artagent::speech {
namespace {

constexpr int kRate = 16000;

bool ValidFrameLength(size_t n) { return n == 160 || n == 320 || n == 480; }

class WebRtcVad final : public Vad {
 public:
  WebRtcVad(VadInst* inst, int mode) : inst_(inst), mode_(mode) {}
  ~WebRtcVad() override { WebRtcVad_Free(inst_); }
  WebRtcVad(const WebRtcVad&) = delete;
  WebRtcVad& operator=(const WebRtcVad&) = delete;

  // Frames of other lengths cannot be classified; they count as non-speech.
  bool IsSpeech(std::span<const int16_t> frame) override {
    if (!ValidFrameLength(frame.size())) {
      return false;
    }
    return WebRtcVad_Process(inst_, kRate, frame.data(), frame.size()) == 1;
  }

  void Reset() override {
    WebRtcVad_Init(inst_);
    WebRtcVad_set_mode(inst_, mode_);
  }

 private:
  VadInst* inst_;
  int mode_;
};

}  // namespace

core::Result<std::unique_ptr<Vad>> CreateWebRtcVad(const VadOptions& options) {
  if (options.aggressiveness < 0 || options.aggressiveness > 3) {
    return core::InvalidArgumentError("vad aggressiveness must be 0..3, got " +
                                      std::to_string(options.aggressiveness));
  }
  for (size_t n : {160u, 320u, 480u}) {
    if (WebRtcVad_ValidRateAndFrameLength(kRate, n) != 0) {
      return core::InternalError("libwebrtc_audio_processing rejects 16 kHz frames of " +
                                 std::to_string(n) + " samples: unexpected library version");
    }
  }
  VadInst* inst = WebRtcVad_Create();
  if (inst == nullptr) {
    return core::ResourceExhaustedError("WebRtcVad_Create failed");
  }
  if (WebRtcVad_Init(inst) != 0 || WebRtcVad_set_mode(inst, options.aggressiveness) != 0) {
    WebRtcVad_Free(inst);
    return core::InternalError("WebRtcVad_Init/set_mode failed");
  }
  return std::unique_ptr<Vad>(std::make_unique<WebRtcVad>(inst, options.aggressiveness));
}

}  // namespace artagent::speech
