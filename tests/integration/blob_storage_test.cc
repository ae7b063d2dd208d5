// Blob storage against the real Azurite emulator: the Azure client's SharedKey signing and block
// uploads, then the real server archiving sessions (transcript JSON, stereo call recording) to
// it — also through a storage outage and a server restart.

#include <gtest/gtest.h>

#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "audio/wav.h"
#include "core/serial_thread_executor.h"
#include "net/http_client.h"
#include "platform/azure_blob_storage.h"
#include "tests/integration/azurite.h"
#include "tests/integration/harness.h"

namespace artagent::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::seconds;

// Starts Azurite or fails the test with the reason (a missing install is a failure, not a skip).
#define ASSERT_AZURITE_STARTS(azurite) ASSERT_TRUE((azurite).Start()) << (azurite).error()

class AzuriteClient {
 public:
  explicit AzuriteClient(const AzuriteProcess& azurite, int64_t block_size = 4 << 20,
                         std::string key = kAzuriteKey) {
    http_ = net::HttpClient::Create();
    executor_ = core::SerialThreadExecutor::Create("azurite-test");
    platform::AzureBlobOptions o;
    o.endpoint = azurite.blob_endpoint();
    o.account_name = kAzuriteAccount;
    o.account_key = std::move(key);
    o.block_size = block_size;
    o.max_retries = 1;
    o.backoff = {std::chrono::milliseconds(50), std::chrono::milliseconds(200), 2.0, 0.2};
    storage_ = platform::CreateAzureBlobStorage(o, http_.get(), executor_).value();
  }
  platform::BlobStorage& operator*() { return *storage_; }
  platform::BlobStorage* operator->() { return storage_.get(); }

 private:
  std::unique_ptr<net::HttpClient> http_;
  std::shared_ptr<core::SerialThreadExecutor> executor_;
  std::unique_ptr<platform::BlobStorage> storage_;
};

std::string Pattern(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed;
  for (char& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

TEST(AzuriteBlobTest, SharedKeySmallAndMultiBlockBlobsReadBackByteExact) {
  AzuriteProcess azurite(TempDir("azurite"));
  ASSERT_AZURITE_STARTS(azurite);
  AzuriteClient client(azurite, /*block_size=*/64 * 1024);

  // Small: one Put Blob (the container does not exist yet: created on ContainerNotFound).
  const std::string small = Pattern(1000, 1);
  ASSERT_TRUE(
      client->PutBlocking({"transcripts", "2026-11-24/small.json", "application/json", small, ""})
          .ok());
  // Large: five blocks of 64 KiB and a partial one, streamed from a file.
  const std::string dir = TempDir("azurite-src");
  const std::string path = dir + "/big.wav";
  const std::string big = Pattern(5 * 64 * 1024 + 12345, 2);
  std::ofstream(path, std::ios::binary) << big;
  core::Status put =
      client->PutBlocking({"audio-recordings", "2026-11-24/big.wav", "audio/wav", "", path});
  ASSERT_TRUE(put.ok()) << put.ToString();

  auto got_small = client->GetBlocking("transcripts", "2026-11-24/small.json");
  ASSERT_TRUE(got_small.ok()) << got_small.status().ToString();
  EXPECT_EQ(*got_small, small);
  auto got_big = client->GetBlocking("audio-recordings", "2026-11-24/big.wav");
  ASSERT_TRUE(got_big.ok()) << got_big.status().ToString();
  EXPECT_TRUE(*got_big == big) << "sizes " << got_big->size() << " vs " << big.size();

  auto listed = client->ListBlocking("audio-recordings", "2026-11-24/");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].size, static_cast<int64_t>(big.size()));
  EXPECT_EQ(client->GetBlocking("transcripts", "nope.json").status().code(),
            core::StatusCode::kNotFound);
  EXPECT_TRUE(client->Health().ok);
}

TEST(AzuriteBlobTest, WrongKeyIsRefusedWithoutRetrying) {
  AzuriteProcess azurite(TempDir("azurite"));
  ASSERT_AZURITE_STARTS(azurite);
  std::string wrong = kAzuriteKey;
  wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
  AzuriteClient client(azurite, 4 << 20, wrong);
  core::Status st = client->PutBlocking({"logs", "a.txt", "text/plain", "x", ""});
  EXPECT_EQ(st.code(), core::StatusCode::kPermissionDenied) << st.ToString();
  EXPECT_NE(st.message().find("AuthorizationFailure"), std::string::npos) << st.ToString();
}

// ---- the real server ----

