// The azure-speech providers against the local fake service (speech/azure/testing).

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>

#include "net/http_client.h"
#include "speech/azure/azure_speech.h"
#include "speech/azure/speech_auth.h"
#include "speech/azure/speech_protocol.h"
#include "speech/azure/testing/fake_speech_server.h"

namespace artagent::speech::azure {
namespace {

using testing::FakeSpeechServer;
using testing::SttFault;
using testing::TtsFault;

std::vector<int16_t> Tone(int ms) {
  std::vector<int16_t> pcm(16 * ms);
  for (size_t i = 0; i < pcm.size(); ++i) {
    pcm[i] = static_cast<int16_t>(6000 * std::sin(2 * M_PI * 300.0 * i / 16000));
  }
  return pcm;
}

class AzureSpeechTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = FakeSpeechServer::Start().value();
    http_ = net::HttpClient::Create();
    options_.endpoint = fake_->endpoint();
    options_.key = "fake-speech-key";
    options_.backoff = {std::chrono::milliseconds(1), std::chrono::milliseconds(5), 2.0, 0.0};
    options_.max_retry_after = std::chrono::milliseconds(10);
    options_.on_error = [this](std::string_view what, std::string_view kind) {
      std::lock_guard<std::mutex> lock(mu_);
      errors_.push_back(std::string(what) + ":" + std::string(kind));
    };
  }
  void TearDown() override {
    EXPECT_TRUE(fake_->protocol_errors().empty())
        << "first protocol error: " << fake_->protocol_errors().front();
  }

  std::unique_ptr<TtsEngine> Tts() { return CreateAzureTts(options_, http_.get()).value(); }
  std::unique_ptr<SttEngine> Stt() { return CreateAzureStt(options_, http_.get()).value(); }

  struct Heard {
    size_t samples = 0;
    int chunks = 0;
    int rate = 0;
  };
  core::Status Say(TtsEngine& tts, const std::string& text, Heard* heard,
                   const std::string& voice = "") {
    return tts.Synthesize(TtsRequest{text, voice, 1.0},
                          [heard](std::span<const int16_t> pcm, int rate) {
                            heard->samples += pcm.size();
                            heard->chunks++;
                            heard->rate = rate;
                            return true;
                          });
  }

  std::vector<std::string> errors() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_;
  }

  std::unique_ptr<FakeSpeechServer> fake_;
  std::unique_ptr<net::HttpClient> http_;
  AzureSpeechOptions options_;
  std::mutex mu_;
  std::vector<std::string> errors_;
};

TEST_F(AzureSpeechTest, TtsStreamsPcmInChunks) {
  auto tts = Tts();
  Heard heard;
  const std::string text = "Your claim number is C-1234 & it's filed.";
  ASSERT_TRUE(Say(*tts, text, &heard, "azure:en-GB-SoniaNeural:cheerful").ok());
  // The fake sends 20 ms per character of the (escaped) SSML text at 24 kHz, in 1600-byte chunks.
  const size_t expected = XmlEscape(text).size() * 24000 / 50;
  EXPECT_EQ(heard.samples, expected);
  EXPECT_EQ(heard.rate, 24000);
  EXPECT_GT(heard.chunks, 1);  // handed out as it arrived, not in one piece
  auto requests = fake_->tts_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].output_format, "raw-24khz-16bit-mono-pcm");
  EXPECT_EQ(requests[0].auth, "fake-speech-key");
  EXPECT_NE(requests[0].ssml.find("name='en-GB-SoniaNeural'"), std::string::npos);
  EXPECT_NE(requests[0].ssml.find("style='cheerful'"), std::string::npos);
  EXPECT_NE(requests[0].ssml.find("C-1234 &amp; it&apos;s filed."), std::string::npos);
}

TEST_F(AzureSpeechTest, TtsSixteenKilohertzAndDefaultVoice) {
  options_.tts_sample_rate = 16000;
  options_.voice = "en-US-AriaNeural";
  auto tts = Tts();
  Heard heard;
  ASSERT_TRUE(Say(*tts, "Hello there.", &heard, "slt").ok());
  EXPECT_EQ(heard.rate, 16000);
  auto requests = fake_->tts_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].output_format, "raw-16khz-16bit-mono-pcm");
  EXPECT_NE(requests[0].ssml.find("name='en-US-AriaNeural'"), std::string::npos);
}

