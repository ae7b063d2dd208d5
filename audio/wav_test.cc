#include "audio/wav.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <optional>
#include <random>
#include <string>

#include "audio/g711.h"

namespace artagent::audio {
namespace {

using core::StatusCode;

// Builds RIFF files chunk by chunk, so tests can make the odd ones real tools write.
class WavBuilder {
 public:
  WavBuilder& Fmt(uint16_t tag, uint16_t channels, uint32_t rate, uint16_t bits) {
    std::vector<uint8_t> body;
    U16(&body, tag);
    U16(&body, channels);
    U32(&body, rate);
    U32(&body, rate * channels * bits / 8);
    U16(&body, static_cast<uint16_t>(channels * bits / 8));
    U16(&body, bits);
    return Chunk("fmt ", body);
  }
  WavBuilder& FmtExtensible(uint16_t subformat, uint16_t channels, uint32_t rate, uint16_t bits) {
    std::vector<uint8_t> body;
    U16(&body, 0xFFFE);
    U16(&body, channels);
    U32(&body, rate);
    U32(&body, rate * channels * bits / 8);
    U16(&body, static_cast<uint16_t>(channels * bits / 8));
    U16(&body, bits);
    U16(&body, 22);    // cbSize
    U16(&body, bits);  // valid bits
    U32(&body, channels == 2 ? 3 : 4);
    U16(&body, subformat);
    const uint8_t tail[] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                            0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
    body.insert(body.end(), std::begin(tail), std::end(tail));
    return Chunk("fmt ", body);
  }
  WavBuilder& Data(const Samples& samples) {
    std::vector<uint8_t> body;
    SamplesToBytes(samples, &body);
    return Chunk("data", body);
  }
  // Appends a chunk, padded to even length as RIFF requires; `declared` overrides the size field.
  WavBuilder& Chunk(const char* id, const std::vector<uint8_t>& body,
                    std::optional<uint32_t> declared = std::nullopt) {
    bytes_.insert(bytes_.end(), id, id + 4);
    U32(&bytes_, declared.value_or(static_cast<uint32_t>(body.size())));
    bytes_.insert(bytes_.end(), body.begin(), body.end());
    if (body.size() % 2 == 1) {
      bytes_.push_back(0);
    }
    return *this;
  }
  std::vector<uint8_t> Build(const char* form = "WAVE") const {
    std::vector<uint8_t> out = {'R', 'I', 'F', 'F'};
    U32(&out, static_cast<uint32_t>(bytes_.size() + 4));
    out.insert(out.end(), form, form + 4);
    out.insert(out.end(), bytes_.begin(), bytes_.end());
    return out;
  }

 private:
  static void U16(std::vector<uint8_t>* v, uint16_t x) {
    v->push_back(static_cast<uint8_t>(x));
    v->push_back(static_cast<uint8_t>(x >> 8));
  }
  static void U32(std::vector<uint8_t>* v, uint32_t x) {
    U16(v, static_cast<uint16_t>(x));
    U16(v, static_cast<uint16_t>(x >> 16));
  }
  std::vector<uint8_t> bytes_;
};

Samples Ramp(size_t n) {
  Samples s(n);
  for (size_t i = 0; i < n; ++i) {
    s[i] = static_cast<int16_t>(static_cast<int>(i * 977 % 65536) - 32768);
  }
  return s;
}

void ExpectInvalid(const std::vector<uint8_t>& bytes, const std::string& words) {
  auto result = ParseWav(bytes);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find(words), std::string::npos)
      << "message: " << result.status().message();
}

TEST(WavTest, EncodeWritesCanonicalHeader) {
  const WavAudio audio{24000, 1, {1, -2, 3}};
  const std::vector<uint8_t> bytes = EncodeWav(audio);
  ASSERT_EQ(bytes.size(), 44u + 6u);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 4), "RIFF");
  EXPECT_EQ(bytes[4], 42);  // 36 + data
  EXPECT_EQ(std::string(bytes.begin() + 8, bytes.begin() + 16), "WAVEfmt ");
  EXPECT_EQ(bytes[20], 1);  // PCM
  EXPECT_EQ(bytes[24] | (bytes[25] << 8), 24000);
  EXPECT_EQ(bytes[28] | (bytes[29] << 8) | (bytes[30] << 16), 48000);  // byte rate
  EXPECT_EQ(bytes[34], 16);
  EXPECT_EQ(std::string(bytes.begin() + 36, bytes.begin() + 40), "data");
  EXPECT_EQ(bytes[40], 6);
  EXPECT_EQ(bytes[46], 0xFE);  // -2 little-endian
  EXPECT_EQ(bytes[47], 0xFF);
}

