#include "audio/g711.h"

#include <array>
#include <bit>

namespace artagent::audio {
namespace {

// μ-law works on the magnitude plus a bias of 33 (in 14-bit units; 132 at 16 bits), which makes
// every segment boundary a power of two: the segment is then the position of the top bit.
constexpr int kMulawBias = 132;
constexpr int kMulawClip = 32635;  // largest magnitude that still fits after adding the bias

constexpr uint8_t MulawEncodeImpl(int16_t sample) {
  int magnitude = sample;
  uint8_t sign = 0;
  if (magnitude < 0) {
    magnitude = -magnitude;
    sign = 0x80;
  }
  if (magnitude > kMulawClip) {
    magnitude = kMulawClip;
  }
  magnitude += kMulawBias;  // now in [132, 32767]: bits 7..14 hold the segment marker
  const int segment = std::bit_width(static_cast<unsigned>(magnitude >> 7)) - 1;  // 0..7
  const int mantissa = (magnitude >> (segment + 3)) & 0x0F;
  return static_cast<uint8_t>(~(sign | (segment << 4) | mantissa));
}

constexpr int16_t MulawDecodeImpl(uint8_t code) {
  const int inverted = static_cast<uint8_t>(~code);
  const int segment = (inverted >> 4) & 0x07;
  const int mantissa = inverted & 0x0F;
  // The centre of the quantisation interval, minus the bias.
  const int magnitude = (((mantissa << 3) + kMulawBias) << segment) - kMulawBias;
  return static_cast<int16_t>((inverted & 0x80) ? -magnitude : magnitude);
}

// A-law works on 13 bits. Negative samples use the one's complement so that the two halves of
// the scale are symmetric around -0.5; the wire form inverts the even bits (mask 0x55).
constexpr uint8_t AlawEncodeImpl(int16_t sample) {
  int value = sample >> 3;  // arithmetic shift: -4096..4095
  uint8_t mask = 0xD5;      // sign bit set means positive
  if (value < 0) {
    value = -value - 1;  // 0..4095
    mask = 0x55;
  }
  // Segment 0 and 1 share a step size; above that the segment is the top bit's position.
  const int segment = value < 0x20 ? 0 : std::bit_width(static_cast<unsigned>(value)) - 5;  // 0..7
  const int mantissa = segment < 2 ? (value >> 1) & 0x0F : (value >> segment) & 0x0F;
  return static_cast<uint8_t>(((segment << 4) | mantissa) ^ mask);
}

constexpr int16_t AlawDecodeImpl(uint8_t code) {
  const int a = code ^ 0x55;
  const int segment = (a >> 4) & 0x07;
  int magnitude = (a & 0x0F) << 4;
  if (segment == 0) {
    magnitude += 8;
  } else {
    magnitude = (magnitude + 0x108) << (segment - 1);
  }
  return static_cast<int16_t>((a & 0x80) ? magnitude : -magnitude);
}

template <int16_t (*Decode)(uint8_t)>
constexpr std::array<int16_t, 256> MakeDecodeTable() {
  std::array<int16_t, 256> table{};
  for (int code = 0; code < 256; ++code) {
    table[code] = Decode(static_cast<uint8_t>(code));
  }
  return table;
}

constexpr std::array<int16_t, 256> kMulawTable = MakeDecodeTable<MulawDecodeImpl>();
constexpr std::array<int16_t, 256> kAlawTable = MakeDecodeTable<AlawDecodeImpl>();

template <uint8_t (*Encode)(int16_t)>
void EncodeAppend(std::span<const int16_t> in, std::vector<uint8_t>* out) {
  const size_t base = out->size();
  out->resize(base + in.size());
  uint8_t* dst = out->data() + base;
  for (size_t i = 0; i < in.size(); ++i) {
    dst[i] = Encode(in[i]);
  }
}

void DecodeAppend(const std::array<int16_t, 256>& table, std::span<const uint8_t> in,
                  Samples* out) {
  const size_t base = out->size();
  out->resize(base + in.size());
  int16_t* dst = out->data() + base;
  for (size_t i = 0; i < in.size(); ++i) {
    dst[i] = table[in[i]];
  }
}

}  // namespace

uint8_t MulawEncodeSample(int16_t sample) { return MulawEncodeImpl(sample); }
int16_t MulawDecodeSample(uint8_t code) { return kMulawTable[code]; }
uint8_t AlawEncodeSample(int16_t sample) { return AlawEncodeImpl(sample); }
int16_t AlawDecodeSample(uint8_t code) { return kAlawTable[code]; }

void MulawEncode(std::span<const int16_t> in, std::vector<uint8_t>* out) {
  EncodeAppend<MulawEncodeImpl>(in, out);
}
void MulawDecode(std::span<const uint8_t> in, Samples* out) { DecodeAppend(kMulawTable, in, out); }
void AlawEncode(std::span<const int16_t> in, std::vector<uint8_t>* out) {
  EncodeAppend<AlawEncodeImpl>(in, out);
}
void AlawDecode(std::span<const uint8_t> in, Samples* out) { DecodeAppend(kAlawTable, in, out); }

}  // namespace artagent::audio
