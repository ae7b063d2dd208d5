#pragma once
// Signal levels of PCM16 audio: what the echo gate, the VAD's energy floor, metrics and tests use
// to ask "how loud is this?". Pure functions, thread-safe, no allocation.
//
// Full scale is 32768: a square wave swinging between -32768 and 32767 is 0 dBFS (to within
// 0.0002 dB), a full-scale sine is -3.01 dBFS.

#include <cstdint>
#include <span>

namespace artagent::audio {

// What RmsDbfs() reports for digital silence and an empty span: quieter than any non-zero
// 16-bit signal (a lone ±1 in a 10 s clip at 48 kHz is about -147 dBFS, so the floor also
// swallows such near-silence), and finite so it can go into averages, histograms and JSON.
constexpr double kSilenceDbfs = -120.0;

// Root mean square, normalised to 0..1 (1 = full scale). 0 for an empty span.
double Rms(std::span<const int16_t> samples);

// 20 * log10(Rms(samples)), floored at kSilenceDbfs.
double RmsDbfs(std::span<const int16_t> samples);

// Largest absolute sample value. -32768 counts as 32767 so the result fits int16_t. 0 for an
// empty span.
int16_t Peak(std::span<const int16_t> samples);

}  // namespace artagent::audio