TEST(WavTest, RoundTripsMonoAndStereo) {
  for (const int channels : {1, 2, 6}) {
    const WavAudio audio{44100, channels, Ramp(static_cast<size_t>(channels) * 1000)};
    auto parsed = ParseWav(EncodeWav(audio));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->sample_rate, 44100);
    EXPECT_EQ(parsed->channels, channels);
    EXPECT_EQ(parsed->samples, audio.samples);
  }
}

TEST(WavTest, SkipsListAndOtherChunks) {
  const std::vector<uint8_t> list = {'I', 'N', 'F', 'O', 'I', 'S', 'F', 'T', 5,
                                     0,   0,   0,   's', 'o', 'x', '!', 0};  // odd size: padded
  const auto bytes = WavBuilder()
                         .Chunk("LIST", list)
                         .Fmt(1, 1, 16000, 16)
                         .Chunk("fact", {1, 0, 0, 0})
                         .Chunk("junk", {7})
                         .Data({10, 20, 30})
                         .Chunk("id3 ", {1, 2, 3})
                         .Build();
  auto parsed = ParseWav(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->sample_rate, 16000);
  EXPECT_EQ(parsed->samples, (Samples{10, 20, 30}));
}

TEST(WavTest, AcceptsExtensiblePcm) {
  const auto bytes = WavBuilder().FmtExtensible(1, 2, 48000, 16).Data({1, 2, 3, 4}).Build();
  auto parsed = ParseWav(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->channels, 2);
  EXPECT_EQ(parsed->sample_rate, 48000);
  EXPECT_EQ(parsed->samples, (Samples{1, 2, 3, 4}));
}

TEST(WavTest, DecodesG711) {
  const std::vector<uint8_t> codes = {0xFF, 0x80, 0x00, 0xD5, 0x2A, 0x13};
  for (const uint16_t tag : {uint16_t{6}, uint16_t{7}}) {
    const auto bytes = WavBuilder().Fmt(tag, 1, 8000, 8).Chunk("data", codes).Build();
    auto parsed = ParseWav(bytes);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    Samples expected;
    if (tag == 7) {
      MulawDecode(codes, &expected);
    } else {
      AlawDecode(codes, &expected);
    }
    EXPECT_EQ(parsed->samples, expected) << "format " << tag;
    EXPECT_EQ(parsed->sample_rate, 8000);
  }
  // The same through WAVE_FORMAT_EXTENSIBLE.
  const auto ext = WavBuilder().FmtExtensible(7, 1, 8000, 8).Chunk("data", codes).Build();
  auto parsed = ParseWav(ext);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->samples[1], 32124);
}

TEST(WavTest, DecodesEightBitUnsigned) {
  const auto bytes = WavBuilder().Fmt(1, 1, 8000, 8).Chunk("data", {0x80, 0xFF, 0x00}).Build();
  auto parsed = ParseWav(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->samples, (Samples{0, 32512, -32768}));
}

TEST(WavTest, DataSizeLargerThanFileMeansToTheEnd) {
  // What `sox ... -t wav -` and flite write to a pipe: they cannot seek back to fix the sizes.
  std::vector<uint8_t> body;
  SamplesToBytes(Samples{1, 2, 3}, &body);
  body.push_back(0x44);  // half a sample: dropped
  auto bytes = WavBuilder().Fmt(1, 1, 16000, 16).Chunk("data", body, 0xFFFFFFFF).Build();
  bytes.pop_back();  // the builder's pad byte; a stream has none
  auto parsed = ParseWav(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->samples, (Samples{1, 2, 3}));
}

TEST(WavTest, StereoDropsPartialFrame) {
  const auto bytes = WavBuilder().Fmt(1, 2, 16000, 16).Data({1, 2, 3}).Build();
  auto parsed = ParseWav(bytes);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->samples, (Samples{1, 2}));
}

TEST(WavTest, EveryTruncationFailsCleanlyOrYieldsAPrefix) {
  const std::vector<uint8_t> full = EncodeWav({16000, 1, Ramp(50)});
  for (size_t len = 0; len < full.size(); ++len) {
    auto parsed = ParseWav(std::span<const uint8_t>(full).first(len));
    if (len < 44) {
      ASSERT_FALSE(parsed.ok()) << len;
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    } else {
      ASSERT_TRUE(parsed.ok()) << len;
      EXPECT_EQ(parsed->samples.size(), (len - 44) / 2);
    }
  }
  ExpectInvalid({'R', 'I', 'F'}, "truncated header");
  ExpectInvalid(std::vector<uint8_t>(full.begin(), full.begin() + 30), "truncated 'fmt '");
  ExpectInvalid(std::vector<uint8_t>(full.begin(), full.begin() + 36), "no 'data' chunk");
}