TEST_F(AzureSpeechTest, TtsRetriesThrottlingAndOutagesBeforeTheFirstByte) {
  auto tts = Tts();
  fake_->QueueTtsFault({TtsFault::Kind::k429, 1});
  fake_->QueueTtsFault({TtsFault::Kind::k503, 0});
  Heard heard;
  ASSERT_TRUE(Say(*tts, "Hello.", &heard).ok());
  EXPECT_GT(heard.samples, 0u);
  auto requests = fake_->tts_requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].status, 429);
  EXPECT_EQ(requests[1].status, 503);
  EXPECT_EQ(requests[2].status, 200);
  EXPECT_EQ(errors(), (std::vector<std::string>{"tts:http_429", "tts:http_503"}));
}

TEST_F(AzureSpeechTest, TtsRetriesADroppedConnection) {
  auto tts = Tts();
  fake_->QueueTtsFault({TtsFault::Kind::kDrop, 0});
  Heard heard;
  ASSERT_TRUE(Say(*tts, "Hello.", &heard).ok());
  EXPECT_EQ(fake_->tts_requests().size(), 2u);
}

TEST_F(AzureSpeechTest, TtsGivesUpAfterTheRetries) {
  auto tts = Tts();
  for (int i = 0; i < 3; ++i) fake_->QueueTtsFault({TtsFault::Kind::k503, 0});
  Heard heard;
  core::Status st = Say(*tts, "Hello.", &heard);
  EXPECT_EQ(st.code(), core::StatusCode::kUnavailable) << st.ToString();
  EXPECT_EQ(heard.samples, 0u);
  EXPECT_EQ(fake_->tts_requests().size(), 3u);  // the first try and max_retries = 2
}

TEST_F(AzureSpeechTest, TtsDoesNotRetryAfterAudioWasDelivered) {
  auto tts = Tts();
  fake_->QueueTtsFault({TtsFault::Kind::kTruncate, 0});
  Heard heard;
  core::Status st = Say(*tts, "A sentence long enough to come in several chunks.", &heard);
  EXPECT_EQ(st.code(), core::StatusCode::kUnavailable) << st.ToString();
  EXPECT_GT(heard.samples, 0u);
  EXPECT_EQ(fake_->tts_requests().size(), 1u);
  EXPECT_EQ(errors(), (std::vector<std::string>{"tts:truncated"}));
}

TEST_F(AzureSpeechTest, TtsWrongKeyIsUnauthenticatedWithoutRetry) {
  options_.key = "wrong";
  auto tts = Tts();
  Heard heard;
  core::Status st = Say(*tts, "Hello.", &heard);
  EXPECT_EQ(st.code(), core::StatusCode::kUnauthenticated);
  EXPECT_EQ(st.message().find("wrong"), std::string::npos);  // never echoes the key
  EXPECT_EQ(fake_->tts_requests().size(), 1u);
}

TEST_F(AzureSpeechTest, TtsStopsWhenTheListenerDoes) {
  auto tts = Tts();
  int calls = 0;
  core::Status st = tts->Synthesize(TtsRequest{"A long enough sentence to stream.", "", 1.0},
                                    [&](std::span<const int16_t>, int) { return ++calls < 2; });
  EXPECT_EQ(st.code(), core::StatusCode::kCancelled);
  EXPECT_EQ(calls, 2);
}

TEST_F(AzureSpeechTest, TtsRejectsEmptyText) {
  auto tts = Tts();
  Heard heard;
  EXPECT_EQ(Say(*tts, "  ", &heard).code(), core::StatusCode::kInvalidArgument);
  EXPECT_TRUE(fake_->tts_requests().empty());
}

