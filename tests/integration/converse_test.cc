// `artagent converse` over two caller WAVs: transcripts and replies.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "audio/wav.h"
#include "tests/integration/harness.h"

namespace artagent::testing {
namespace {

std::string RunCommand(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  *status = pclose(p);
  return out;
}

TEST(ConverseTest, TwoCallerTurnsAreTranscribedAndAnswered) {
  std::string dir = TempDir("converse");
  audio::WavAudio a{16000, 1, SpeakWithFlite("I want to file a claim.", 16000, 300, 200)};
  audio::WavAudio b{16000, 1, SpeakWithFlite("four five six seven", 16000, 300, 200)};
  ASSERT_TRUE(audio::WriteWavFile(dir + "/a.wav", a).ok());
  ASSERT_TRUE(audio::WriteWavFile(dir + "/b.wav", b).ok());
  int status = 0;
  std::string out = RunCommand("cd " + SourceDir() + " && " + ArtagentBinary() +
                            " converse --scenario insurance --in " + dir + "/a.wav --in " + dir +
                            "/b.wav --text 'yes' --out " + dir + "/reply.wav 2>" + dir +
                            "/err.log",
                        &status);
  ASSERT_EQ(status, 0) << out;
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 4u) << out;  // greeting + 3 turns
  EXPECT_EQ(lines[0]["input"], "greeting");
  EXPECT_NE(lines[0]["agent_text"].get<std::string>().find("Contoso"), std::string::npos);

  EXPECT_NE(lines[1]["user_transcript"].get<std::string>().find("claim"), std::string::npos)
      << lines[1];
  EXPECT_NE(lines[1]["agent_text"].get<std::string>().find("policy number"), std::string::npos);
  for (const char* stage : {"endpointing", "stt_final", "tts_first_audio", "voice_to_voice"}) {
    EXPECT_TRUE(lines[1]["latency_ms"].contains(stage)) << stage << " " << lines[1];
  }
  // The digits were understood and read back.
  EXPECT_NE(lines[2]["agent_text"].get<std::string>().find("4, 5, 6, 7"), std::string::npos)
      << lines[2];
  EXPECT_NE(lines[3]["agent_text"].get<std::string>().find("verified"), std::string::npos)
      << lines[3];
  // The agent's audio was written.
  auto reply = audio::ReadWavFile(dir + "/reply.wav");
  ASSERT_TRUE(reply.ok());
  EXPECT_GT(reply->samples.size(), 16000u * 5);
  std::filesystem::remove_all(dir);
}

TEST(ConverseTest, MissingFileIsAClearError) {
  int status = 0;
  std::string out = RunCommand(ArtagentBinary() + " converse --in /nonexistent.wav 2>&1", &status);
  EXPECT_NE(status, 0);
  EXPECT_NE(out.find("/nonexistent.wav"), std::string::npos) << out;
}

}  // namespace
}  // namespace artagent::testing
