#include "audio/g711.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

namespace artagent::audio {
namespace {

// Expected decoder output straight from the G.711 definitions, written independently of the
// implementation:
//   μ-law: the code's bits are inverted on the wire; then sign P, segment S (3 bits) and
//   quantisation step Q (4 bits) give the 14-bit magnitude (2Q + 33) * 2^S - 33, scaled by 4.
//   A-law: the even bits are inverted on the wire; then sign P (1 = positive), segment S and step
//   Q give the 13-bit magnitude 2Q + 1 for S = 0 and (2Q + 33) * 2^(S-1) otherwise, scaled by 8.
int ExpectedMulaw(int code) {
  const int v = (~code) & 0xFF;
  const int sign = v >> 7, segment = (v >> 4) & 7, step = v & 15;
  const int magnitude = ((2 * step + 33) * (1 << segment) - 33) * 4;
  return sign ? -magnitude : magnitude;
}

int ExpectedAlaw(int code) {
  const int v = code ^ 0x55;
  const int positive = v >> 7, segment = (v >> 4) & 7, step = v & 15;
  const int magnitude = (segment == 0 ? 2 * step + 1 : (2 * step + 33) * (1 << (segment - 1))) * 8;
  return positive ? magnitude : -magnitude;
}

std::vector<int16_t> AllSamples() {
  std::vector<int16_t> all;
  for (int v = -32768; v <= 32767; ++v) {
    all.push_back(static_cast<int16_t>(v));
  }
  return all;
}

TEST(G711Test, MulawKnownVectors) {
  EXPECT_EQ(MulawEncodeSample(0), 0xFF);
  EXPECT_EQ(MulawEncodeSample(-1), 0x7F);
  EXPECT_EQ(MulawEncodeSample(32767), 0x80);
  EXPECT_EQ(MulawEncodeSample(-32768), 0x00);
  EXPECT_EQ(MulawEncodeSample(32124), 0x80);
  EXPECT_EQ(MulawEncodeSample(8), 0xFE);  // first step above zero (|x| + 132 >= 140)
  EXPECT_EQ(MulawDecodeSample(0xFF), 0);
  EXPECT_EQ(MulawDecodeSample(0x7F), 0);
  EXPECT_EQ(MulawDecodeSample(0x80), 32124);
  EXPECT_EQ(MulawDecodeSample(0x00), -32124);
}

TEST(G711Test, AlawKnownVectors) {
  EXPECT_EQ(AlawEncodeSample(0), 0xD5);
  EXPECT_EQ(AlawEncodeSample(-1), 0x55);
  EXPECT_EQ(AlawEncodeSample(32767), 0xAA);
  EXPECT_EQ(AlawEncodeSample(-32768), 0x2A);
  EXPECT_EQ(AlawDecodeSample(0xD5), 8);
  EXPECT_EQ(AlawDecodeSample(0x55), -8);
  EXPECT_EQ(AlawDecodeSample(0xAA), 32256);
  EXPECT_EQ(AlawDecodeSample(0x2A), -32256);
}

TEST(G711Test, MulawDecodeMatchesStandardForAllCodes) {
  std::vector<uint8_t> codes;
  for (int c = 0; c < 256; ++c) {
    codes.push_back(static_cast<uint8_t>(c));
  }
  Samples decoded;
  MulawDecode(codes, &decoded);
  ASSERT_EQ(decoded.size(), 256u);
  for (int c = 0; c < 256; ++c) {
    EXPECT_EQ(decoded[c], ExpectedMulaw(c)) << "code 0x" << std::hex << c;
    EXPECT_EQ(MulawDecodeSample(static_cast<uint8_t>(c)), ExpectedMulaw(c));
  }
}

TEST(G711Test, AlawDecodeMatchesStandardForAllCodes) {
  std::vector<uint8_t> codes;
  for (int c = 0; c < 256; ++c) {
    codes.push_back(static_cast<uint8_t>(c));
  }
  Samples decoded;
  AlawDecode(codes, &decoded);
  ASSERT_EQ(decoded.size(), 256u);
  for (int c = 0; c < 256; ++c) {
    EXPECT_EQ(decoded[c], ExpectedAlaw(c)) << "code 0x" << std::hex << c;
  }
}

// Every reconstruction level encodes back to its own code (μ-law's negative zero 0x7F aside,
// which is the same level as 0xFF).
TEST(G711Test, EncodeInvertsDecode) {
  for (int c = 0; c < 256; ++c) {
    const auto code = static_cast<uint8_t>(c);
    if (code != 0x7F) {
      EXPECT_EQ(MulawEncodeSample(MulawDecodeSample(code)), code) << c;
    }
    EXPECT_EQ(AlawEncodeSample(AlawDecodeSample(code)), code) << c;
  }
}

// Quantisation error is at most half a step: the step is 1/16 of the segment, so relative to the
// magnitude it stays near 1/32 (plus a constant near zero), except where the input exceeds the
// codec's full scale and clips.
TEST(G711Test, MulawRoundTripWithinQuantisationErrorForAllInputs) {
  const std::vector<int16_t> all = AllSamples();
  std::vector<uint8_t> codes;
  MulawEncode(all, &codes);
  Samples back;
  MulawDecode(codes, &back);
  ASSERT_EQ(back.size(), all.size());
  int previous = -32768;
  for (size_t i = 0; i < all.size(); ++i) {
    const int x = all[i];
    const double error = std::abs(back[i] - x);
    const double bound = std::max((std::abs(x) + 132) / 32.0, std::abs(x) - 32124.0);
    ASSERT_LE(error, bound) << "x=" << x << " decoded " << back[i];
    ASSERT_GE(back[i], previous) << "not monotonic at " << x;  // companding preserves order
    previous = back[i];
  }
}

TEST(G711Test, AlawRoundTripWithinQuantisationErrorForAllInputs) {
  const std::vector<int16_t> all = AllSamples();
  std::vector<uint8_t> codes;
  AlawEncode(all, &codes);
  Samples back;
  AlawDecode(codes, &back);
  ASSERT_EQ(back.size(), all.size());
  int previous = -32768;
  for (size_t i = 0; i < all.size(); ++i) {
    const int x = all[i];
    const double error = std::abs(back[i] - x);
    const double bound = std::abs(x) / 32.0 + 8.0;
    ASSERT_LE(error, bound) << "x=" << x << " decoded " << back[i];
    ASSERT_GE(back[i], previous) << "not monotonic at " << x;
    previous = back[i];
  }
}

TEST(G711Test, SpanFormsAppend) {
  std::vector<uint8_t> codes = {0x11};
  const Samples in = {0, 1000, -1000};
  MulawEncode(in, &codes);
  AlawEncode(in, &codes);
  ASSERT_EQ(codes.size(), 7u);
  EXPECT_EQ(codes[0], 0x11);
  EXPECT_EQ(codes[1], MulawEncodeSample(0));
  EXPECT_EQ(codes[4], AlawEncodeSample(0));

  Samples out = {5};
  MulawDecode(std::span<const uint8_t>(codes).subspan(1, 3), &out);
  AlawDecode(std::span<const uint8_t>(codes).subspan(4, 3), &out);
  ASSERT_EQ(out.size(), 7u);
  EXPECT_EQ(out[0], 5);
  EXPECT_EQ(out[2], MulawDecodeSample(MulawEncodeSample(1000)));
  EXPECT_EQ(out[6], AlawDecodeSample(AlawEncodeSample(-1000)));
}

TEST(G711Test, SineSurvivesWithTelephoneQuality) {
  // A tone at -6 dBFS: G.711 gives about 38 dB signal-to-quantisation-noise. 1013 Hz so the
  // samples sweep many levels instead of hitting the same few.
  Samples tone(8000);
  for (size_t i = 0; i < tone.size(); ++i) {
    tone[i] = static_cast<int16_t>(16384 * std::sin(2 * 3.14159265358979 * 1013 * i / 8000.0));
  }
  for (const bool mulaw : {true, false}) {
    std::vector<uint8_t> codes;
    Samples back;
    if (mulaw) {
      MulawEncode(tone, &codes);
      MulawDecode(codes, &back);
    } else {
      AlawEncode(tone, &codes);
      AlawDecode(codes, &back);
    }
    double signal = 0, noise = 0;
    for (size_t i = 0; i < tone.size(); ++i) {
      signal += static_cast<double>(tone[i]) * tone[i];
      noise += std::pow(static_cast<double>(back[i]) - tone[i], 2);
    }
    EXPECT_GT(10 * std::log10(signal / noise), 35.0) << (mulaw ? "mu-law" : "A-law");
  }
}

}  // namespace
}  // namespace artagent::audio