TEST(WavTest, RejectsWhatItCannotDecode) {
  ExpectInvalid(std::vector<uint8_t>(64, 'x'), "not a RIFF file");
  ExpectInvalid(WavBuilder().Fmt(1, 1, 16000, 16).Data({1}).Build("AVI "), "not 'WAVE'");
  auto rifx = EncodeWav({16000, 1, {1}});
  rifx[3] = 'X';
  ExpectInvalid(rifx, "'RIFX' files are not supported");
  ExpectInvalid(WavBuilder().Fmt(3, 1, 16000, 32).Data({1, 2}).Build(), "float");
  ExpectInvalid(WavBuilder().FmtExtensible(3, 1, 16000, 32).Data({1, 2}).Build(), "float");
  ExpectInvalid(WavBuilder().Fmt(1, 1, 16000, 24).Data({1, 2, 3}).Build(), "24-bit PCM");
  ExpectInvalid(WavBuilder().Fmt(7, 1, 8000, 16).Data({1}).Build(), "8 bits per sample");
  ExpectInvalid(WavBuilder().Fmt(0x55, 1, 16000, 0).Data({1}).Build(), "format tag 0x0055");
  ExpectInvalid(WavBuilder().Fmt(1, 0, 16000, 16).Data({1}).Build(), "0 channels");
  ExpectInvalid(WavBuilder().Fmt(1, 33, 16000, 16).Data({1}).Build(), "33 channels");
  ExpectInvalid(WavBuilder().Fmt(1, 1, 0, 16).Data({1}).Build(), "sample rate 0");
  ExpectInvalid(WavBuilder().Data({1}).Fmt(1, 1, 16000, 16).Build(), "before the 'fmt '");
  ExpectInvalid(WavBuilder().Fmt(1, 1, 16000, 16).Build(), "no 'data' chunk");
  ExpectInvalid(WavBuilder().Chunk("fmt ", {1, 0, 1, 0}).Data({1}).Build(), "needs at least 16");
  ExpectInvalid(WavBuilder().Chunk("LIST", {1, 2}, 1000).Build(), "no 'fmt ' chunk");
}

TEST(WavTest, SurvivesGarbage) {
  std::mt19937 rng(1234);
  const std::vector<uint8_t> valid =
      WavBuilder().Chunk("LIST", {1, 2, 3}).Fmt(1, 2, 16000, 16).Data(Ramp(64)).Build();
  for (int round = 0; round < 20000; ++round) {
    std::vector<uint8_t> bytes;
    if (round % 2 == 0) {
      bytes.resize(rng() % 128);
      for (auto& b : bytes) {
        b = static_cast<uint8_t>(rng());
      }
    } else {
      // Mutate a valid file: flips anywhere, including sizes and tags.
      bytes = valid;
      bytes.resize(rng() % (valid.size() + 1));
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips && !bytes.empty(); ++f) {
        bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
      }
    }
    auto parsed = ParseWav(bytes);
    if (parsed.ok()) {
      EXPECT_GE(parsed->channels, 1);
      EXPECT_EQ(parsed->samples.size() % static_cast<size_t>(parsed->channels), 0u);
      EXPECT_LE(parsed->samples.size(), bytes.size());
    } else {
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(WavTest, FileRoundTrip) {
  const std::string path = testing::TempDir() + "/wav_test_round_trip.wav";
  const WavAudio audio{8000, 2, Ramp(400)};
  ASSERT_TRUE(WriteWavFile(path, audio).ok());
  auto read = ReadWavFile(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->sample_rate, 8000);
  EXPECT_EQ(read->channels, 2);
  EXPECT_EQ(read->samples, audio.samples);
  std::remove(path.c_str());
}

TEST(WavTest, FileErrorsNameThePath) {
  const std::string missing = testing::TempDir() + "/no_such_dir/x.wav";
  auto read = ReadWavFile(missing);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kNotFound);
  EXPECT_NE(read.status().message().find(missing), std::string::npos);

  const core::Status written = WriteWavFile(missing, {16000, 1, {1}});
  EXPECT_EQ(written.code(), StatusCode::kNotFound);

  const std::string garbage = testing::TempDir() + "/wav_test_garbage.wav";
  std::FILE* f = std::fopen(garbage.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("hello, not a wav file", f);
  std::fclose(f);
  read = ReadWavFile(garbage);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(read.status().message().find(garbage), std::string::npos);
  std::remove(garbage.c_str());
}

TEST(WavTest, DownmixAveragesChannels) {
  EXPECT_EQ(DownmixToMono({16000, 2, {100, 300, -1, -2, 32767, 32767, -32768, -32768, 1, 2}}),
            (Samples{200, -2, 32767, -32768, 2}));
  EXPECT_EQ(DownmixToMono({16000, 3, {3, 3, 4, 9, 9}}), (Samples{3}));  // partial frame dropped
  EXPECT_EQ(DownmixToMono({16000, 1, {5, 6}}), (Samples{5, 6}));
}

}  // namespace
}  // namespace artagent::audio
