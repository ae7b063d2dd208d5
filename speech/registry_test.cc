#include "speech/registry.h"

#include <gtest/gtest.h>

#include "speech/local/register.h"

namespace artagent::speech {
namespace {

class SilentVad : public Vad {
 public:
  bool IsSpeech(std::span<const int16_t>) override { return false; }
  void Reset() override {}
};

TEST(SpeechProvidersTest, UnknownNamesListTheKnownProviders) {
  SpeechProviders providers;
  auto none = providers.CreateStt("pocketsphinx");
  EXPECT_EQ(none.status().code(), core::StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find("none registered"), std::string::npos);

  providers.RegisterVad("silent", [](const VadOptions&) -> core::Result<std::unique_ptr<Vad>> {
    return std::unique_ptr<Vad>(std::make_unique<SilentVad>());
  });
  providers.RegisterVad("other", [](const VadOptions&) -> core::Result<std::unique_ptr<Vad>> {
    return core::UnavailableError("down");
  });
  auto unknown = providers.CreateVad("webrtc", {});
  EXPECT_EQ(unknown.status().code(), core::StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("'webrtc'"), std::string::npos);
  EXPECT_NE(unknown.status().message().find("other, silent"), std::string::npos)
      << unknown.status().message();

  EXPECT_TRUE(providers.CreateVad("silent", {}).ok());
  EXPECT_EQ(providers.CreateVad("other", {}).status().code(), core::StatusCode::kUnavailable);
  EXPECT_EQ(providers.VadNames(), (std::vector<std::string>{"other", "silent"}));
  EXPECT_TRUE(providers.TtsNames().empty());
}

TEST(SpeechProvidersTest, PassesVadOptionsToTheFactory) {
  SpeechProviders providers;
  int seen = -1;
  providers.RegisterVad("probe",
                        [&](const VadOptions& options) -> core::Result<std::unique_ptr<Vad>> {
                          seen = options.aggressiveness;
                          return std::unique_ptr<Vad>(std::make_unique<SilentVad>());
                        });
  ASSERT_TRUE(providers.CreateVad("probe", {3}).ok());
  EXPECT_EQ(seen, 3);
}

TEST(LocalProvidersTest, RegistersTheEmbeddedProviders) {
  SpeechProviders providers;
  LocalSpeechOptions options;
  options.pocketsphinx.lm_path = "/nonexistent/lm.bin";  // proves the options reach the factory
  RegisterLocalProviders(&providers, options);
  EXPECT_EQ(providers.VadNames(), (std::vector<std::string>{"webrtc"}));
  EXPECT_EQ(providers.SttNames(), (std::vector<std::string>{"pocketsphinx"}));
  EXPECT_EQ(providers.TtsNames(), (std::vector<std::string>{"espeak-ng", "flite"}));

  auto vad = providers.CreateVad("webrtc", {2});
  ASSERT_TRUE(vad.ok()) << vad.status().ToString();
  EXPECT_EQ(providers.CreateVad("webrtc", {9}).status().code(), core::StatusCode::kInvalidArgument);
  auto flite = providers.CreateTts("flite");
  ASSERT_TRUE(flite.ok());
  EXPECT_EQ((*flite)->name(), "flite");
  auto espeak = providers.CreateTts("espeak-ng");
  ASSERT_TRUE(espeak.ok()) << espeak.status().ToString();
  EXPECT_EQ((*espeak)->name(), "espeak-ng");
  auto stt = providers.CreateStt("pocketsphinx");
  EXPECT_EQ(stt.status().code(), core::StatusCode::kNotFound);
  EXPECT_NE(stt.status().message().find("/nonexistent/lm.bin"), std::string::npos);

  auto azure = providers.CreateTts("azure-speech");
  EXPECT_EQ(azure.status().code(), core::StatusCode::kNotFound);
  EXPECT_NE(azure.status().message().find("espeak-ng, flite"), std::string::npos)
      << azure.status().message();
}

}  // namespace
}  // namespace artagent::speech