TEST_F(AzureSpeechTest, TokensAreExchangedOnceAndReusedForNineMinutes) {
  std::atomic<int64_t> now_s{1'700'000'000};
  options_.auth = SpeechAuthMode::kToken;
  options_.now = [&now_s] {
    return std::chrono::system_clock::time_point(std::chrono::seconds(now_s.load()));
  };
  auto tts = Tts();
  Heard heard;
  ASSERT_TRUE(Say(*tts, "One.", &heard).ok());
  ASSERT_TRUE(Say(*tts, "Two.", &heard).ok());
  EXPECT_EQ(fake_->token_requests(), 1);
  now_s += 539;
  ASSERT_TRUE(Say(*tts, "Three.", &heard).ok());
  EXPECT_EQ(fake_->token_requests(), 1);
  now_s += 1;  // 9 minutes: a fresh token
  ASSERT_TRUE(Say(*tts, "Four.", &heard).ok());
  EXPECT_EQ(fake_->token_requests(), 2);
  for (const auto& r : fake_->tts_requests()) EXPECT_EQ(r.auth, "Bearer fake-speech-token");
}

TEST_F(AzureSpeechTest, ARefusedTokenIsFetchedAgainOnce) {
  options_.auth = SpeechAuthMode::kToken;
  auto tts = Tts();
  Heard heard;
  ASSERT_TRUE(Say(*tts, "One.", &heard).ok());
  fake_->QueueTtsFault({TtsFault::Kind::k401, 0});  // e.g. the token expired early
  ASSERT_TRUE(Say(*tts, "Two.", &heard).ok());
  EXPECT_EQ(fake_->token_requests(), 2);
}

TEST_F(AzureSpeechTest, EntraTokensUseTheAadForm) {
  fake_.reset();
  testing::FakeSpeechOptions fo;
  fo.resource_id =
      "/subscriptions/s/resourceGroups/g/providers/Microsoft.CognitiveServices/"
      "accounts/speech";
  fo.entra_token = "entra-access-token";
  fake_ = FakeSpeechServer::Start(fo).value();
  options_.endpoint = fake_->endpoint();
  options_.key.clear();
  options_.auth = SpeechAuthMode::kEntra;
  options_.resource_id = fo.resource_id;
  options_.entra_token = [] { return core::Result<std::string>("entra-access-token"); };
  auto tts = Tts();
  Heard heard;
  ASSERT_TRUE(Say(*tts, "Hello.", &heard).ok());
  EXPECT_EQ(fake_->tts_requests()[0].auth, "Bearer aad#" + fo.resource_id + "#entra-access-token");
}

TEST_F(AzureSpeechTest, OptionsAreValidated) {
  AzureSpeechOptions o;
  o.key = "k";
  EXPECT_EQ(ValidateOptions(o).code(), core::StatusCode::kInvalidArgument);  // no region
  o.region = "westeurope";
  EXPECT_TRUE(ValidateOptions(o).ok());
  auto e = ResolveEndpoints(o).value();
  EXPECT_EQ(e.tts_url, "https://westeurope.tts.speech.microsoft.com/cognitiveservices/v1");
  EXPECT_EQ(e.stt_url,
            "wss://westeurope.stt.speech.microsoft.com/stt/speech/universal/"
            "v2?language=en-US&format=simple");
  EXPECT_EQ(e.token_url, "https://westeurope.api.cognitive.microsoft.com/sts/v1.0/issueToken");
  o.key.clear();
  EXPECT_EQ(ValidateOptions(o).code(), core::StatusCode::kInvalidArgument);
  o.auth = SpeechAuthMode::kEntra;
  EXPECT_EQ(ValidateOptions(o).code(), core::StatusCode::kInvalidArgument);  // no resource id
  o.endpoint = "ftp://x";
  EXPECT_EQ(ValidateOptions(o).code(), core::StatusCode::kInvalidArgument);
}

TEST_F(AzureSpeechTest, SttTurnsOnOneWarmConnection) {
  auto stt = Stt();
  SttOptions so;
  so.phrase_hints = {"Contoso", "deductible"};
  auto stream = stt->NewStream(so).value();
  fake_->QueueTranscript("I'd like to file a claim.");
  fake_->QueueTranscript("Four zero two one.");

  ASSERT_TRUE(stream->StartUtterance().ok());
  std::string partial;
  for (int i = 0; i < 10; ++i) partial = stream->Feed(Tone(100)).value();
  auto first = stream->EndUtterance();
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->text, "i'd like to file a claim");
  EXPECT_GT(first->confidence, 0.5);

  ASSERT_TRUE(stream->StartUtterance().ok());
  stream->Feed(Tone(500)).value();
  auto second = stream->EndUtterance();
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->text, "four zero two one");

  EXPECT_EQ(fake_->stt_connections(), 1);
  EXPECT_EQ(fake_->speech_configs(), 1);
  auto turns = fake_->stt_turns();
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_NE(turns[0].request_id, turns[1].request_id);
  EXPECT_EQ(turns[0].pcm_bytes, 16000u * 2);
  EXPECT_EQ(turns[1].pcm_bytes, 8000u * 2);
  EXPECT_NE(turns[0].context_body.find("\"Text\":\"Contoso\""), std::string::npos);
}

