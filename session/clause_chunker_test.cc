#include "session/clause_chunker.h"

#include <gtest/gtest.h>

namespace artagent::session {
namespace {

std::vector<std::string> ChunkAll(const std::vector<std::string>& deltas, ChunkerOptions o = {}) {
  ClauseChunker c(o);
  std::vector<std::string> out;
  for (const auto& d : deltas) c.Push(d, &out);
  c.Flush(&out);
  return out;
}

TEST(ClauseChunkerTest, SplitsOnSentenceEnds) {
  auto out = ChunkAll({"Hello there. How can I help? I can file a claim!"});
  EXPECT_EQ(out, (std::vector<std::string>{"Hello there.", "How can I help?",
                                           "I can file a claim!"}));
}

TEST(ClauseChunkerTest, ReleasesTheFirstClauseAsSoonAsItIsComplete) {
  ClauseChunker c;
  std::vector<std::string> out;
  for (const char* d : {"Thank", " you for", " calling", ".", " How"}) c.Push(d, &out);
  // "." is only known to end the sentence once the following space arrives.
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], "Thank you for calling.");
}

TEST(ClauseChunkerTest, FirstClauseMayEndAtAComma) {
  auto out = ChunkAll({"Sure, I can help with that claim, and after that, we can review"});
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(out[0], "Sure, I can help with that claim,");
}

TEST(ClauseChunkerTest, DoesNotSplitNumbersOrAbbreviations) {
  auto out = ChunkAll({"Mr. Smith owes 3.5 dollars e.g. today. Done."});
  EXPECT_EQ(out, (std::vector<std::string>{"Mr. Smith owes 3.5 dollars e.g. today.", "Done."}));
}

TEST(ClauseChunkerTest, CutsOverlongTextAtASpace) {
  std::string longtext;
  for (int i = 0; i < 80; ++i) longtext += "word ";
  auto out = ChunkAll({longtext}, ChunkerOptions{.max_chars = 50});
  ASSERT_GT(out.size(), 5u);
  for (const auto& c : out) EXPECT_LE(c.size(), 50u);
}

TEST(ClauseChunkerTest, NeverEmitsEmptyClauses) {
  auto out = ChunkAll({"  ", "\n\n", "Hi.", "  ", "\n"});
  EXPECT_EQ(out, (std::vector<std::string>{"Hi."}));
}

}  // namespace
}  // namespace artagent::session
