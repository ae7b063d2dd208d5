#include "agent/flow/slot_types.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "agent/flow/slot_dates.h"
#include "agent/flow/slots.h"

namespace artagent::agent {
namespace {

// A Wednesday.
constexpr CalendarDate kToday{2025, 6, 18};

SlotSpec Spec(const std::string& type, int min_length = 1, int max_length = 32) {
  SlotSpec spec;
  spec.type = type;
  spec.min_length = min_length;
  spec.max_length = max_length;
  return spec;
}

struct Case {
  std::string said;
  nlohmann::json value;                // null: no value expected
  std::string spoken_or_problem = "";  // spoken form, or a part of the problem; "" not checked
};

void Check(const SlotSpec& spec, const std::vector<Case>& cases, CalendarDate today = kToday) {
  for (const Case& c : cases) {
    SCOPED_TRACE("\"" + c.said + "\" as " + spec.type);
    SlotParse parse = ParseSlot(spec, c.said, today);
    if (c.value.is_null()) {
      EXPECT_FALSE(parse.value.has_value()) << parse.value->value.dump();
      EXPECT_FALSE(parse.problem.empty());
      EXPECT_NE(parse.problem.find(c.spoken_or_problem), std::string::npos) << parse.problem;
      continue;
    }
    ASSERT_TRUE(parse.value.has_value()) << parse.problem;
    EXPECT_TRUE(parse.problem.empty());
    EXPECT_EQ(parse.value->value, c.value);
    if (!c.spoken_or_problem.empty()) {
      EXPECT_EQ(parse.value->spoken, c.spoken_or_problem);
    }
  }
}

TEST(SlotTypesTest, Types) {
  EXPECT_EQ(SlotTypes().size(), 8u);
  for (const auto& t : SlotTypes()) EXPECT_TRUE(IsSlotType(t)) << t;
  EXPECT_FALSE(IsSlotType("phone"));
  EXPECT_FALSE(IsSlotType(""));
}

TEST(SlotTypesTest, Digits) {
  Check(Spec("digits", 4, 4),
        {{"four five six seven", "4567", "4, 5, 6, 7"},
         {"my policy number is 4 5 6 7", "4567"},
         {"4567", "4567"},
         {"1234#", "1234"},
         {"12*34#", "1234"},
         {"4*5*6*7#99", "4567"},
         {"double oh seven one", "0071"},
         {"for to oh nine", "4209"},
         {"won to three for", "1234"},
         {"uh i'd like to give you four five six seven", "4567"},
         {"zero zero one two", "0012", "0, 0, 1, 2"},
         {"four five six", nullptr, "I heard 3 digits; I need 4."},
         {"four five six seven eight", nullptr, "I heard 5 digits; I need 4."},
         {"i don't know", nullptr, "didn't hear any digits"},
         {"#1234", nullptr, "didn't hear any digits"}});
  Check(Spec("digits", 8, 10),
        {{"one two three", nullptr, "I heard 3 digits; I need between 8 and 10."},
         {"triple five double two one two three", "55522123"}});
}

TEST(SlotTypesTest, Numbers) {
  Check(Spec("number"),
        {{"twenty five hundred", 2500, "two thousand five hundred"},
         {"two thousand five hundred and twelve", 2512, "two thousand five hundred twelve"},
         {"a hundred", 100, "one hundred"},
         {"about a thousand dollars", 1000},
         {"3.5", 3.5, "three point five"},
         {"three point five", 3.5},
         {"point five", 0.5, "zero point five"},
         {"2,500", 2500},
         {"$2,500.75", 2500.75},
         {"fifteen k", 15000},
         {"15k", 15000},
         {"fifteen grand", 15000},
         {"two and a half", 2.5},
         {"two point five million", 2500000},
         {"one million two hundred thousand", 1200000, "one million two hundred thousand"},
         {"it's twenty for thousand", 24000},
         {"for hundred", 400},
         {"won hundred and five", 105},
         {"zero", 0, "zero"},
         {"ninety nine", 99},
         {"seventeen", 17},
         {"2500", 2500},
         {"the one i want is fifty", 50},
         {"one two three", 123},
         {"i want to pay for it", nullptr, "didn't hear a number"},
         {"nothing", nullptr, "didn't hear a number"},
         {"two thousand or maybe three thousand", nullptr, "more than one number"}});
  SlotSpec bounded = Spec("number");
  bounded.min = 1;
  bounded.max = 10000;
  Check(bounded, {{"ten thousand", 10000},
                  {"twenty thousand", nullptr, "at most 10000"},
                  {"zero", nullptr, "at least 1"},
                  {"one", 1, "one"}});
}

TEST(SlotTypesTest, NumberWordsRoundTrip) {
  for (double v : {0.0, 7.0, 13.0, 40.0, 99.0, 100.0, 101.0, 999.0, 1000.0, 1001.0, 2500.0, 12345.0,
                   100000.0, 999999.0, 1000000.0, 2500000.0, 3.25, 0.5, 1234567.0}) {
    auto numbers = FindNumbers(NumberInWords(v));
    ASSERT_EQ(numbers.size(), 1u) << NumberInWords(v);
    EXPECT_DOUBLE_EQ(numbers[0].value, v) << NumberInWords(v);
  }
}

TEST(SlotTypesTest, DatesWithMonthNames) {
  Check(Spec("date"),
        {{"march third", "2025-03-03", "March 3rd, 2025"},
         {"the third of march", "2025-03-03"},
         {"march 3rd 1985", "1985-03-03", "March 3rd, 1985"},
         {"March 3rd, 1985", "1985-03-03"},
         {"march third nineteen eighty five", "1985-03-03"},
         {"it was on the third of march nineteen eighty five", "1985-03-03"},
         {"march the third", "2025-03-03"},
         {"3rd march 1985", "1985-03-03"},
         {"march three nineteen eighty five", "1985-03-03"},
         {"march twenty first", "2025-03-21", "March 21st, 2025"},
         {"the twenty-first of march", "2025-03-21"},
         {"march thirty first", "2025-03-31"},
         {"march forth", "2025-03-04"},
         {"march for", "2025-03-04"},
         {"december twenty second two thousand three", "2003-12-22", "December 22nd, 2003"},
         {"july fourth twenty twenty four", "2024-07-04"},
         {"january first two thousand", "2000-01-01"},
         {"may eleventh nineteen oh five", "1905-05-11", "May 11th, 1905"},
         {"october twelfth eighty five", "1985-10-12"},
         {"october twelfth twenty", "2020-10-12"},
         {"uh my birthday is september ninth nineteen ninety", "1990-09-09"},
         {"february twenty ninth twenty twenty four", "2024-02-29"},
         {"i was born in nineteen eighty five on march third", "1985-03-03"},
         {"may i say march third", "2025-03-03"}});
}

TEST(SlotTypesTest, DatesTyped) {
  Check(Spec("date"), {{"03/15/1985", "1985-03-15"},
                       {"3/15/85", "1985-03-15"},
                       {"15/03/1985", "1985-03-15"},
                       {"1985-03-15", "1985-03-15"},
                       {"15.03.1985", "1985-03-15"},
                       {"1/1/00", "2000-01-01"},
                       {"6/1", "2025-06-01"},
                       {"13/13/1985", nullptr, ""}});
}

TEST(SlotTypesTest, RelativeDates) {
  // Today is Wednesday June 18th, 2025.
  Check(Spec("date"), {{"today", "2025-06-18"},
                       {"yesterday", "2025-06-17"},
                       {"tomorrow", "2025-06-19"},
                       {"the day before yesterday", "2025-06-16"},
                       {"the day after tomorrow", "2025-06-20"},
                       {"last tuesday", "2025-06-17"},
                       {"last wednesday", "2025-06-11"},
                       {"this past friday", "2025-06-13"},
                       {"next friday", "2025-06-20"},
                       {"next wednesday", "2025-06-25"},
                       {"this monday", "2025-06-16"},
                       {"on sunday", "2025-06-22"},
                       {"two days ago", "2025-06-16"},
                       {"a week ago", "2025-06-11"},
                       {"twenty one days ago", "2025-05-28"},
                       {"a couple of days ago", "2025-06-16"},
                       {"three weeks from now", "2025-07-09"},
                       {"in three days", "2025-06-21"},
                       {"in a month", "2025-07-18"},
                       {"the third", "2025-06-03"},
                       {"on the 3rd", "2025-06-03"},
                       {"the twentieth", "2025-05-20"},
                       {"the thirty first", "2025-05-31"}});
  SlotSpec past = Spec("date");
  past.date_range = "past";
  Check(past, {{"tuesday", "2025-06-17"},
               {"wednesday", "2025-06-11"},
               {"the twentieth", "2025-05-20"},
               {"the 31st", "2025-05-31"}});
  SlotSpec future = Spec("date");
  future.date_range = "future";
  Check(future, {{"tuesday", "2025-06-24"},
                 {"the twentieth", "2025-06-20"},
                 {"the third", "2025-07-03"},
                 {"the thirty first", "2025-07-31"}});
  // Month ends and years roll over.
  Check(Spec("date"), {{"yesterday", "2024-12-31"}, {"the thirtieth", "2024-12-30"}},
        CalendarDate{2025, 1, 1});
  Check(Spec("date"), {{"the thirtieth", "2025-01-30"}, {"in a week", "2025-03-08"}},
        CalendarDate{2025, 3, 1});
}

TEST(SlotTypesTest, DateYearResolutionAndRanges) {
  SlotSpec past = Spec("date");
  past.date_range = "past";
  Check(past, {{"march third", "2025-03-03"},
               {"december twenty fifth", "2024-12-25"},
               {"june eighteenth", "2025-06-18"},
               {"eighty five", nullptr, "didn't catch a date"},
               {"march third twenty twenty six", nullptr, "in the future"},
               {"tomorrow", nullptr, "in the future"},
               {"february twenty ninth", "2024-02-29"}});
  SlotSpec future = Spec("date");
  future.date_range = "future";
  Check(future, {{"march third", "2026-03-03"},
                 {"december twenty fifth", "2025-12-25"},
                 {"june eighteenth", "2025-06-18"},
                 {"yesterday", nullptr, "has passed"},
                 {"march third nineteen eighty five", nullptr, "has passed"},
                 {"february twenty ninth", "2028-02-29"},
                 {"july first twenty six", "2026-07-01"}});
  Check(Spec("date"), {{"december twenty fifth", "2025-12-25"},
                       {"march third twenty six", "1926-03-03"},
                       {"march third twenty five", "2025-03-03"}});
}

TEST(SlotTypesTest, DateProblems) {
  Check(Spec("date"),
        {{"february thirtieth", nullptr, "There is no February 30th."},
         {"april thirty first", nullptr, "There is no April 31st."},
         {"february twenty ninth", nullptr, "2025 has no February 29th."},
         {"february twenty ninth twenty twenty three", nullptr, "2023 has no February 29th."},
         {"february 29 2100", nullptr, "2100 has no February 29th."},
         {"march", nullptr, "I heard March, but which day?"},
         {"in june", nullptr, "I heard June, but which day?"},
         {"i don't remember", nullptr, "didn't catch a date"},
         {"three fifteen eighty five", nullptr, "didn't catch a date"},
         {"march third or march fourth", nullptr, "more than one date"},
         {"last week", nullptr, "didn't catch a date"}});
  // The same date said twice is one date.
  Check(Spec("date"), {{"today june eighteenth", "2025-06-18"}});
}

TEST(SlotTypesTest, Calendar) {
  EXPECT_EQ(DaysFromCivil({1970, 1, 1}), 0);
  EXPECT_EQ(Weekday({1970, 1, 1}), 4);
  EXPECT_EQ(Weekday(kToday), 3);
  EXPECT_EQ(Weekday({2024, 2, 29}), 4);
  EXPECT_EQ(Weekday({1900, 1, 1}), 1);
  for (long d = -800000; d <= 800000; d += 997) {
    EXPECT_EQ(DaysFromCivil(CivilFromDays(d)), d);
  }
  EXPECT_EQ(DaysInMonth(2024, 2), 29);
  EXPECT_EQ(DaysInMonth(2000, 2), 29);
  EXPECT_EQ(DaysInMonth(1900, 2), 28);
  EXPECT_EQ(DaysInMonth(2025, 4), 30);
  EXPECT_EQ(DaysInMonth(2025, 13), 0);
  EXPECT_EQ(SpokenDate({2001, 11, 11}), "November 11th, 2001");
  EXPECT_EQ(SpokenDate({2001, 11, 23}), "November 23rd, 2001");
  EXPECT_EQ(IsoDate({985, 1, 2}), "0985-01-02");
}

TEST(SlotTypesTest, YesNo) {
  Check(Spec("yes_no"), {{"yes that is correct", true, "yes"},
                         {"yeah", true},
                         {"no that's wrong", false, "no"},
                         {"nope", false},
                         {"maybe", nullptr, "yes or no"},
                         {"yes no", nullptr, "yes or no"}});
}

TEST(SlotTypesTest, Names) {
  Check(Spec("name"), {{"john smith", "John Smith", "John Smith"},
                       {"my name is john smith", "John Smith"},
                       {"uh it's mary o'brien", "Mary O'Brien"},
                       {"this is anne-marie jones", "Anne-Marie Jones"},
                       {"i am peter", "Peter"},
                       {"i'm john f kennedy", "John F Kennedy"},
                       {"j o h n", "John"},
                       {"john smith s m i t h", "John Smith"},
                       {"smith spelled s m y t h", "Smyth"},
                       {"hi this is john smith and i'm calling about my claim", "John Smith"},
                       {"John Smith.", "John Smith"},
                       {"john smith thank you", "John Smith"},
                       {"my name is", nullptr, "didn't catch a name"},
                       {"uh", nullptr, "didn't catch a name"},
                       {"mary ann lou beth jones smith", nullptr, "first and last name"}});
  Check(Spec("name", 3, 10), {{"al", nullptr, "whole name"}, {"alexander smithson", nullptr, ""}});
}

TEST(SlotTypesTest, Emails) {
  Check(
      Spec("email"),
      {{"john dot smith at example dot com", "john.smith@example.com",
        "john dot smith at example dot com"},
       {"j smith at gmail dot com", "jsmith@gmail.com"},
       {"my email is j smith at g mail dot com", "jsmith@gmail.com"},
       {"john underscore smith at example dot co dot uk", "john_smith@example.co.uk"},
       {"mary dash jones at hot mail dot com", "mary-jones@hotmail.com"},
       {"mary hyphen jones at example dot org", "mary-jones@example.org"},
       {"j o h n at example dot net", "john@example.net"},
       {"john eight five at example dot com", "john85@example.com", "john 8 5 at example dot com"},
       {"john double five at example dot com", "john55@example.com"},
       {"bob at sign example dot com thanks", "bob@example.com"},
       {"My address is John.Smith@Example.com.", "john.smith@example.com"},
       {"john.smith@example.com", "john.smith@example.com", "john dot smith at example dot com"},
       {"j_smith+claims@mail.example.org", "j_smith+claims@mail.example.org"},
       {"jk at example dot com", "jk@example.com", "j k at example dot com"},
       {"john smith", nullptr, "at sign"},
       {"john at example", nullptr, "after the at sign"},
       {"john at example dot c", nullptr, "ends"},
       {"at example dot com", nullptr, "before the at sign"},
       {"john at at example dot com", nullptr, "one at sign"},
       {"", nullptr, "didn't catch"}});
}

TEST(SlotTypesTest, Enumerations) {
  SlotSpec spec = Spec("enumeration");
  spec.choices = {{"collision", {"crash", "accident", "hit"}},
                  {"theft", {"stolen", "broke into"}},
                  {"auto_glass", {"windshield", "window"}},
                  {"car", {}},
                  {"car_rental", {"rental"}}};
  Check(spec, {{"i was in a crash", "collision", "collision"},
               {"uh collision", "collision"},
               {"someone broke into my car and it was stolen", "theft"},
               {"the windshield cracked", "auto_glass", "auto glass"},
               {"auto glass", "auto_glass"},
               {"i need a car rental", "car_rental", "car rental"},
               {"the car", "car"},
               {"my car was in a crash", nullptr, "Did you mean collision or car?"},
               {"hit and stolen", nullptr, "Did you mean collision or theft?"},
               {"crashed", nullptr, "You can say collision, theft, auto glass or car"},
               {"", nullptr, "didn't catch which one"}});
}

TEST(SlotTypesTest, Text) {
  Check(Spec("text", 1, 20), {{"  my car  was hit ", "my car was hit", "my car was hit"},
                              {"", nullptr, "didn't hear anything"},
                              {"   ", nullptr, "didn't hear anything"},
                              {"this is far too long for the slot", nullptr, "too long"}});
  Check(Spec("text", 5, 20), {{"ok", nullptr, "too short"}});
}

TEST(SlotTypesTest, CheckSlotSpec) {
  EXPECT_EQ(CheckSlotSpec(Spec("digits", 4, 8)), "");
  EXPECT_EQ(CheckSlotSpec(Spec("text", 0, 500)), "");
  EXPECT_NE(CheckSlotSpec(Spec("dat")).find("unknown slot type \"dat\""), std::string::npos);
  EXPECT_EQ(CheckSlotSpec(Spec("digits", 8, 4)), "min_length > max_length");
  EXPECT_EQ(CheckSlotSpec(Spec("digits", 0, 4)), "digits need min_length >= 1");
  EXPECT_EQ(CheckSlotSpec(Spec("enumeration")), "enumeration needs choices");
  SlotSpec number = Spec("number");
  number.min = 10;
  number.max = 1;
  EXPECT_EQ(CheckSlotSpec(number), "min > max");
  SlotSpec date = Spec("date");
  date.date_range = "later";
  EXPECT_NE(CheckSlotSpec(date).find("date_range"), std::string::npos);
  date.date_range = "past";
  EXPECT_EQ(CheckSlotSpec(date), "");
  SlotSpec text = Spec("text");
  text.date_range = "past";
  EXPECT_NE(CheckSlotSpec(text), "");
  SlotSpec e = Spec("enumeration");
  e.choices = {{"a_b", {"x"}}, {"c", {"x"}}};
  EXPECT_EQ(CheckSlotSpec(e), "\"x\" selects both a_b and c");
  e.choices = {{"a", {}}, {"a", {}}};
  EXPECT_EQ(CheckSlotSpec(e), "enumeration choice \"a\" twice");
  e.choices = {{"!!", {}}};
  EXPECT_EQ(CheckSlotSpec(e), "enumeration choice without a value");
  // ParseSlot refuses an invalid spec with a problem instead of guessing.
  SlotParse parse = ParseSlot(Spec("dat"), "march third", kToday);
  EXPECT_FALSE(parse.value);
  EXPECT_NE(parse.problem, "");
}

// Any input gives a value or a reason, for every type: seeded word soup from the vocabularies
// the parsers look for, plus punctuation and numerals.
TEST(SlotTypesTest, EveryInputGetsAValueOrAProblem) {
  const std::vector<std::string> vocabulary = {
      "one",      "two",      "twenty", "hundred", "thousand",
      "point",    "oh",       "for",    "to",      "a",
      "and",      "half",     "k",      "march",   "may",
      "third",    "the",      "of",     "last",    "next",
      "tuesday",  "ago",      "days",   "in",      "at",
      "dot",      "double",   "my",     "name",    "is",
      "j",        "o",        "i",      "yes",     "no",
      "crash",    "3rd",      "1985",   "2,500",   "3.5",
      "03/15/85", "#",        "*",      "@",       ".",
      "'85",      "-",        "31st",   "0",       "999999999999",
      "zero",     "nineteen", "thirty"};
  SlotSpec enumeration = Spec("enumeration");
  enumeration.choices = {{"collision", {"crash"}}, {"other", {"no"}}};
  std::vector<SlotSpec> specs;
  for (const auto& type : SlotTypes())
    specs.push_back(type == "enumeration" ? enumeration : Spec(type));
  SlotSpec past = Spec("date");
  past.date_range = "past";
  specs.push_back(past);
  unsigned seed = 12345;
  auto next = [&] {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 16) & 0x7fff;
  };
  for (int i = 0; i < 3000; ++i) {
    std::string text;
    const int words = static_cast<int>(next() % 8);
    for (int w = 0; w < words; ++w) text += vocabulary[next() % vocabulary.size()] + " ";
    for (const SlotSpec& spec : specs) {
      SlotParse parse = ParseSlot(spec, text, kToday);
      EXPECT_NE(parse.value.has_value(), !parse.problem.empty()) << spec.type << ": " << text;
    }
  }
}

// ---- grammars ----

std::set<std::string> LoadDictionary() {
  std::ifstream in("/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict");
  std::set<std::string> words;
  std::string line;
  while (std::getline(in, line)) {
    std::string word = line.substr(0, line.find(' '));
    if (auto paren = word.find('('); paren != std::string::npos) word.resize(paren);
    words.insert(word);
  }
  return words;
}

// The words of a JSGF grammar: everything but the header, rule names and operators.
std::vector<std::string> GrammarWords(const std::string& jsgf) {
  std::string body = jsgf;
  for (const char* header : {"#JSGF V1.0;"}) {
    if (auto at = body.find(header); at != std::string::npos)
      body.erase(at, std::string(header).size());
  }
  if (auto g = body.find("grammar "); g != std::string::npos)
    body.erase(g, body.find(';', g) - g + 1);
  std::string cleaned;
  bool in_rule = false;
  for (char c : body) {
    if (c == '<') in_rule = true;
    if (!in_rule) cleaned += std::string("=|()[]*+;").find(c) == std::string::npos ? c : ' ';
    if (c == '>') {
      in_rule = false;
      cleaned += ' ';
    }
  }
  std::istringstream words(cleaned);
  std::vector<std::string> out;
  for (std::string w; words >> w;) {
    if (w != "public") out.push_back(w);
  }
  return out;
}

std::vector<SlotSpec> ClosedSpecs() {
  SlotSpec enumeration = Spec("enumeration");
  enumeration.choices = {{"collision", {"crash", "accident", "Hit and run!"}},
                         {"auto_glass", {"windshield"}},
                         {"roadside", {"tow", "flat tire", "24 hour help"}}};
  return {Spec("digits"), Spec("number"), Spec("date"), Spec("yes_no"), enumeration};
}

TEST(SlotGrammarTest, EveryWordIsInThePronunciationDictionary) {
  const std::set<std::string> dictionary = LoadDictionary();
  ASSERT_GT(dictionary.size(), 100000u) << "pocketsphinx-en-us is not installed";
  for (const SlotSpec& spec : ClosedSpecs()) {
    const std::string grammar = SlotGrammar(spec);
    SCOPED_TRACE(grammar);
    ASSERT_EQ(grammar.rfind("#JSGF V1.0;\ngrammar " + spec.type + ";\npublic <utterance> = ", 0),
              0u);
    const auto words = GrammarWords(grammar);
    EXPECT_GT(words.size(), 10u);
    for (const auto& w : words) EXPECT_TRUE(dictionary.count(w)) << w;
  }
}

TEST(SlotGrammarTest, ClosedTypesOnly) {
  for (const char* open : {"name", "email", "text", "nonsense"}) {
    EXPECT_EQ(SlotGrammar(Spec(open)), "") << open;
  }
  SlotSpec digits_only = Spec("enumeration");
  digits_only.choices = {{"911", {}}};
  EXPECT_EQ(SlotGrammar(digits_only), "");
}

TEST(SlotGrammarTest, Contents) {
  auto has = [](const std::string& g, const std::string& part) {
    return g.find(part) != std::string::npos;
  };
  const std::string digits = SlotGrammar(Spec("digits"));
  EXPECT_TRUE(has(digits, "<digit> = double | eight | five | four | nine | oh | one")) << digits;
  EXPECT_FALSE(has(digits, " to ")) << "digit homophones are not carrier words";
  EXPECT_FALSE(has(digits, " it ")) << "\"uh it\" sounds like \"eight\"";
  const std::string number = SlotGrammar(Spec("number"));
  EXPECT_TRUE(has(number, "hundred")) << number;
  EXPECT_TRUE(has(number, "point")) << number;
  EXPECT_TRUE(has(number,
                  "public <utterance> = [<hesitation>] [<lead> [<hesitation>]] <number> "
                  "[<tail>];"))
      << number;
  const std::string date = SlotGrammar(Spec("date"));
  for (const char* w : {"january", "december", "twentieth", "thirty first", "yesterday", "ago",
                        "tuesday", "nineteen", "thousand"}) {
    EXPECT_TRUE(has(date, w)) << w;
  }
  const std::string enumeration = SlotGrammar(ClosedSpecs()[4]);
  EXPECT_TRUE(has(enumeration,
                  "(accident | auto glass | collision | crash | flat tire | hit and "
                  "run | roadside | tow | windshield)"))
      << enumeration;
  EXPECT_TRUE(has(enumeration, "public <utterance> = [<hesitation>] [<lead> [<hesitation>]] ("))
      << enumeration;
}

}  // namespace
}  // namespace artagent::agent
