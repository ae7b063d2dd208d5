#pragma once
// OutputQueue: the outbound playout queue between synthesis and the transport. TTS pushes PCM
// in bursts (whole clauses, much faster than real time); the pacer pops one fixed-size frame per
// tick (20 ms) and writes it to the socket. A barge-in clears it in one call.
//
// Audio goes in at one sample rate, the transport's; the queue itself does not know the rate
// (only buffered_ms() asks for it).
//
// Not thread-safe: it lives on its session's strand like the rest of the pipeline. Storage is a
// ring buffer that grows (to a power of two) only when a push does not fit and never shrinks, so
// once it has seen the largest burst, Push/PopFrame/Clear do not allocate. PopFrame reuses the
// caller's vector.

#include <cstddef>
#include <cstdint>
#include <span>

#include "audio/pcm.h"
#include "core/status.h"

namespace artagent::audio {

class OutputQueue {
 public:
  // 2 minutes at 16 kHz (3.75 MiB): far more than any sane amount of audio queued ahead of the
  // caller's ear, small enough that a runaway producer cannot eat the server's memory.
  static constexpr size_t kDefaultMaxSamples = size_t{kEngineSampleRate} * 120;

  // Reserves room for `initial_capacity` samples up front (1 s at 16 kHz by default).
  explicit OutputQueue(size_t initial_capacity = kEngineSampleRate,
                       size_t max_samples = kDefaultMaxSamples);

  // Appends `pcm` (any length). A non-empty push cancels an earlier FlushTail(): more audio
  // follows, so the tail is no longer the end. If the queue would then hold more than
  // max_samples, nothing is queued and kResourceExhausted is returned (the producer is running
  // away; drop or slow it).
  core::Status Push(std::span<const int16_t> pcm);

  // Marks the end of the current stream (the response's audio is complete): once fewer than a
  // frame's worth of samples remain, PopFrame pads them with silence instead of waiting for more.
  void FlushTail();

  // If at least `frame_samples` are queued, or the queue holds a partial frame and FlushTail()
  // was called after the last Push, replaces *out's contents with one frame of exactly
  // `frame_samples` samples (silence-padded in the second case) and returns true. Otherwise
  // (including frame_samples == 0) returns false and leaves *out untouched: the pacer sends
  // nothing, or comfort noise, for that tick.
  bool PopFrame(size_t frame_samples, Samples* out);

  // Drops everything queued and any pending FlushTail() (barge-in). Returns the number of samples
  // dropped, i.e. the audio the caller will not hear.
  size_t Clear();

  size_t buffered() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Queued audio in whole milliseconds at `sample_rate` (> 0), rounded down.
  int64_t buffered_ms(int sample_rate) const { return SamplesToMs(size_, sample_rate); }
  bool flush_requested() const { return flush_tail_; }
  size_t max_samples() const { return max_samples_; }

 private:
  void Grow(size_t min_capacity);
  // Copies `count` samples from the head to `dst` and consumes them.
  void Take(size_t count, int16_t* dst);

  const size_t max_samples_;
  Samples ring_;     // capacity is ring_.size(), a power of two
  size_t head_ = 0;  // index of the oldest sample
  size_t size_ = 0;  // samples queued
  bool flush_tail_ = false;
};

}  // namespace artagent::audio
