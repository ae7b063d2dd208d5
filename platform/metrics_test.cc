#include "platform/metrics.h"

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>

namespace artagent::platform {
namespace {

using ::testing::HasSubstr;
using Labels = std::map<std::string, std::string>;

// The value of the sample `name{labels}` in text exposition format; nullopt if absent.
std::optional<double> SampleValue(const std::string& text, const std::string& name,
                                  const Labels& labels) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t name_end = line.find_first_of("{ ");
    if (name_end == std::string::npos || line.substr(0, name_end) != name) continue;
    Labels got;
    size_t pos = name_end;
    if (line[pos] == '{') {
      size_t close = line.find('}', pos);
      if (close == std::string::npos) continue;
      std::string body = line.substr(pos + 1, close - pos - 1);
      // Label values in these tests hold no quotes or commas.
      std::istringstream pairs(body);
      std::string pair;
      while (std::getline(pairs, pair, ',')) {
        size_t eq = pair.find('=');
        if (eq == std::string::npos || pair.size() < eq + 3) continue;
        got[pair.substr(0, eq)] = pair.substr(eq + 2, pair.size() - eq - 3);
      }
      pos = close + 1;
    }
    if (got != labels) continue;
    return std::stod(line.substr(pos + 1));
  }
  return std::nullopt;
}

void Record(Metrics& metrics) {
  metrics.tool_calls_total.Add({{"tool", "lookup_policy"}, {"status", "completed"}}).Increment();
  metrics.tool_calls_total.Add({{"tool", "lookup_policy"}, {"status", "completed"}}).Increment();
  metrics.tool_calls_total.Add({{"tool", "file_claim"}, {"status", "timeout"}}).Increment();
  metrics.tool_duration_seconds.Add({{"tool", "lookup_policy"}}, Metrics::DurationBuckets())
      .Observe(0.3);
  metrics.tool_duration_seconds.Add({{"tool", "lookup_policy"}}, Metrics::DurationBuckets())
      .Observe(12.0);
  metrics.handoffs_total.Add({{"from", "auth"}, {"to", "claims"}, {"type", "announced"}})
      .Increment();
  metrics.model_requests_total.Add({{"model", "gpt-4o-mini"}, {"status", "ok"}}).Increment(3);
  metrics.model_requests_total.Add({{"model", "gpt-4o-mini"}, {"status", "error"}}).Increment();
  metrics.model_tokens_total.Add({{"model", "gpt-4o-mini"}, {"kind", "prompt"}}).Increment(1200);
  metrics.model_tokens_total.Add({{"model", "gpt-4o-mini"}, {"kind", "completion"}}).Increment(85);
  metrics.model_first_token_seconds.Add({{"model", "gpt-4o-mini"}}, Metrics::LatencyBuckets())
      .Observe(0.42);
  metrics.model_retries_total.Add({{"model", "gpt-4o-mini"}}).Increment(2);
}

TEST(MetricsTest, ToolHandoffAndModelFamiliesAreExposed) {
  Metrics metrics;
  Record(metrics);
  std::string text = metrics.Render();

  EXPECT_THAT(text, HasSubstr("# TYPE artagent_tool_calls_total counter"));
  EXPECT_THAT(text, HasSubstr("# TYPE artagent_tool_duration_seconds histogram"));
  EXPECT_THAT(text, HasSubstr("# TYPE artagent_handoffs_total counter"));
  EXPECT_THAT(text, HasSubstr("# TYPE artagent_model_requests_total counter"));
  EXPECT_THAT(text, HasSubstr("# TYPE artagent_model_tokens_total counter"));
  EXPECT_THAT(text, HasSubstr("# TYPE artagent_model_first_token_seconds histogram"));
  EXPECT_THAT(text, HasSubstr("# TYPE artagent_model_retries_total counter"));

  EXPECT_EQ(SampleValue(text, "artagent_tool_calls_total",
                        {{"tool", "lookup_policy"}, {"status", "completed"}}),
            2);
  EXPECT_EQ(SampleValue(text, "artagent_tool_calls_total",
                        {{"tool", "file_claim"}, {"status", "timeout"}}),
            1);
  EXPECT_EQ(SampleValue(text, "artagent_tool_duration_seconds_count", {{"tool", "lookup_policy"}}),
            2);
  EXPECT_EQ(SampleValue(text, "artagent_tool_duration_seconds_bucket",
                        {{"tool", "lookup_policy"}, {"le", "0.5"}}),
            1);
  // A slow webhook still lands in a finite bucket.
  EXPECT_EQ(SampleValue(text, "artagent_tool_duration_seconds_bucket",
                        {{"tool", "lookup_policy"}, {"le", "20"}}),
            2);
  EXPECT_EQ(SampleValue(text, "artagent_handoffs_total",
                        {{"from", "auth"}, {"to", "claims"}, {"type", "announced"}}),
            1);
  EXPECT_EQ(SampleValue(text, "artagent_model_requests_total",
                        {{"model", "gpt-4o-mini"}, {"status", "ok"}}),
            3);
  EXPECT_EQ(SampleValue(text, "artagent_model_requests_total",
                        {{"model", "gpt-4o-mini"}, {"status", "error"}}),
            1);
  EXPECT_EQ(SampleValue(text, "artagent_model_tokens_total",
                        {{"model", "gpt-4o-mini"}, {"kind", "prompt"}}),
            1200);
  EXPECT_EQ(SampleValue(text, "artagent_model_tokens_total",
                        {{"model", "gpt-4o-mini"}, {"kind", "completion"}}),
            85);
  EXPECT_EQ(SampleValue(text, "artagent_model_first_token_seconds_bucket",
                        {{"model", "gpt-4o-mini"}, {"le", "0.4"}}),
            0);
  EXPECT_EQ(SampleValue(text, "artagent_model_first_token_seconds_bucket",
                        {{"model", "gpt-4o-mini"}, {"le", "0.5"}}),
            1);
  EXPECT_EQ(SampleValue(text, "artagent_model_retries_total", {{"model", "gpt-4o-mini"}}), 2);
}

// Prometheus' own linter accepts the whole exposition (names, types, help, suffixes).
TEST(MetricsTest, ExpositionPassesPromtool) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool not installed (Debian package prometheus; scripts/install-deps)";
  }
  Metrics metrics;
  Record(metrics);
  metrics.turn_latency_seconds.Add({{"stage", "voice_to_voice"}}, Metrics::LatencyBuckets())
      .Observe(0.38);
  metrics.sessions_active.Add({{"transport", "realtime"}}).Set(1);
  std::string path = ::testing::TempDir() + "metrics_test_" + std::to_string(getpid()) + ".txt";
  std::ofstream(path) << metrics.Render();
  std::string out_path = path + ".out";
  int status =
      std::system(("promtool check metrics < " + path + " > " + out_path + " 2>&1").c_str());
  std::ifstream out_file(out_path);
  std::string out((std::istreambuf_iterator<char>(out_file)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);
  std::filesystem::remove(out_path);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
}

}  // namespace
}  // namespace artagent::platform
