#include "agent/flow/slots.h"

#include <gtest/gtest.h>

namespace artagent::agent {
namespace {

TEST(SlotsTest, DigitsFromWordsNumeralsAndHomophones) {
  EXPECT_EQ(ParseDigits("four five six seven"), "4567");
  EXPECT_EQ(ParseDigits("my policy number is 4 5 6 7"), "4567");
  EXPECT_EQ(ParseDigits("it's 4567"), "4567");
  EXPECT_EQ(ParseDigits("for to oh nine"), "4209");
  EXPECT_EQ(ParseDigits("double five one"), "551");
  EXPECT_EQ(ParseDigits("triple seven"), "777");
  EXPECT_EQ(ParseDigits("i don't know"), std::nullopt);
}

TEST(SlotsTest, YesNo) {
  EXPECT_EQ(ParseYesNo("yes that is correct"), true);
  EXPECT_EQ(ParseYesNo("Yeah."), true);
  EXPECT_EQ(ParseYesNo("no that's wrong"), false);
  EXPECT_EQ(ParseYesNo("maybe"), std::nullopt);
  EXPECT_EQ(ParseYesNo("yes no"), std::nullopt);
}

TEST(SlotsTest, KeywordPhrasesMatchWholeWords) {
  auto words = Words("I want to file a claim, please!");
  EXPECT_EQ(CountKeywordHits(words, {"claim", "file a claim", "policy"}), 2);
  EXPECT_EQ(CountKeywordHits(Words("claimant"), {"claim"}), 0);
}

TEST(SlotsTest, SpellDigits) { EXPECT_EQ(SpellDigits("4567"), "4, 5, 6, 7"); }

}  // namespace
}  // namespace artagent::agent
