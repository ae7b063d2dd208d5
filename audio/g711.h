#pragma once
// G.711 companding (ITU-T G.711): μ-law, the North American / Japanese telephone codec, and A-law,
// the European one. Telephony transports (ACS, Twilio, SIP) deliver 8 kHz G.711 bytes; the engine
// works in PCM16 (audio/pcm.h), so these sit at the edge of those transports.
//
// The codecs work on 16-bit linear samples. μ-law uses the 14-bit G.711 range scaled by 4 (full
// scale ±32124) and A-law the 13-bit range scaled by 8 (full scale ±32256); louder input
// saturates. Encode is computed (a few integer operations per sample, the segment from the top
// bit rather than a search), decode is a 256-entry table lookup. All functions are pure,
// thread-safe and cannot fail; they append to `out` and leave what was already there untouched.

#include <cstdint>
#include <span>
#include <vector>

#include "audio/pcm.h"

namespace artagent::audio {

// One code per sample. μ-law silence is 0xFF (and 0x7F, "negative zero").
void MulawEncode(std::span<const int16_t> in, std::vector<uint8_t>* out);
// One sample per code.
void MulawDecode(std::span<const uint8_t> in, Samples* out);

// One code per sample. A-law silence is 0xD5 (and 0x55). The even bits are inverted on the wire,
// as G.711 specifies; these functions produce and expect that wire form.
void AlawEncode(std::span<const int16_t> in, std::vector<uint8_t>* out);
void AlawDecode(std::span<const uint8_t> in, Samples* out);

// Single-sample forms, for callers that interleave coding with other per-sample work.
uint8_t MulawEncodeSample(int16_t sample);
int16_t MulawDecodeSample(uint8_t code);
uint8_t AlawEncodeSample(int16_t sample);
int16_t AlawDecodeSample(uint8_t code);

}  // namespace artagent::audio
