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

TEST(SlotsTest, DigitHomophonesOnlyNextToDigits) {
  EXPECT_EQ(ParseDigits("i'd like to give you four five"), "45");
  EXPECT_EQ(ParseDigits("it's for my son: two oh one"), "201");
  EXPECT_EQ(ParseDigits("double oh seven"), "007");
  EXPECT_EQ(ParseDigits("i want to go for it"), std::nullopt);
}

TEST(SlotsTest, NumberTokensKeepNumerals) {
  EXPECT_EQ(NumberTokens("$2,500.50 on 03/15/1985, ok-ish."),
            (std::vector<std::string>{"2,500.50", "on", "03/15/1985", "ok", "ish"}));
  EXPECT_EQ(NumberTokens("1985-03-15"), (std::vector<std::string>{"1985-03-15"}));
}

TEST(SlotsTest, NumbersInText) {
  auto numbers = FindNumbers("nineteen eighty five, twenty twenty four and two thousand three");
  ASSERT_EQ(numbers.size(), 3u);
  EXPECT_EQ(numbers[0].value, 1985);
  EXPECT_EQ(numbers[1].value, 2024);
  EXPECT_EQ(numbers[2].value, 2003);
  EXPECT_EQ(NumberInWords(2512), "two thousand five hundred twelve");
  EXPECT_EQ(NumberInWords(0.25), "zero point two five");
}

TEST(SlotsTest, YesNo) {
  EXPECT_EQ(ParseYesNo("yes that is correct"), true);
  EXPECT_EQ(ParseYesNo("Yeah."), true);
  EXPECT_EQ(ParseYesNo("no that's wrong"), false);
  EXPECT_EQ(ParseYesNo("maybe"), std::nullopt);
  EXPECT_EQ(ParseYesNo("yes no"), std::nullopt);
  EXPECT_EQ(ParseYesNo("No, that's not right."), false);
  EXPECT_EQ(ParseYesNo("that isn't correct"), false);
  EXPECT_EQ(ParseYesNo("not sure"), std::nullopt);
}

TEST(SlotsTest, KeywordPhrasesMatchWholeWords) {
  auto words = Words("I want to file a claim, please!");
  EXPECT_EQ(CountKeywordHits(words, {"claim", "file a claim", "policy"}), 2);
  EXPECT_EQ(CountKeywordHits(Words("claimant"), {"claim"}), 0);
}

TEST(SlotsTest, SpellDigits) { EXPECT_EQ(SpellDigits("4567"), "4, 5, 6, 7"); }

}  // namespace
}  // namespace artagent::agent
