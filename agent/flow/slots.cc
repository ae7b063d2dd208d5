#include "agent/flow/slots.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace artagent::agent {

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : text) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '\'') {
      cur += static_cast<char>(std::tolower(c));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::optional<std::string> ParseDigits(std::string_view text) {
  static const std::map<std::string, char> kDigit = {
      {"zero", '0'}, {"oh", '0'},    {"o", '0'},    {"one", '1'},   {"won", '1'},
      {"two", '2'},  {"to", '2'},    {"too", '2'},  {"three", '3'}, {"four", '4'},
      {"for", '4'},  {"fore", '4'},  {"five", '5'}, {"six", '6'},   {"seven", '7'},
      {"eight", '8'}, {"ate", '8'},  {"nine", '9'}};
  std::string out;
  int repeat = 1;
  for (const auto& w : Words(text)) {
    if (w == "double") {
      repeat = 2;
      continue;
    }
    if (w == "triple") {
      repeat = 3;
      continue;
    }
    std::string digits;
    if (auto it = kDigit.find(w); it != kDigit.end()) {
      digits = std::string(1, it->second);
    } else if (std::all_of(w.begin(), w.end(), [](char c) { return std::isdigit(
                                                               static_cast<unsigned char>(c)); })) {
      digits = w;
    } else {
      repeat = 1;
      continue;
    }
    for (int i = 0; i < repeat; ++i) out += digits;
    repeat = 1;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::optional<bool> ParseYesNo(std::string_view text) {
  static const std::vector<std::string> kYes = {
      "yes", "yeah", "yep", "yup", "correct", "right", "sure", "affirmative", "absolutely",
      "exactly", "ok", "okay", "indeed"};
  static const std::vector<std::string> kNo = {"no", "nope", "nah", "wrong", "incorrect",
                                               "negative", "not"};
  auto words = Words(text);
  const bool yes = CountKeywordHits(words, kYes) > 0;
  const bool no = CountKeywordHits(words, kNo) > 0;
  if (yes == no) return std::nullopt;
  return yes;
}

std::string SpellDigits(std::string_view digits) {
  std::string out;
  for (char c : digits) {
    if (!out.empty()) out += ", ";
    out += c;
  }
  return out;
}

int CountKeywordHits(const std::vector<std::string>& words,
                     const std::vector<std::string>& keywords) {
  int hits = 0;
  for (const auto& k : keywords) {
    auto kw = Words(k);
    if (kw.empty() || kw.size() > words.size()) continue;
    for (size_t i = 0; i + kw.size() <= words.size(); ++i) {
      if (std::equal(kw.begin(), kw.end(), words.begin() + static_cast<std::ptrdiff_t>(i))) {
        ++hits;
        break;
      }
    }
  }
  return hits;
}

}  // namespace artagent::agent