std::string Today() {
  const time_t now = time(nullptr);
  struct tm tm;
  gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

// Waits until container/name exists in Azurite; its bytes, or nullopt after `timeout`.
std::optional<std::string> AwaitBlob(AzuriteClient& client, const std::string& container,
                                     const std::string& name, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto got = client->GetBlocking(container, name);
    if (got.ok()) return *got;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return std::nullopt;
}

double MetricValue(int port, const std::string& name) {
  HttpResult r = HttpGet(port, "/metrics");
  std::istringstream lines(r.body);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name + " ", 0) == 0) return std::stod(line.substr(name.size() + 1));
  }
  return -1;
}

// A Realtime call: the greeting, one caller turn, the reply; then the client hangs up.
// Returns the session id; `caller_seconds` is the caller audio streamed.
std::string HoldCall(int port, double* caller_seconds) {
  WsClient ws;
  EXPECT_TRUE(ws.Connect(port, "/v1/realtime"));
  auto created = ws.WaitFor("session.created");
  EXPECT_TRUE(created);
  if (!created) return "";
  const std::string id = (*created)["session"]["id"];
  // Defaults: server VAD, audio/pcm at 24 kHz both ways.
  EXPECT_TRUE(ws.WaitFor("response.done", seconds(30)));  // the greeting
  audio::Samples turn = SpeakWithFlite("I want to file a claim for my car.", 24000);
  *caller_seconds = static_cast<double>(turn.size()) / 24000.0;
  ws.StreamAudio(turn, 24000);
  EXPECT_TRUE(ws.WaitFor("conversation.item.input_audio_transcription.completed", seconds(20)));
  EXPECT_TRUE(ws.WaitFor("response.done", seconds(30)));  // the reply
  ws.Close();
  return id;
}

double ChannelEnergy(const audio::WavAudio& wav, int channel, double from_s, double to_s) {
  const size_t frames = wav.samples.size() / 2;
  const size_t a = std::min(frames, static_cast<size_t>(from_s * wav.sample_rate));
  const size_t b = std::min(frames, static_cast<size_t>(to_s * wav.sample_rate));
  double sum = 0;
  for (size_t f = a; f < b; ++f) sum += std::abs(static_cast<double>(wav.samples[f * 2 + channel]));
  return b > a ? sum / static_cast<double>(b - a) : 0;
}

std::map<std::string, std::string> ServerEnv(const AzuriteProcess& azurite,
                                             const std::string& dir) {
  return {{"ARTAGENT_STORAGE__PROVIDER", "azure"},
          {"ARTAGENT_STORAGE__CONNECTION_STRING", azurite.connection_string()},
          {"ARTAGENT_STORAGE__BLOCK_SIZE_BYTES", "262144"},  // the WAV goes up in blocks
          {"ARTAGENT_FEATURES__CALL_RECORDING", "true"},
          {"ARTAGENT_STORE__PATH", dir + "/artagent.db"},
          {"ARTAGENT_STORAGE__OUTBOX_DIR", dir + "/outbox"}};
}

void ExpectTranscript(const std::string& body, const std::string& id) {
  json t = json::parse(body, nullptr, false);
  ASSERT_TRUE(t.is_object()) << body.substr(0, 200);
  EXPECT_EQ(t["id"], id);
  EXPECT_EQ(t["transport"], "realtime");
  bool user_claim = false, agent_spoke = false;
  for (const auto& e : t["transcript"]) {
    if (e["role"] == "user" && e["text"].get<std::string>().find("claim") != std::string::npos) {
      user_claim = true;
    }
    if (e["role"] == "agent" && !e["agent"].get<std::string>().empty()) agent_spoke = true;
    EXPECT_GT(e["at_ms"].get<int64_t>(), 0);
  }
  EXPECT_TRUE(user_claim) << body;
  EXPECT_TRUE(agent_spoke) << body;
}

