#include "agent/flow/slots.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
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
      {"zero", '0'}, {"one", '1'}, {"two", '2'},   {"three", '3'}, {"four", '4'},
      {"five", '5'}, {"six", '6'}, {"seven", '7'}, {"eight", '8'}, {"nine", '9'}};
  static const std::map<std::string, char> kHomophone = {{"oh", '0'},   {"o", '0'},   {"won", '1'},
                                                         {"to", '2'},   {"too", '2'}, {"for", '4'},
                                                         {"fore", '4'}, {"ate", '8'}};
  enum Kind { kOther, kDigitWord, kSoundsLikeDigit, kRepeat };
  const std::vector<std::string> words = Words(text);
  std::vector<Kind> kind(words.size(), kOther);
  std::vector<bool> accepted(words.size(), false);
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "double" || w == "triple") {
      kind[i] = kRepeat;
    } else if (kDigit.count(w) > 0 || std::all_of(w.begin(), w.end(), [](char c) {
                 return std::isdigit(static_cast<unsigned char>(c));
               })) {
      kind[i] = kDigitWord;
      accepted[i] = true;
    } else if (kHomophone.count(w) > 0) {
      kind[i] = kSoundsLikeDigit;
    }
  }
  // A homophone is a digit when its nearest neighbour (across "double" / "triple") is one.
  auto neighbour_accepted = [&](size_t i, int step) {
    for (long j = static_cast<long>(i) + step; j >= 0 && j < static_cast<long>(words.size());
         j += step) {
      if (kind[j] == kRepeat) continue;
      return bool(accepted[j]);
    }
    return false;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < words.size(); ++i) {
      if (kind[i] == kSoundsLikeDigit && !accepted[i] &&
          (neighbour_accepted(i, -1) || neighbour_accepted(i, 1))) {
        accepted[i] = true;
        changed = true;
      }
    }
  }
  std::string out;
  int repeat = 1;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (kind[i] == kRepeat) {
      repeat = w == "double" ? 2 : 3;
      continue;
    }
    if (!accepted[i]) {
      repeat = 1;
      continue;
    }
    std::string digits;
    if (auto it = kDigit.find(w); it != kDigit.end()) {
      digits = std::string(1, it->second);
    } else if (auto h = kHomophone.find(w); h != kHomophone.end()) {
      digits = std::string(1, h->second);
    } else {
      digits = w;
    }
    for (int r = 0; r < repeat; ++r) out += digits;
    repeat = 1;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::optional<bool> ParseYesNo(std::string_view text) {
  static const std::vector<std::string> kYes = {
      "yes",         "yeah",       "yep",     "yup", "correct", "right", "sure",
      "affirmative", "absolutely", "exactly", "ok",  "okay",    "indeed"};
  static const std::vector<std::string> kNo = {"no",        "nope",     "nah", "wrong",
                                               "incorrect", "negative", "not"};
  auto words = Words(text);
  // "not right", "isn't correct", "no that's not right": a negated yes-word is a no.
  static const std::vector<std::string> kNegators = {"not", "isn't", "isnt", "ain't", "never"};
  bool negated_yes = false;
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    static const std::vector<std::string> kNegatable = {"right", "correct", "ok", "okay", "true"};
    if (CountKeywordHits({words[i]}, kNegators) > 0 &&
        CountKeywordHits({words[i + 1]}, kNegatable) > 0) {
      negated_yes = true;
    }
  }
  if (negated_yes) return false;
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

