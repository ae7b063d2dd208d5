#pragma once
// RIFF/WAVE files: the format of test fixtures, `artagent converse --in/--out`, recordings and
// what sox, flite and espeak-ng write.
//
// ParseWav reads bytes from outside (uploads, files named on the command line), so it treats its
// input as hostile: every length is checked against the bytes actually present, nothing is read
// out of bounds, allocation is bounded by the input's size, and anything it cannot decode is a
// kInvalidArgument whose message says what was wrong. It never throws except for allocation
// failure. All functions here are thread-safe (no shared state).

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "audio/pcm.h"
#include "core/status.h"

namespace artagent::audio {

// Decoded audio. `samples` are PCM16, interleaved when channels > 1 (frame i is
// samples[i * channels .. i * channels + channels - 1]); samples.size() is a multiple of channels.
struct WavAudio {
  int sample_rate = kEngineSampleRate;
  int channels = 1;
  Samples samples;
};

// Limits ParseWav enforces on the header; the audio itself is limited only by the input size.
constexpr int kMaxWavChannels = 32;
constexpr int kMaxWavSampleRate = 768000;

// Decodes a WAV file held in memory. Accepted encodings, all returned as PCM16:
//   * PCM (format 1) with 16-bit signed or 8-bit unsigned samples;
//   * A-law (format 6) and μ-law (format 7), 8 bits per sample;
//   * WAVE_FORMAT_EXTENSIBLE (0xFFFE) whose subformat is one of the above.
// Chunks other than 'fmt ' and 'data' (LIST, fact, cue, ...) are skipped. Everything after the
// 'data' chunk is ignored. The RIFF size field is not trusted, and a 'data' size larger than the
// bytes present (left by tools that stream to a pipe and cannot seek back, e.g. sox or flite
// writing to stdout, often 0xFFFFFFFF) means "up to the end of the input". A trailing partial
// frame is dropped.
// kInvalidArgument for anything else: not RIFF/WAVE, a truncated header or 'fmt ' chunk, no
// 'data' chunk, 'data' before 'fmt ', float or other unsupported formats and bit depths, zero or
// more than kMaxWavChannels channels, a sample rate of 0 or above kMaxWavSampleRate.
core::Result<WavAudio> ParseWav(std::span<const uint8_t> bytes);

// Reads and parses the file at `path` (a regular file or a pipe). Errors name the path:
// kNotFound if it does not exist, kPermissionDenied if it cannot be opened for reading,
// kUnavailable for other I/O errors, and ParseWav's kInvalidArgument.
core::Result<WavAudio> ReadWavFile(const std::string& path);

// A canonical 44-byte-header PCM16 WAV (format 1). Expects channels >= 1, a sample_rate > 0 and
// whole frames; audio beyond what a RIFF size field can describe (about 4 GiB) is cut off at a
// frame boundary. ParseWav(EncodeWav(a)) gives `a` back.
std::vector<uint8_t> EncodeWav(const WavAudio& audio);

// Writes EncodeWav(audio) to `path`, replacing it. Errors (kNotFound for a missing directory,
// kPermissionDenied, kUnavailable for other I/O errors) name the path.
core::Status WriteWavFile(const std::string& path, const WavAudio& audio);

// Averages the channels of each frame, rounding to nearest. Mono input is copied. A trailing
// partial frame is dropped.
Samples DownmixToMono(const WavAudio& audio);

}  // namespace artagent::audio