TEST(BlobArchiveTest, RealtimeSessionLeavesTranscriptAndStereoRecordingInAzurite) {
  AzuriteProcess azurite(TempDir("azurite"));
  ASSERT_AZURITE_STARTS(azurite);
  const std::string dir = TempDir("archive");
  ServerProcess server(ServerEnv(azurite, dir));
  ASSERT_TRUE(server.ok()) << server.StderrTail();

  const auto began = std::chrono::steady_clock::now();
  double caller_s = 0;
  const std::string id = HoldCall(server.port(), &caller_s);
  ASSERT_FALSE(id.empty());
  const double call_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();

  AzuriteClient client(azurite);
  auto transcript = AwaitBlob(client, "transcripts", Today() + "/" + id + ".json", seconds(60));
  ASSERT_TRUE(transcript) << server.StderrTail();
  ExpectTranscript(*transcript, id);

  auto wav_bytes = AwaitBlob(client, "audio-recordings", Today() + "/" + id + ".wav", seconds(60));
  ASSERT_TRUE(wav_bytes) << server.StderrTail();
  auto wav = audio::ParseWav(std::span<const uint8_t>(
      reinterpret_cast<const uint8_t*>(wav_bytes->data()), wav_bytes->size()));
  ASSERT_TRUE(wav.ok()) << wav.status().ToString();
  EXPECT_EQ(wav->channels, 2);
  EXPECT_EQ(wav->sample_rate, 16000);
  const double duration = static_cast<double>(wav->samples.size() / 2) / wav->sample_rate;
  // The recording spans the call: the greeting, the caller's turn and the reply, on the wall-clock
  // timeline (not longer than the call itself).
  EXPECT_GT(duration, caller_s + 1.0) << "call " << call_s << " s";
  EXPECT_LT(duration, call_s + 0.5) << "caller " << caller_s << " s";
  // Time-aligned channels: the greeting is on the right at the start while the caller is silent;
  // the caller's speech is on the left later.
  EXPECT_GT(ChannelEnergy(*wav, 1, 0, 3), 50.0);
  EXPECT_LT(ChannelEnergy(*wav, 0, 0, 1), 1.0);
  EXPECT_GT(ChannelEnergy(*wav, 0, 0, duration), 5.0);
  EXPECT_EQ(MetricValue(server.port(), "artagent_blob_outbox_pending"), 0);
  HttpResult ready = HttpGet(server.port(), "/readyz");
  json checks = ready.Json()["checks"];
  ASSERT_TRUE(checks.contains("storage")) << ready.body;
  EXPECT_TRUE(checks["storage"]["ok"]) << ready.body;
}

TEST(BlobArchiveTest, NothingIsLostWhenStorageIsDownAndTheServerRestarts) {
  AzuriteProcess azurite(TempDir("azurite"));
  ASSERT_AZURITE_STARTS(azurite);
  const std::string dir = TempDir("archive-outage");
  std::string id;
  {
    ServerProcess server(ServerEnv(azurite, dir));
    ASSERT_TRUE(server.ok()) << server.StderrTail();
    azurite.Stop();  // the outage begins
    double caller_s = 0;
    id = HoldCall(server.port(), &caller_s);
    ASSERT_FALSE(id.empty());
    // Both uploads wait in the outbox (the recording is finished on the compute pool), and fail.
    const std::string failed = "artagent_blob_uploads_total{outcome=\"failed\"}";
    const auto deadline = std::chrono::steady_clock::now() + seconds(60);
    while ((MetricValue(server.port(), "artagent_blob_outbox_pending") < 2 ||
            MetricValue(server.port(), failed) < 1) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(MetricValue(server.port(), "artagent_blob_outbox_pending"), 2) << server.StderrTail();
    EXPECT_GE(MetricValue(server.port(), failed), 1);
    EXPECT_EQ(MetricValue(server.port(), "artagent_blob_uploads_total{outcome=\"ok\"}"), 0);
    json ready = HttpGet(server.port(), "/readyz").Json();
    EXPECT_TRUE(ready["checks"].contains("storage"));
    EXPECT_EQ(server.Stop(), 0) << server.StderrTail();  // SIGTERM while the storage is away
  }
  size_t items = 0;
  for (const auto& e : fs::directory_iterator(dir + "/outbox/items")) items += e.is_regular_file();
  EXPECT_EQ(items, 2u);

  ServerProcess restarted(ServerEnv(azurite, dir));
  ASSERT_TRUE(restarted.ok()) << restarted.StderrTail();
  ASSERT_AZURITE_STARTS(azurite);  // the outage ends, on the same port and data
  AzuriteClient client(azurite);
  auto transcript = AwaitBlob(client, "transcripts", Today() + "/" + id + ".json", seconds(120));
  ASSERT_TRUE(transcript) << restarted.StderrTail();
  ExpectTranscript(*transcript, id);
  auto wav = AwaitBlob(client, "audio-recordings", Today() + "/" + id + ".wav", seconds(120));
  ASSERT_TRUE(wav) << restarted.StderrTail();
  EXPECT_GT(wav->size(), 44u + 16000u * 4u);
  const auto deadline = std::chrono::steady_clock::now() + seconds(30);
  while (MetricValue(restarted.port(), "artagent_blob_outbox_pending") != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(MetricValue(restarted.port(), "artagent_blob_outbox_pending"), 0);
  items = 0;
  for (const auto& e : fs::directory_iterator(dir + "/outbox/items")) items += e.is_regular_file();
  EXPECT_EQ(items, 0u);
}

}  // namespace
}  // namespace artagent::testing