std::vector<std::string> NumberTokens(std::string_view text) {
  auto digit = [&](size_t i) {
    return i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]));
  };
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    const bool joiner = (c == '.' || c == ',' || c == '/' || c == '-') && i > 0 && digit(i - 1) &&
                        digit(i + 1) && !cur.empty();
    if (std::isalnum(c) || c == '\'' || joiner) {
      cur += static_cast<char>(std::tolower(c));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

namespace {

const std::map<std::string, int, std::less<>> kUnits = {
    {"zero", 0}, {"one", 1}, {"two", 2},   {"three", 3}, {"four", 4},
    {"five", 5}, {"six", 6}, {"seven", 7}, {"eight", 8}, {"nine", 9}};
const std::map<std::string, int, std::less<>> kUnitHomophones = {
    {"won", 1}, {"to", 2}, {"too", 2}, {"for", 4}, {"fore", 4}, {"ate", 8}};
const std::map<std::string, int, std::less<>> kTeens = {
    {"ten", 10},     {"eleven", 11},  {"twelve", 12},    {"thirteen", 13}, {"fourteen", 14},
    {"fifteen", 15}, {"sixteen", 16}, {"seventeen", 17}, {"eighteen", 18}, {"nineteen", 19}};
const std::map<std::string, int, std::less<>> kTens = {
    {"twenty", 20}, {"thirty", 30},  {"forty", 40},  {"fifty", 50},
    {"sixty", 60},  {"seventy", 70}, {"eighty", 80}, {"ninety", 90}};
const std::map<std::string, double, std::less<>> kMultipliers = {
    {"thousand", 1e3}, {"million", 1e6}, {"billion", 1e9}, {"k", 1e3}, {"grand", 1e3}};

int Lookup(const std::map<std::string, int, std::less<>>& table, std::string_view w) {
  auto it = table.find(w);
  return it == table.end() ? -1 : it->second;
}

bool IsMultiplier(std::string_view w) { return w == "hundred" || kMultipliers.count(w) > 0; }

// "2,500" / "3.5" / "2,500.75" / "15k" -> the value; nullopt for anything else ("03/15/1985").
std::optional<double> NumeralValue(std::string_view w) {
  double scale = 1;
  if (w.size() > 1 && w.back() == 'k') {
    scale = 1000;
    w.remove_suffix(1);
  }
  if (w.empty() || !std::isdigit(static_cast<unsigned char>(w.front()))) return std::nullopt;
  std::string plain;
  bool dot = false;
  for (size_t i = 0; i < w.size(); ++i) {
    const char c = w[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      plain += c;
    } else if (c == ',' && !dot) {
      size_t n = 0;  // a thousands separator is followed by exactly three digits
      while (i + 1 + n < w.size() && std::isdigit(static_cast<unsigned char>(w[i + 1 + n]))) ++n;
      if (n != 3) return std::nullopt;
    } else if (c == '.' && !dot) {
      dot = true;
      plain += '.';
    } else {
      return std::nullopt;
    }
  }
  if (plain.back() == '.') return std::nullopt;
  return std::strtod(plain.c_str(), nullptr) * scale;
}

}  // namespace

std::optional<SpokenNumber> ParseNumberAt(const std::vector<std::string>& tokens, size_t i) {
  // kTensWord: a tens word that may still take a unit; kPair: a complete number below 100 (or a
  // year-style pair) that a following tens or teen word turns into a pair ("nineteen eighty").
  enum Last { kNone, kUnit, kTeen, kTensWord, kPair, kHundred, kScale, kAnd, kNumeral };
  auto at = [&](size_t k) -> std::string_view {
    return k < tokens.size() ? std::string_view(tokens[k]) : std::string_view();
  };
  double total = 0, group = 0, fraction = 0;
  Last last = kNone;
  size_t j = i, end = i;
  while (j < tokens.size()) {
    const std::string_view w = tokens[j];
    const std::string_view next = at(j + 1);
    int unit = Lookup(kUnits, w);
    if (unit < 0 && (last == kTensWord || IsMultiplier(next) || next == "point")) {
      unit = Lookup(kUnitHomophones, w);
    }
    const int teen = Lookup(kTeens, w), tens = Lookup(kTens, w);
    const bool small_before = last == kUnit || last == kTeen || last == kTensWord || last == kPair;
    const bool fresh = last == kNone || last == kHundred || last == kScale || last == kAnd;
    if (auto numeral = NumeralValue(w)) {
      if (last != kNone) break;
      group = *numeral;
      last = kNumeral;
    } else if (unit >= 0) {
      if (last == kTensWord) {
        group += unit;
        last = kPair;
      } else if (fresh) {
        group += unit;
        last = kUnit;
      } else if (last == kUnit) {
        group = group * 10 + unit;  // said digit by digit: "one two three"
      } else {
        break;
      }
    } else if ((w == "oh" || w == "o") && small_before && Lookup(kUnits, next) > 0) {
      group = group * 100 + Lookup(kUnits, next);  // "nineteen oh five", "three oh five"
      last = kPair;
      ++j;
    } else if (teen >= 0 || tens >= 0) {
      const int value = teen >= 0 ? teen : tens;
      if (fresh) {
        group += value;
      } else if (small_before && group < 100) {
        group = group * 100 + value;  // year-style pairs: "nineteen eighty", "twenty fifteen"
      } else {
        break;
      }
      last = teen >= 0 ? kTeen : kTensWord;
    } else if (w == "hundred") {
      if (last == kNone) {
        group = 100;
      } else if ((small_before || last == kNumeral) && group > 0 && group < 100) {
        group *= 100;  // "five hundred", "twenty five hundred"
      } else {
        break;
      }
      last = kHundred;
    } else if (auto m = kMultipliers.find(w); m != kMultipliers.end()) {
      const bool word_only = w == "thousand" || w == "million" || w == "billion";
      if (last == kAnd || last == kScale || (last == kNone && !word_only)) break;
      total += (last == kNone ? 1 : group) * m->second;
      group = 0;
      last = kScale;
    } else if ((w == "a" || w == "an") && last == kNone && IsMultiplier(next)) {
      group = 1;  // "a hundred", "a thousand"
      last = kUnit;
      ++j;
      continue;  // not a number until the multiplier follows
    } else if (w == "and" && last != kNone && last != kAnd && next == "a" && at(j + 2) == "half") {
      fraction = 0.5;
      end = j + 3;
      break;
    } else if (w == "and" && (last == kHundred || last == kScale) &&
               (Lookup(kUnits, next) >= 0 || Lookup(kTeens, next) >= 0 ||
                Lookup(kTens, next) >= 0)) {
      last = kAnd;
      ++j;
      continue;
    } else if (w == "point" && last != kAnd) {
      std::string decimals;
      size_t k = j + 1;
      for (; k < tokens.size(); ++k) {
        int d = Lookup(kUnits, tokens[k]);
        if (d < 0) d = Lookup(kUnitHomophones, tokens[k]);
        if (d < 0 && (tokens[k] == "oh" || tokens[k] == "o")) d = 0;
        if (d >= 0) {
          decimals += static_cast<char>('0' + d);
        } else if (std::all_of(tokens[k].begin(), tokens[k].end(), [](char c) {
                     return std::isdigit(static_cast<unsigned char>(c));
                   })) {
          decimals += tokens[k];
        } else {
          break;
        }
      }
      if (decimals.empty()) break;
      fraction = std::strtod(("0." + decimals).c_str(), nullptr);
      end = k;
      if (auto m = kMultipliers.find(at(k)); m != kMultipliers.end()) {
        total += (group + fraction) * m->second;  // "two point five million"
        group = fraction = 0;
        end = k + 1;
      }
      break;
    } else {
      break;
    }
    end = ++j;
  }
  if (end == i) return std::nullopt;
  return SpokenNumber{total + group + fraction, i, end};
}

std::vector<SpokenNumber> FindNumbers(std::string_view text) {
  const std::vector<std::string> tokens = NumberTokens(text);
  std::vector<SpokenNumber> out;
  for (size_t i = 0; i < tokens.size();) {
    if (auto n = ParseNumberAt(tokens, i)) {
      out.push_back(*n);
      i = n->end;
    } else {
      ++i;
    }
  }
  return out;
}

namespace {

std::string BelowThousandInWords(long long n) {
  static const char* kSmall[] = {"zero",    "one",     "two",       "three",    "four",
                                 "five",    "six",     "seven",     "eight",    "nine",
                                 "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                 "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
  static const char* kTensWords[] = {"",      "",      "twenty",  "thirty", "forty",
                                     "fifty", "sixty", "seventy", "eighty", "ninety"};
  std::string out;
  if (n >= 100) {
    out = std::string(kSmall[n / 100]) + " hundred";
    n %= 100;
    if (n == 0) return out;
    out += ' ';
  }
  if (n < 20) return out + kSmall[n];
  out += kTensWords[n / 10];
  if (n % 10 != 0) out += std::string(" ") + kSmall[n % 10];
  return out;
}

}  // namespace

std::string NumberInWords(double value) {
  if (value < 0) return "minus " + NumberInWords(-value);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", value);
  std::string text = buf;
  if (text.find('e') != std::string::npos) {
    std::snprintf(buf, sizeof buf, "%.0f", value);
    text = buf;
  }
  const size_t dot = text.find('.');
  long long whole = std::llround(std::floor(value));
  std::string out;
  if (whole == 0) out = "zero";
  static const std::pair<long long, const char*> kScales[] = {{1000000000000LL, "trillion"},
                                                              {1000000000LL, "billion"},
                                                              {1000000LL, "million"},
                                                              {1000LL, "thousand"}};
  for (const auto& [scale, name] : kScales) {
    if (whole >= scale) {
      if (!out.empty()) out += ' ';
      out += NumberInWords(double(whole / scale)) + " " + name;
      whole %= scale;
    }
  }
  if (whole > 0) {
    if (!out.empty()) out += ' ';
    out += BelowThousandInWords(whole);
  }
  if (dot != std::string::npos) {
    static const char* kDigitWords[] = {"zero", "one", "two",   "three", "four",
                                        "five", "six", "seven", "eight", "nine"};
    out += " point";
    for (char c : text.substr(dot + 1)) out += std::string(" ") + kDigitWords[c - '0'];
  }
  return out;
}

}  // namespace artagent::agent