TEST_F(AzureSpeechTest, SttPhraseHintsFollowTheAnsweringAgent) {
  auto stt = Stt();
  auto stream = stt->NewStream({}).value();
  ASSERT_TRUE(stream->StartUtterance().ok());
  stream->Feed(Tone(100)).value();
  ASSERT_TRUE(stream->EndUtterance().ok());
  stream->UsePhraseHints({"collision", "windscreen"});
  ASSERT_TRUE(stream->StartUtterance().ok());
  stream->Feed(Tone(100)).value();
  ASSERT_TRUE(stream->EndUtterance().ok());
  auto turns = fake_->stt_turns();
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_EQ(turns[0].context_body, "{}");
  EXPECT_EQ(turns[1].context_body,
            R"({"dgi":{"Groups":[{"Items":[{"Text":"collision"},{"Text":"windscreen"}],)"
            R"("Type":"Generic"}]}})");
}

TEST_F(AzureSpeechTest, SttPartialsComeFromHypotheses) {
  auto stt = Stt();
  auto stream = stt->NewStream({}).value();
  fake_->QueueTranscript("Claims please.");
  ASSERT_TRUE(stream->StartUtterance().ok());
  std::string partial;
  // The fake sends its hypothesis (the first word) after 200 ms of audio; keep feeding until it
  // has arrived (bounded).
  for (int i = 0; i < 500 && partial.empty(); ++i) partial = stream->Feed(Tone(20)).value();
  EXPECT_EQ(partial, "claims");
  EXPECT_EQ(stream->EndUtterance().value().text, "claims please");
}

TEST_F(AzureSpeechTest, SttNoMatchIsAnEmptyFinal) {
  auto stt = Stt();
  auto stream = stt->NewStream({}).value();
  ASSERT_TRUE(stream->StartUtterance().ok());
  stream->Feed(Tone(300)).value();
  auto final = stream->EndUtterance();
  ASSERT_TRUE(final.ok()) << final.status().ToString();
  EXPECT_EQ(final->text, "");
}

TEST_F(AzureSpeechTest, SttErrorStatusFailsTheTurnOnly) {
  auto stt = Stt();
  auto stream = stt->NewStream({}).value();
  fake_->QueueSttFault(SttFault::kErrorStatus);
  fake_->QueueTranscript("ignored by the error");
  fake_->QueueTranscript("Yes.");
  ASSERT_TRUE(stream->StartUtterance().ok());
  stream->Feed(Tone(300)).value();
  EXPECT_EQ(stream->EndUtterance().status().code(), core::StatusCode::kUnavailable);
  ASSERT_TRUE(stream->StartUtterance().ok());
  stream->Feed(Tone(300)).value();
  EXPECT_EQ(stream->EndUtterance().value().text, "yes");
}

