#pragma once
// Test helpers for the embedded speech providers: real audio from flite and from the
// pocketsphinx-testdata package. Test-only; not part of artagent_speech.

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "speech/tts.h"

namespace artagent::speech::test_audio {

inline constexpr char kTestDataDir[] = "/usr/share/pocketsphinx/test/data";

// Expected answers of a dialogue state, as the flow model would write them.
inline constexpr char kAnswers[] = R"(#JSGF V1.0;
grammar answers;
public <answer> = <policy> | <claim> | <confirm> | <agent>;
<policy> = my policy number is <digit>+;
<claim> = i want to file a claim;
<confirm> = yes [that is correct] [thank you] | no;
<agent> = i would like to speak to an agent;
<digit> = zero | one | two | three | four | five | six | seven | eight | nine;
)";

struct Audio {
  std::vector<int16_t> samples;
  int sample_rate = 0;
  int chunks = 0;
  double seconds() const { return sample_rate > 0 ? double(samples.size()) / sample_rate : 0.0; }
};

inline Audio Synthesize(TtsEngine& engine, const std::string& text, const std::string& voice = "",
                        double rate = 1.0) {
  Audio audio;
  core::Status status =
      engine.Synthesize({text, voice, rate}, [&](std::span<const int16_t> pcm, int sample_rate) {
        audio.samples.insert(audio.samples.end(), pcm.begin(), pcm.end());
        audio.sample_rate = sample_rate;
        ++audio.chunks;
        return true;
      });
  if (!status.ok()) {
    audio.samples.clear();
  }
  return audio;
}

// Headerless 16-bit little-endian PCM (.raw) or a PCM16 RIFF/WAVE file (samples of its data chunk).
inline std::vector<int16_t> ReadPcmFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t begin = 0, size = bytes.size();
  if (bytes.size() >= 12 && bytes.compare(0, 4, "RIFF") == 0 && bytes.compare(8, 4, "WAVE") == 0) {
    size_t pos = 12;
    size = 0;
    while (pos + 8 <= bytes.size()) {
      uint32_t chunk = 0;
      std::memcpy(&chunk, bytes.data() + pos + 4, 4);
      if (bytes.compare(pos, 4, "data") == 0) {
        begin = pos + 8;
        size = std::min<size_t>(chunk, bytes.size() - begin);
        break;
      }
      pos += 8 + chunk + (chunk & 1);
    }
  }
  std::vector<int16_t> samples(size / 2);
  std::memcpy(samples.data(), bytes.data() + begin, samples.size() * 2);
  return samples;
}

inline std::vector<std::string> Words(const std::string& text) {
  std::istringstream in(text);
  return {std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
}

// Fraction of the expected words found in the hypothesis, in order (longest common subsequence).
inline double WordRecall(const std::string& expected, const std::string& hypothesis) {
  std::vector<std::string> e = Words(expected), h = Words(hypothesis);
  if (e.empty()) {
    return h.empty() ? 1.0 : 0.0;
  }
  std::vector<std::vector<int>> lcs(e.size() + 1, std::vector<int>(h.size() + 1, 0));
  for (size_t i = 1; i <= e.size(); ++i) {
    for (size_t j = 1; j <= h.size(); ++j) {
      lcs[i][j] =
          e[i - 1] == h[j - 1] ? lcs[i - 1][j - 1] + 1 : std::max(lcs[i - 1][j], lcs[i][j - 1]);
    }
  }
  return double(lcs[e.size()][h.size()]) / e.size();
}

}  // namespace artagent::speech::test_audio
