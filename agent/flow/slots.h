#pragma once
// Reading typed values out of what the recognizer heard. Recognizers write numbers as words
// ("four five six seven", "double five") and confuse homophones ("for", "to", "oh"); these
// parsers accept what callers actually say.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace artagent::agent {

// Lower-cased words of `text`, punctuation removed ("Yes, it's 45!" -> yes it's 45).
std::vector<std::string> Words(std::string_view text);

// "four five six seven" / "4 5 6 7" / "4567" / "double five one" -> "4567" / "551".
// Words that are not digits are skipped; nullopt if no digit was said. Homophones ("for", "to",
// "too", "oh", "o", "ate", "won") count only next to another digit (a chain of them counts when it
// touches a real digit), so "i'd like to give you four five" is "45", "for to oh nine" "4209".
std::optional<std::string> ParseDigits(std::string_view text);

// true for yes, yeah, correct, right, that's right...; false for no, nope, wrong...;
// nullopt if neither (or both: "yes no").
std::optional<bool> ParseYesNo(std::string_view text);

// "4567" -> "4, 5, 6, 7" so that TTS reads digits one by one.
std::string SpellDigits(std::string_view digits);

// How many of `keywords` (words or multi-word phrases) occur in `words`.
int CountKeywordHits(const std::vector<std::string>& words,
                     const std::vector<std::string>& keywords);

// Like Words(), but '.', ',', '/' and '-' between two digits stay inside the token, so numerals
// and typed dates survive: "$2,500.50 on 03/15/1985" -> 2,500.50 on 03/15/1985.
std::vector<std::string> NumberTokens(std::string_view text);

// A number said or typed, found in tokens [begin, end).
struct SpokenNumber {
  double value = 0;
  size_t begin = 0, end = 0;
};

// The number that starts at tokens[i] (NumberTokens), read as far as it goes: "twenty five
// hundred" (2500), "two thousand five hundred and twelve", "a hundred", "three point five",
// "two and a half", "fifteen k" / "fifteen grand", numerals ("2,500", "3.5", "15k"), and
// year-style pairs ("nineteen eighty five" 1985, "twenty twenty four" 2024, "nineteen oh five"
// 1905). Digit homophones ("for", "to", "too", "won", "ate") count only after a tens word
// ("twenty for") or before a multiplier or "point" ("for hundred"); "oh" only after a number
// ("nineteen oh five"). nullopt if no number starts at tokens[i].
std::optional<SpokenNumber> ParseNumberAt(const std::vector<std::string>& tokens, size_t i);

// Every number in `text`, left to right.
std::vector<SpokenNumber> FindNumbers(std::string_view text);

// 2500 -> "two thousand five hundred", 3.5 -> "three point five" (up to 15 significant digits;
// negative numbers start with "minus").
std::string NumberInWords(double value);

}  // namespace artagent::agent
