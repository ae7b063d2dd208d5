// `artagent loadgen` against the real server with the pass-through providers: the report's shape
// and counts, and admission control past capacity (exactly the excess refused, with the right
// code, while the admitted callers complete their turns). Behaviour only, never timings.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "audio/wav.h"
#include "tests/integration/harness.h"

namespace artagent::testing {
namespace {

using nlohmann::json;

constexpr char kAccessKey[] = "bG9hZGdlbi10ZXN0LWFjY2Vzcy1rZXktMDEyMzQ1Njc4OQ==";

std::map<std::string, std::string> PassthroughEnv() {
  return {
      {"ARTAGENT_SPEECH__STT__PROVIDER", "passthrough"}, {"ARTAGENT_SPEECH__TTS__PROVIDER", "tone"},
      {"ARTAGENT_SPEECH__TTS__TONE_MS_PER_CHAR", "30"},  {"ARTAGENT_SPEECH__STT__MAX_STREAMS", "0"},
      {"ARTAGENT_AGENTS__DIR", "bench/agents"},          {"ARTAGENT_AGENTS__SCENARIO", "echo"}};
}

// A free loopback port (for the loadgen's ACS endpoint, which the server must know up front).
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return 0;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

class LoadgenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("loadgen");
    wav_ = dir_ + "/caller.wav";
    audio::WavAudio w;
    w.sample_rate = 16000;
    w.samples = SpeakWithFlite("I want to file a claim for my car.", 16000, 300, 300);
    ASSERT_FALSE(w.samples.empty());
    ASSERT_TRUE(audio::WriteWavFile(wav_, w).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs loadgen to completion; its JSON report (null if it failed).
  json Loadgen(const std::vector<std::string>& args) {
    std::string cmd = ArtagentBinary() + " loadgen --json --audio " + wav_;
    for (const auto& a : args) cmd += " '" + a + "'";
    cmd += " 2>" + dir_ + "/loadgen.err";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return nullptr;
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = pclose(p);
    EXPECT_EQ(status, 0) << out;
    json j = json::parse(out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << "not JSON: " << out;
    return j.is_object() ? j : json(nullptr);
  }

  std::string dir_;
  std::string wav_;
};

TEST_F(LoadgenTest, RealtimeReportHasTurnsLatencyAndNoErrors) {
  ServerProcess server(PassthroughEnv());
  ASSERT_TRUE(server.ok()) << server.StderrTail();
  json r = Loadgen({"--url", server.url(), "--transport", "realtime", "--sessions", "2",
                    "--duration", "9", "--barge-in", "0", "--pause-ms", "200:400"});
  ASSERT_TRUE(r.is_object());
  EXPECT_EQ(r["sessions"]["connected"], 2) << r.dump(2);
  EXPECT_EQ(r["sessions"]["refused"], 0);
  EXPECT_EQ(r["sessions"]["dropped"], 0);
  EXPECT_GT(r["turns"]["ok"].get<int>(), 0) << r.dump(2);
  EXPECT_EQ(r["turns"]["failed"], 0) << r.dump(2);
  EXPECT_EQ(r["turns"]["callers_with_ok_turn"], 2);
  EXPECT_TRUE(r["errors"].empty()) << r.dump(2);
  for (const char* key : {"p50", "p95", "p99", "max", "count"}) {
    EXPECT_TRUE(r["turn_latency_ms"].contains(key)) << key;
    EXPECT_TRUE(r["jitter_ms"].contains(key)) << key;
  }
  EXPECT_GT(r["turn_latency_ms"]["count"].get<int>(), 0);
  EXPECT_GT(r["frames_received"].get<int>(), 0);
  EXPECT_TRUE(r["server"].contains("cpu_percent")) << r.dump(2);
  EXPECT_TRUE(r["server"].contains("rss_per_session_kb"));
  EXPECT_TRUE(r["loadgen"].contains("cpu_percent"));
}

TEST_F(LoadgenTest, RealtimeOverCapacityRefusesExactlyTheExcessWith503) {
  auto env = PassthroughEnv();
  env["ARTAGENT_BACKEND__MAX_CONCURRENT_CALLS"] = "3";
  ServerProcess server(env);
  ASSERT_TRUE(server.ok()) << server.StderrTail();
  json r = Loadgen({"--url", server.url(), "--transport", "realtime", "--sessions", "5",
                    "--duration", "9", "--barge-in", "0", "--pause-ms", "200:400"});
  ASSERT_TRUE(r.is_object());
  EXPECT_EQ(r["sessions"]["connected"], 3) << r.dump(2);
  EXPECT_EQ(r["sessions"]["refused"], 2);
  EXPECT_EQ(r["sessions"]["refusals"]["http_503"], 2) << r.dump(2);
  EXPECT_EQ(r["sessions"]["dropped"], 0);
  EXPECT_EQ(r["turns"]["callers_with_ok_turn"], 3) << r.dump(2);
  EXPECT_EQ(r["turns"]["failed"], 0) << r.dump(2);
}

TEST_F(LoadgenTest, AcsOverCapacityRejectsExactlyTheExcessAsBusy) {
  const int port = FreePort();
  ASSERT_NE(port, 0);
  auto env = PassthroughEnv();
  env["ARTAGENT_BACKEND__MAX_CONCURRENT_CALLS"] = "3";
  env["ARTAGENT_ACS__CONNECTION_STRING"] =
      "endpoint=http://127.0.0.1:" + std::to_string(port) + "/;accesskey=" + kAccessKey;
  ServerProcess server(env);
  ASSERT_TRUE(server.ok()) << server.StderrTail();
  json r = Loadgen({"--url", server.url(), "--transport", "acs", "--sessions", "5", "--duration",
                    "9", "--barge-in", "0", "--pause-ms", "200:400", "--acs-listen",
                    "127.0.0.1:" + std::to_string(port), "--acs-access-key", kAccessKey});
  ASSERT_TRUE(r.is_object());
  EXPECT_EQ(r["sessions"]["connected"], 3) << r.dump(2);
  EXPECT_EQ(r["sessions"]["refused"], 2);
  EXPECT_EQ(r["sessions"]["refusals"]["acs_reject_busy"], 2) << r.dump(2);
  EXPECT_EQ(r["turns"]["callers_with_ok_turn"], 3) << r.dump(2);
  EXPECT_EQ(r["turns"]["failed"], 0) << r.dump(2);
  EXPECT_TRUE(r["errors"].empty()) << r.dump(2);
}

}  // namespace
}  // namespace artagent::testing
