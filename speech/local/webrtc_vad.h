#pragma once
// The WebRTC voice activity detector (libwebrtc-audio-processing 0.3) behind speech::Vad.
// Cheap: ~1 µs and a few hundred bytes of state per stream.

#include <memory>

#include "core/status.h"
#include "speech/vad.h"

namespace artagent::speech {

// kInvalidArgument if options.aggressiveness is outside 0..3.
core::Result<std::unique_ptr<Vad>> CreateWebRtcVad(const VadOptions& options);

}  // namespace artagent::speech
