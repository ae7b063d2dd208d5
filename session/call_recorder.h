#pragma once
// CallRecorder: the recording tap of a session. It builds a 16 kHz stereo PCM16 WAV — the caller
// on the left channel, the agent on the right — on one timeline:
//
//   * caller audio is placed as it arrives (after the session's conversion to 16 kHz), back to
//     back; a pause in the stream longer than kGapMs (a client that stops sending while the agent
//     speaks) jumps to the wall-clock position, leaving silence;
//   * agent audio is placed as it was handed to the transport, at the wall-clock position of the
//     send or right after the previous agent frame, whichever is later — silence where nothing was
//     played, and a barge-in shows as the agent's channel stopping mid-word.
//
// Cost on the media path: the Add* calls copy samples into a window of a few seconds (reused,
// grown only to fit the gap between the two channels). Whole seconds that no later audio can
// change are handed to the compute pool, which appends them to PATH.part; Finish() writes the
// rest, fixes the header and renames the file to PATH. Memory stays bounded by the window and
// the blocks waiting for the pool; the file by `max_seconds` (later audio is not recorded).
//
// Threading: Add* and Finish belong to the session's strand. `done` runs on a compute-pool
// thread (or, when the pool refuses work at the end, a thread of its own).

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "audio/pcm.h"
#include "audio/resampler.h"
#include "core/executor.h"
#include "core/status.h"

namespace artagent::session {

struct CallRecorderOptions {
  std::string path;               // the finished WAV; PATH.part while recording
  int max_seconds = 2 * 60 * 60;  // longest recording
  // Called once, after Finish(), with `path` or the error that lost the recording.
  std::function<void(core::Result<std::string> path)> done;
};

class CallRecorder {
 public:
  static constexpr int kSampleRate = audio::kEngineSampleRate;
  static constexpr int kGapMs = 200;

  // `start` is time zero of the recording (the session's start, on the session's clock).
  CallRecorder(CallRecorderOptions options, core::ComputePool* pool, core::TimePoint start);
  ~CallRecorder();
  CallRecorder(const CallRecorder&) = delete;
  CallRecorder& operator=(const CallRecorder&) = delete;

  // Caller audio, mono PCM16 at 16 kHz, received at `now`.
  void AddCaller(std::span<const int16_t> pcm, core::TimePoint now);
  // Agent audio, mono PCM16 at `sample_rate` (8-48 kHz), handed to the transport at `now`.
  void AddAgent(std::span<const int16_t> pcm, int sample_rate, core::TimePoint now);
  // Ends the recording (idempotent). Audio added afterwards is ignored.
  void Finish();

  // Rewrites the header of a recording's file for `data_bytes` of samples (rounded down to whole
  // frames): a PATH.part left by a crash becomes a valid WAV. False on I/O errors.
  static bool FixWavHeader(const std::string& path, uint64_t data_bytes);

  // Frames (16 kHz sample pairs) recorded so far.
  int64_t frames() const { return end_; }
  bool truncated() const { return truncated_; }

  struct Spill;

 private:
  enum Channel { kCaller = 0, kAgent = 1 };
  void Write(Channel channel, std::span<const int16_t> pcm, core::TimePoint now);
  int64_t TimeFrame(core::TimePoint now) const;
  // The earliest frame a later write of `channel` can touch.
  int64_t Floor(Channel channel, int64_t time_frame) const;
  void FlushBefore(int64_t frame);

  CallRecorderOptions options_;
  core::ComputePool* pool_;
  const core::TimePoint start_;
  const int64_t max_frames_;
  std::shared_ptr<Spill> spill_;
  std::vector<int16_t> window_;  // interleaved frames [base_, base_ + window_.size() / 2)
  int64_t base_ = 0;
  int64_t next_[2] = {0, 0};  // the frame after each channel's last sample
  int64_t end_ = 0;           // the frame after the last sample of either channel
  std::unique_ptr<audio::Resampler> agent_resampler_;
  audio::Samples agent_scratch_;
  bool finished_ = false;
  bool truncated_ = false;
};

}  // namespace artagent::session