TEST_F(AzureSpeechTest, SttReconnectsAndReplaysTheTurnAfterADrop) {
  auto stt = Stt();
  auto stream = stt->NewStream({}).value();
  fake_->QueueSttFault(SttFault::kDropBeforePhrase);
  fake_->QueueTranscript("Policy questions.");
  ASSERT_TRUE(stream->StartUtterance().ok());
  stream->Feed(Tone(400)).value();
  auto final = stream->EndUtterance();
  ASSERT_TRUE(final.ok()) << final.status().ToString();
  EXPECT_EQ(final->text, "policy questions");
  EXPECT_EQ(fake_->stt_connections(), 2);
  EXPECT_EQ(fake_->speech_configs(), 2);
  auto turns = fake_->stt_turns();
  ASSERT_EQ(turns.size(), 2u);
  EXPECT_EQ(turns[1].pcm_bytes, 6400u * 2);  // the whole turn heard again
  EXPECT_EQ(errors(), (std::vector<std::string>{"stt:dropped"}));
}

TEST_F(AzureSpeechTest, SttTimesOutInsteadOfHanging) {
  options_.final_timeout = std::chrono::milliseconds(300);
  auto stt = Stt();
  auto stream = stt->NewStream({}).value();
  fake_->QueueSttFault(SttFault::kSilent);
  fake_->QueueTranscript("Next turn.");
  ASSERT_TRUE(stream->StartUtterance().ok());
  stream->Feed(Tone(200)).value();
  EXPECT_EQ(stream->EndUtterance().status().code(), core::StatusCode::kDeadlineExceeded);
  // The next turn runs on a new connection.
  ASSERT_TRUE(stream->StartUtterance().ok());
  stream->Feed(Tone(200)).value();
  EXPECT_EQ(stream->EndUtterance().value().text, "next turn");
  EXPECT_EQ(fake_->stt_connections(), 2);
}

TEST_F(AzureSpeechTest, SttCancelledTurnIsClosedAndIgnored) {
  auto stt = Stt();
  auto stream = stt->NewStream({}).value();
  fake_->QueueTranscript("Thrown away.");
  fake_->QueueTranscript("Kept.");
  ASSERT_TRUE(stream->StartUtterance().ok());
  stream->Feed(Tone(200)).value();
  stream->CancelUtterance();
  ASSERT_TRUE(stream->StartUtterance().ok());
  stream->Feed(Tone(200)).value();
  EXPECT_EQ(stream->EndUtterance().value().text, "kept");
  EXPECT_EQ(fake_->stt_connections(), 1);
}

TEST_F(AzureSpeechTest, SttRefusedKeyFailsTheStream) {
  options_.key = "wrong";
  auto stt = Stt();
  auto stream = stt->NewStream({});
  EXPECT_EQ(stream.status().code(), core::StatusCode::kUnauthenticated);
}

TEST_F(AzureSpeechTest, SttThrottledUpgradeIsRetried) {
  auto stt = Stt();
  fake_->QueueSttFault(SttFault::kRefuse429);
  auto stream = stt->NewStream({}).value();
  fake_->QueueTranscript("Hello.");
  ASSERT_TRUE(stream->StartUtterance().ok());
  stream->Feed(Tone(200)).value();
  EXPECT_EQ(stream->EndUtterance().value().text, "hello");
  EXPECT_EQ(errors(), (std::vector<std::string>{"stt:throttled"}));
}

TEST_F(AzureSpeechTest, SttWithAnExchangedToken) {
  options_.auth = SpeechAuthMode::kToken;
  auto stt = Stt();
  auto a = stt->NewStream({}).value();
  auto b = stt->NewStream({}).value();
  EXPECT_EQ(fake_->token_requests(), 1);
  EXPECT_EQ(fake_->stt_connections(), 2);
}

TEST_F(AzureSpeechTest, SttBreakerOpensWhenTheServiceIsDown) {
  options_.endpoint = "http://127.0.0.1:1";  // nothing listens there
  options_.breaker.failure_threshold = 5;
  auto stt = Stt();
  auto stream = stt->NewStream({});  // connecting is retried per turn, not fatal here
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  // Each attempt tries 1 + max_retries times; after 5 failures the breaker fails turns at once.
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE((*stream)->StartUtterance().ok());
    EXPECT_FALSE((*stream)->EndUtterance().ok());  // the turn fails, it does not hang
  }
  auto e = errors();
  EXPECT_NE(std::find(e.begin(), e.end(), "stt:circuit_open"), e.end());
}

}  // namespace
}  // namespace artagent::speech::azure
