#pragma once
// FrameAssembler cuts a stream of arbitrarily sized PCM16 chunks (whatever a WebSocket message or
// a decoder happened to deliver) into fixed-size frames, e.g. the engine's 20 ms / 320 samples
// (audio/pcm.h) that the VAD and STT consume.
//
// Not thread-safe; one per stream, on that stream's strand. Frames come out in order, without
// gaps or overlap: concatenating every frame emitted gives exactly the samples pushed, minus the
// partial frame still buffered. After the first few chunks the buffer stops growing, so steady
// state does not allocate.

#include <cstddef>
#include <cstdint>
#include <span>

#include "audio/pcm.h"

namespace artagent::audio {

class FrameAssembler {
 public:
  // frame_samples must be > 0 (0 is treated as 1).
  explicit FrameAssembler(size_t frame_samples = kEngineFrameSamples);

  // Queues `chunk` (any size, including empty). Take the frames out with Next().
  void Push(std::span<const int16_t> chunk);

  // Queues `chunk` and calls on_frame(std::span<const int16_t>) once for every whole frame now
  // available. The span points into the assembler and is valid only during the call, and
  // on_frame must not call back into this assembler. Returns the number of frames emitted.
  template <typename OnFrame>
  size_t Push(std::span<const int16_t> chunk, OnFrame&& on_frame);

  // If a whole frame is buffered, replaces *frame's contents with it (frame->size() becomes
  // frame_samples(); reusing the same vector avoids allocation) and returns true. Otherwise
  // returns false and leaves *frame untouched.
  bool Next(Samples* frame);

  // Samples waiting, always less than frame_samples() after Next() has returned false.
  size_t buffered() const { return buffer_.size() - read_; }
  size_t frame_samples() const { return frame_samples_; }

  // Drops whatever is buffered (the partial frame at the end of a stream, or on reset).
  void Clear();

 private:
  // Moves unread samples to the front once the consumed prefix is large, so the buffer's
  // capacity stays bounded (about two frames plus the largest chunk).
  void Compact();

  const size_t frame_samples_;
  Samples buffer_;
  size_t read_ = 0;  // index of the first unread sample in buffer_
};

template <typename OnFrame>
size_t FrameAssembler::Push(std::span<const int16_t> chunk, OnFrame&& on_frame) {
  Push(chunk);
  size_t emitted = 0;
  while (buffered() >= frame_samples_) {
    on_frame(std::span<const int16_t>(buffer_.data() + read_, frame_samples_));
    read_ += frame_samples_;
    ++emitted;
  }
  Compact();
  return emitted;
}

}  // namespace artagent::audio
