#include "net/sse.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace artagent::net {
namespace {

std::vector<SseEvent> ParseInPieces(const std::string& stream, size_t piece) {
  SseParser parser;
  std::vector<SseEvent> events;
  for (size_t i = 0; i < stream.size(); i += piece) {
    EXPECT_TRUE(
        parser.Push(stream.substr(i, piece), [&](SseEvent e) { events.push_back(std::move(e)); })
            .ok());
  }
  return events;
}

TEST(SseParserTest, ParsesDataEventsAndDone) {
  auto events = ParseInPieces("data: {\"a\":1}\n\ndata: [DONE]\n\n", 1000);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "message");
  EXPECT_EQ(events[0].data, "{\"a\":1}");
  EXPECT_EQ(events[1].data, "[DONE]");
}

TEST(SseParserTest, SameEventsWhateverTheSplit) {
  const std::string stream =
      ": keep-alive comment\r\n"
      "event: delta\r\n"
      "id: 7\r\n"
      "data: first line\r\n"
      "data:second line\r\n"
      "\r\n"
      "data: cr only\r\rdata: lf\n\n";
  const auto whole = ParseInPieces(stream, stream.size());
  ASSERT_EQ(whole.size(), 3u);
  EXPECT_EQ(whole[0].event, "delta");
  EXPECT_EQ(whole[0].id, "7");
  EXPECT_EQ(whole[0].data, "first line\nsecond line");
  EXPECT_EQ(whole[1].event, "message");
  EXPECT_EQ(whole[1].id, "7");  // the last event id persists
  EXPECT_EQ(whole[1].data, "cr only");
  EXPECT_EQ(whole[2].data, "lf");
  for (size_t piece = 1; piece <= 7; ++piece) {
    const auto split = ParseInPieces(stream, piece);
    ASSERT_EQ(split.size(), whole.size()) << "piece " << piece;
    for (size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(split[i].data, whole[i].data) << "piece " << piece;
      EXPECT_EQ(split[i].event, whole[i].event) << "piece " << piece;
    }
  }
}

TEST(SseParserTest, CrLfSplitAcrossPushesIsOneLineEnd) {
  SseParser parser;
  std::vector<SseEvent> events;
  auto sink = [&](SseEvent e) { events.push_back(std::move(e)); };
  ASSERT_TRUE(parser.Push("data: a\r", sink).ok());
  ASSERT_TRUE(parser.Push("\ndata: b\r", sink).ok());
  ASSERT_TRUE(parser.Push("\n\r\n", sink).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a\nb");
}

TEST(SseParserTest, FieldRulesFromTheSpec) {
  auto events = ParseInPieces(
      "\xEF\xBB\xBF"         // BOM
      "data\n\n"             // a field without colon: empty data, still dispatched
      "event: ignored\n\n"   // no data: not dispatched, the type is reset
      "data:  two spaces\n"  // only one space is removed
      "unknown: x\n"
      "retry: 1500\n\n",
      3);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "");
  EXPECT_EQ(events[0].event, "message");
  EXPECT_EQ(events[1].data, " two spaces");
  EXPECT_EQ(events[1].event, "message");
}

TEST(SseParserTest, RetryFieldIsExposed) {
  SseParser parser;
  EXPECT_EQ(parser.retry_ms(), -1);
  ASSERT_TRUE(parser.Push("retry: 1500\nretry: x\n\n", nullptr).ok());
  EXPECT_EQ(parser.retry_ms(), 1500);
}

TEST(SseParserTest, UnterminatedEventIsNotDispatched) {
  SseParser parser;
  int count = 0;
  ASSERT_TRUE(parser.Push("data: partial\n", [&](SseEvent) { ++count; }).ok());
  EXPECT_EQ(count, 0);
  EXPECT_TRUE(parser.HasPartialEvent());
}

TEST(SseParserTest, OversizedEventFailsClearlyAndStaysFailed) {
  SseParser parser(64);
  int count = 0;
  auto sink = [&](SseEvent) { ++count; };
  ASSERT_TRUE(parser.Push("data: small\n\n", sink).ok());
  core::Status st = parser.Push("data: " + std::string(40, 'x') + "\n", sink);
  ASSERT_TRUE(st.ok());
  st = parser.Push("data: " + std::string(40, 'y') + "\n\n", sink);
  EXPECT_EQ(st.code(), core::StatusCode::kResourceExhausted);
  EXPECT_NE(st.message().find("64 bytes"), std::string::npos) << st.message();
  EXPECT_EQ(parser.Push("data: later\n\n", sink).code(), core::StatusCode::kResourceExhausted);
  EXPECT_EQ(count, 1);
}

TEST(SseParserTest, OversizedSingleLineWithoutTerminatorFails) {
  SseParser parser(100);
  core::Status st = core::OkStatus();
  for (int i = 0; i < 20 && st.ok(); ++i) st = parser.Push(std::string(10, 'z'), nullptr);
  EXPECT_EQ(st.code(), core::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace artagent::net
