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
// Words that are not digits are skipped; nullopt if no digit was said.
std::optional<std::string> ParseDigits(std::string_view text);

// true for yes, yeah, correct, right, that's right...; false for no, nope, wrong...;
// nullopt if neither (or both: "yes no").
std::optional<bool> ParseYesNo(std::string_view text);

// "4567" -> "4, 5, 6, 7" so that TTS reads digits one by one.
std::string SpellDigits(std::string_view digits);

// How many of `keywords` (words or multi-word phrases) occur in `words`.
int CountKeywordHits(const std::vector<std::string>& words,
                     const std::vector<std::string>& keywords);

}  // namespace artagent::agent
