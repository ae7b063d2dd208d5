#include "agent/flow/slot_types.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <set>

#include "agent/flow/slot_dates.h"
#include "agent/flow/slots.h"

namespace artagent::agent {
namespace {

std::string Join(const std::vector<std::string>& words, size_t begin = 0,
                 size_t end = std::string::npos) {
  std::string out;
  for (size_t i = begin; i < std::min(end, words.size()); ++i) {
    if (!out.empty()) out += ' ';
    out += words[i];
  }
  return out;
}

bool StartsWith(const std::vector<std::string>& words, size_t at,
                const std::vector<std::string>& phrase) {
  if (at + phrase.size() > words.size()) return false;
  return std::equal(phrase.begin(), phrase.end(), words.begin() + static_cast<long>(at));
}

// Removes leading filler phrases (longest first, repeatedly) and trailing ones.
std::vector<std::string> StripFillers(std::vector<std::string> words,
                                      const std::vector<std::string>& leading,
                                      const std::vector<std::string>& trailing) {
  auto split = [](const std::vector<std::string>& phrases) {
    std::vector<std::vector<std::string>> out;
    for (const auto& p : phrases) out.push_back(Words(p));
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
    return out;
  };
  static const std::vector<std::string> kHesitations = {"uh", "um", "er", "erm", "hmm", "ah"};
  std::erase_if(words, [](const std::string& w) {
    return std::find(kHesitations.begin(), kHesitations.end(), w) != kHesitations.end();
  });
  const auto lead = split(leading), trail = split(trailing);
  size_t begin = 0;
  for (bool again = true; again;) {
    again = false;
    for (const auto& p : lead) {
      if (StartsWith(words, begin, p)) {
        begin += p.size();
        again = true;
        break;
      }
    }
  }
  size_t end = words.size();
  for (bool again = true; again && end > begin;) {
    again = false;
    for (const auto& p : trail) {
      if (end >= begin + p.size() && StartsWith(words, end - p.size(), p)) {
        end -= p.size();
        again = true;
        break;
      }
    }
  }
  return {words.begin() + static_cast<long>(begin), words.begin() + static_cast<long>(end)};
}

const std::vector<std::string> kPoliteEndings = {"thanks", "thank you", "please",
                                                 "thank you very much"};

std::string LengthProblem(size_t got, const SlotSpec& spec, const std::string& unit) {
  auto need = [&] {
    if (spec.min_length == spec.max_length) return std::to_string(spec.min_length);
    return "between " + std::to_string(spec.min_length) + " and " + std::to_string(spec.max_length);
  };
  return "I heard " + std::to_string(got) + " " + unit + (got == 1 ? "" : "s") + "; I need " +
         need() + ".";
}

SlotParse Fail(std::string problem) { return SlotParse{std::nullopt, std::move(problem)}; }
SlotParse Ok(nlohmann::json value, std::string spoken) {
  return SlotParse{SlotValue{std::move(value), std::move(spoken)}, ""};
}

std::string FormatNumber(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

// ----- digits, number, yes/no, text -----

SlotParse ParseDigitsSlot(const SlotSpec& spec, std::string_view text) {
  text = text.substr(0, text.find('#'));  // DTMF: '#' ends the entry
  auto digits = ParseDigits(text);
  if (!digits) return Fail("I didn't hear any digits.");
  const int n = static_cast<int>(digits->size());
  if (n < spec.min_length || n > spec.max_length) {
    return Fail(LengthProblem(digits->size(), spec, "digit"));
  }
  return Ok(*digits, SpellDigits(*digits));
}

SlotParse ParseNumberSlot(const SlotSpec& spec, std::string_view text) {
  const std::vector<std::string> tokens = NumberTokens(text);
  std::vector<double> values;
  for (const SpokenNumber& n : FindNumbers(text)) {
    // "the one i want", "that one": a pronoun, not a number.
    static const std::set<std::string> kDeterminers = {"the",     "this",  "that", "which",
                                                       "another", "every", "any",  "no"};
    if (n.end == n.begin + 1 && tokens[n.begin] == "one" && n.begin > 0 &&
        kDeterminers.count(tokens[n.begin - 1]) > 0) {
      continue;
    }
    if (std::find(values.begin(), values.end(), n.value) == values.end()) {
      values.push_back(n.value);
    }
  }
  if (values.empty()) return Fail("I didn't hear a number.");
  if (values.size() > 1) {
    return Fail("I heard more than one number, " + FormatNumber(values[0]) + " and " +
                FormatNumber(values[1]) + "; which one is it?");
  }
  const double v = values[0];
  if (spec.min && v < *spec.min) {
    return Fail("I heard " + FormatNumber(v) + ", but it must be at least " +
                FormatNumber(*spec.min) + ".");
  }
  if (spec.max && v > *spec.max) {
    return Fail("I heard " + FormatNumber(v) + ", but it can be at most " +
                FormatNumber(*spec.max) + ".");
  }
  nlohmann::json value;
  if (v == std::floor(v) && std::fabs(v) < 9e15) {
    value = static_cast<long long>(v);
  } else {
    value = v;
  }
  return Ok(value, NumberInWords(v));
}

SlotParse ParseYesNoSlot(std::string_view text) {
  auto yes = ParseYesNo(text);
  if (!yes) return Fail("Please answer yes or no.");
  return Ok(*yes, *yes ? "yes" : "no");
}

SlotParse ParseTextSlot(const SlotSpec& spec, std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (out.empty()) return Fail("I didn't hear anything.");
  if (static_cast<int>(out.size()) < spec.min_length) {
    return Fail("That is too short; I need at least " + std::to_string(spec.min_length) +
                " characters.");
  }
  if (static_cast<int>(out.size()) > spec.max_length) {
    return Fail("That is too long; please keep it under " + std::to_string(spec.max_length + 1) +
                " characters.");
  }
  return Ok(out, out);
}

// ----- names -----

// Lower-case words keeping inner apostrophes and hyphens ("o'brien", "mary-jane").
std::vector<std::string> NameWords(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    while (!cur.empty() && (cur.back() == '-' || cur.back() == '\'')) cur.pop_back();
    while (!cur.empty() && (cur.front() == '-' || cur.front() == '\'')) cur.erase(0, 1);
    if (!cur.empty()) out.push_back(cur);
    cur.clear();
  };
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalpha(c) || (!cur.empty() && (c == '\'' || c == '-'))) {
      cur += static_cast<char>(std::tolower(c));
    } else {
      flush();
    }
  }
  flush();
  return out;
}

std::string TitleCase(std::string w) {
  for (size_t i = 0; i < w.size(); ++i) {
    const bool start = i == 0 || w[i - 1] == '-' || (w[i - 1] == '\'' && i == 2);
    if (start) w[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[i])));
  }
  return w;
}

SlotParse ParseNameSlot(const SlotSpec& spec, std::string_view text) {
  static const std::vector<std::string> kLeading = {"my name is",
                                                    "my name's",
                                                    "my full name is",
                                                    "my first name is",
                                                    "name is",
                                                    "the name is",
                                                    "name's",
                                                    "it's",
                                                    "it is",
                                                    "its",
                                                    "this is",
                                                    "i am",
                                                    "i'm",
                                                    "im",
                                                    "call me",
                                                    "you can call me",
                                                    "they call me",
                                                    "hi",
                                                    "hello",
                                                    "hey",
                                                    "yes",
                                                    "yeah",
                                                    "sure",
                                                    "okay",
                                                    "ok",
                                                    "so",
                                                    "well",
                                                    "oh",
                                                    "of course",
                                                    "speaking"};
  static const std::vector<std::string> kStop = {
      "and", "i",    "i'm", "calling", "from", "here",   "speaking", "please",  "thanks", "thank",
      "but", "with", "who", "my",      "it's", "that's", "is",       "spelled", "spelt"};
  std::vector<std::string> words = StripFillers(NameWords(text), kLeading, kPoliteEndings);
  // The name ends where the caller goes on ("john smith and i'm calling about ...").
  auto stop = words.begin();
  for (; stop != words.end(); ++stop) {
    if (std::find(kStop.begin(), kStop.end(), *stop) == kStop.end()) continue;
    // "i" inside spelled letters ("s m i t h") is a letter.
    const bool letter_before = stop != words.begin() && (stop - 1)->size() == 1;
    const bool letter_after = stop + 1 != words.end() && (stop + 1)->size() == 1;
    if (*stop == "i" && (letter_before || letter_after)) continue;
    break;
  }
  // ... except that "spelled j o h n" keeps the spelling for the letters below.
  std::vector<std::string> spelled_after;
  if (stop != words.end() && (*stop == "spelled" || *stop == "spelt")) {
    spelled_after.assign(stop + 1, words.end());
  }
  words.erase(stop, words.end());
  words.insert(words.end(), spelled_after.begin(), spelled_after.end());
  // Spelled letters ("j o h n") become one word; spelling right after a word that starts with the
  // same letter spells that word ("smith s m y t h" -> "smyth").
  std::vector<std::string> name;
  for (size_t i = 0; i < words.size();) {
    size_t j = i;
    std::string letters;
    while (j < words.size() && words[j].size() == 1) letters += words[j++];
    if (letters.size() >= 2) {
      if (!name.empty() && name.back().size() > 1 && name.back()[0] == letters[0]) {
        name.back() = letters;
      } else {
        name.push_back(letters);
      }
      i = j;
      continue;
    }
    if (letters.size() == 1) {
      name.push_back(letters);  // an initial: "john f kennedy"
      i = j;
      continue;
    }
    name.push_back(words[i++]);
  }
  if (name.empty()) return Fail("I didn't catch a name.");
  if (name.size() > 4) return Fail("Please tell me just your first and last name.");
  std::string out;
  for (const auto& w : name) {
    if (!out.empty()) out += ' ';
    out += TitleCase(w);
  }
  if (static_cast<int>(out.size()) < spec.min_length ||
      static_cast<int>(out.size()) > spec.max_length) {
    return Fail("I heard " + out + "; that doesn't sound like a whole name.");
  }
  return Ok(out, out);
}

// ----- e-mail addresses -----

bool IsAlnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// Empty if `address` looks like an address, else what is missing.
std::string EmailProblem(const std::string& address) {
  const size_t at = address.find('@');
  if (at == std::string::npos || address.find('@', at + 1) != std::string::npos) {
    return "I need the whole address with one at sign, like name at example dot com.";
  }
  const std::string local = address.substr(0, at), domain = address.substr(at + 1);
  auto bad_dots = [](const std::string& s) {
    return s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != std::string::npos;
  };
  if (bad_dots(local) || !std::all_of(local.begin(), local.end(), [](char c) {
        return IsAlnum(c) || c == '.' || c == '_' || c == '-' || c == '+';
      })) {
    return "I didn't get the part before the at sign.";
  }
  const size_t last_dot = domain.rfind('.');
  if (bad_dots(domain) || last_dot == std::string::npos ||
      !std::all_of(domain.begin(), domain.end(),
                   [](char c) { return IsAlnum(c) || c == '.' || c == '-'; })) {
    return "I didn't get the part after the at sign, like example dot com.";
  }
  const std::string tld = domain.substr(last_dot + 1);
  if (tld.size() < 2 || !std::all_of(tld.begin(), tld.end(), [](char c) {
        return std::isalpha(static_cast<unsigned char>(c));
      })) {
    return "I didn't get how the address ends, like dot com.";
  }
  return "";
}

// "john.smith@example.com" -> "john dot smith at example dot com"; digits and short or vowel-less
// letter runs are spelled.
std::string SpokenEmail(const std::string& address) {
  std::string out;
  auto add = [&](const std::string& w) {
    if (!out.empty()) out += ' ';
    out += w;
  };
  static const std::map<char, std::string> kSymbols = {
      {'.', "dot"}, {'@', "at"}, {'_', "underscore"}, {'-', "dash"}, {'+', "plus"}};
  for (size_t i = 0; i < address.size();) {
    const char c = address[i];
    if (auto s = kSymbols.find(c); s != kSymbols.end()) {
      add(s->second);
      ++i;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      add(std::string(1, c));
      ++i;
    } else {
      size_t j = i;
      while (j < address.size() && std::isalpha(static_cast<unsigned char>(address[j]))) ++j;
      const std::string run = address.substr(i, j - i);
      const bool vowel = run.find_first_of("aeiouy") != std::string::npos;
      if (run.size() >= 3 && vowel) {
        add(run);
      } else {
        for (char l : run) add(std::string(1, l));
      }
      i = j;
    }
  }
  return out;
}

SlotParse ParseEmailSlot(std::string_view text) {
  std::string address;
  if (text.find('@') != std::string_view::npos) {  // typed
    size_t at = text.find('@');
    size_t begin = at, end = at;
    auto part = [](char c) {
      return IsAlnum(c) || c == '.' || c == '_' || c == '-' || c == '+' || c == '@';
    };
    while (begin > 0 && part(text[begin - 1])) --begin;
    while (end < text.size() && part(text[end])) ++end;
    address = std::string(text.substr(begin, end - begin));
    while (!address.empty() && address.back() == '.') address.pop_back();
    std::transform(address.begin(), address.end(), address.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  } else {
    static const std::vector<std::string> kLeading = {"my email is",
                                                      "my email address is",
                                                      "my e mail is",
                                                      "my e mail address is",
                                                      "email is",
                                                      "e mail is",
                                                      "the email is",
                                                      "the address is",
                                                      "my address is",
                                                      "it's",
                                                      "it is",
                                                      "that's",
                                                      "that is",
                                                      "sure",
                                                      "yes",
                                                      "yeah",
                                                      "okay",
                                                      "ok",
                                                      "so",
                                                      "well"};
    static const std::map<std::string, std::string> kSpoken = {
        {"at", "@"},   {"dot", "."},    {"period", "."}, {"point", "."}, {"underscore", "_"},
        {"dash", "-"}, {"hyphen", "-"}, {"minus", "-"},  {"plus", "+"},  {"zero", "0"},
        {"one", "1"},  {"two", "2"},    {"three", "3"},  {"four", "4"},  {"five", "5"},
        {"six", "6"},  {"seven", "7"},  {"eight", "8"},  {"nine", "9"},  {"oh", "o"}};
    std::vector<std::string> words = StripFillers(Words(text), kLeading, kPoliteEndings);
    int repeat = 1;
    for (size_t i = 0; i < words.size(); ++i) {
      const std::string& w = words[i];
      if ((w == "double" || w == "triple") && i + 1 < words.size()) {
        repeat = w == "double" ? 2 : 3;
        continue;
      }
      if (w == "under" && i + 1 < words.size() && words[i + 1] == "score") {
        address += '_';
        ++i;
        continue;
      }
      if (w == "sign" || w == "symbol") continue;  // "at sign"
      std::string piece = w;
      if (auto s = kSpoken.find(w); s != kSpoken.end()) piece = s->second;
      for (int r = 0; r < repeat; ++r) address += piece;
      repeat = 1;
    }
  }
  if (address.empty()) return Fail("I didn't catch an email address.");
  if (std::string problem = EmailProblem(address); !problem.empty()) return Fail(problem);
  return Ok(address, SpokenEmail(address));
}

// ----- enumerations -----

std::vector<std::string> ChoicePhrases(const SlotChoice& choice) {
  std::vector<std::string> out;
  auto add = [&](const std::string& phrase) {
    std::string p = Join(Words(phrase));
    if (!p.empty() && std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  add(choice.value);
  for (const auto& k : choice.keywords) add(k);
  return out;
}

std::string SpokenChoice(const std::string& value) {
  std::string out = Join(Words(value));
  return out.empty() ? value : out;
}

SlotParse ParseEnumerationSlot(const SlotSpec& spec, std::string_view text) {
  const std::vector<std::string> words = Words(text);
  struct Span {
    size_t choice, begin, end;
  };
  std::vector<Span> spans;
  for (size_t c = 0; c < spec.choices.size(); ++c) {
    for (const auto& phrase : ChoicePhrases(spec.choices[c])) {
      const std::vector<std::string> p = Words(phrase);
      for (size_t i = 0; i + p.size() <= words.size(); ++i) {
        if (StartsWith(words, i, p)) spans.push_back({c, i, i + p.size()});
      }
    }
  }
  // A phrase inside a longer phrase of another choice does not count ("car" in "car rental").
  std::vector<int> hits(spec.choices.size(), 0);
  std::vector<std::set<size_t>> seen(spec.choices.size());
  for (const Span& s : spans) {
    const bool inside = std::any_of(spans.begin(), spans.end(), [&](const Span& o) {
      return o.choice != s.choice && o.begin <= s.begin && s.end <= o.end &&
             o.end - o.begin > s.end - s.begin;
    });
    if (!inside && seen[s.choice].insert(s.begin).second) ++hits[s.choice];
  }
  const int best = hits.empty() ? 0 : *std::max_element(hits.begin(), hits.end());
  std::vector<size_t> winners;
  for (size_t c = 0; c < hits.size(); ++c) {
    if (best > 0 && hits[c] == best) winners.push_back(c);
  }
  if (winners.empty()) {
    std::string options;
    for (size_t c = 0; c < spec.choices.size() && c < 4; ++c) {
      options += (c == 0                                              ? ""
                  : c + 1 == std::min<size_t>(spec.choices.size(), 4) ? " or "
                                                                      : ", ") +
                 SpokenChoice(spec.choices[c].value);
    }
    return Fail("I didn't catch which one. You can say " + options + ".");
  }
  if (winners.size() > 1) {
    return Fail("Did you mean " + SpokenChoice(spec.choices[winners[0]].value) + " or " +
                SpokenChoice(spec.choices[winners[1]].value) + "?");
  }
  const std::string& value = spec.choices[winners[0]].value;
  return Ok(value, SpokenChoice(value));
}

// ----- grammars -----

// What callers wrap answers in, from the CMU dictionary pocketsphinx ships. Closed types take a
// hesitation, one lead-in phrase and one closing phrase around the answer ("uh it was on march
// third thank you"). Measured with flite + pocketsphinx (slot_types_speech_test.cc): free loops
// of carrier words (grammar.cc's <carrier>*) soak up breaths and word ends ("eight" heard as "uh
// it") and got short answers rejected ("the windshield please", "it was stolen"); these frames
// did not. Answers outside a frame are rejected, and the language model can take over.
constexpr char kHesitation[] = "uh | um";
constexpr char kThanks[] = "thank you | thanks | please";
constexpr char kDigitLeads[] =
    "(my | the) [policy | account | claim | phone | member] number is | it's | that's | sure "
    "[it's]";
constexpr char kNumberLeads[] = "[i think] (it's | it is | it was | that's) [<about>] | <about>";
constexpr char kNumberTails[] = "dollars | miles | percent | thank you | thanks | please";
constexpr char kDateLeads[] =
    "[i think] (it was | it's | it is | it happened | that was | that's | i was born) [on] | on "
    "| my (birthday | date of birth) is";
constexpr char kDateTails[] = "i think | thank you | thanks | please";

constexpr char kChoiceLeads[] =
    "[i think] (it was | it's | it is | that's | i had | i have | i need | i want | i'd like | "
    "i would like) [a | an | the | my | to] | a | an | the | my | my car was | it was my";

constexpr const char* kDigitWords[] = {"zero", "oh",    "one",   "two",  "three",  "four",  "five",
                                       "six",  "seven", "eight", "nine", "double", "triple"};
constexpr const char* kYesNoWords[] = {"yes",  "yeah", "yep",     "correct",    "right", "sure",
                                       "no",   "nope", "wrong",   "incorrect",  "not",   "that's",
                                       "it's", "is",   "exactly", "absolutely", "that"};

// Shared rules for number words.
constexpr char kNumberRules[] =
    "<unit> = one | two | three | four | five | six | seven | eight | nine;\n"
    "<teen> = ten | eleven | twelve | thirteen | fourteen | fifteen | sixteen | seventeen | "
    "eighteen | nineteen;\n"
    "<tens> = twenty | thirty | forty | fifty | sixty | seventy | eighty | ninety;\n"
    "<n99> = <unit> | <teen> | <tens> [<unit>];\n";

template <size_t N>
std::string Alternatives(const char* const (&words)[N]) {
  std::set<std::string> sorted(std::begin(words), std::end(words));
  std::string out;
  for (const auto& w : sorted) out += (out.empty() ? "" : " | ") + w;
  return out;
}

std::string Header(const std::string& name) { return "#JSGF V1.0;\ngrammar " + name + ";\n"; }

// [hesitation] [lead [hesitation]] answer [tail]
std::string Frame(const std::string& name, const std::string& answer, const std::string& leads,
                  const std::string& tails, const std::string& rules) {
  return Header(name) + "public <utterance> = [<hesitation>] [<lead> [<hesitation>]] " + answer +
         " [<tail>];\n<hesitation> = " + kHesitation + ";\n<lead> = " + leads +
         ";\n<tail> = " + tails + ";\n" + rules;
}

std::string NumberGrammar() {
  return Frame("number", "<number>", kNumberLeads, kNumberTails,
               std::string(kNumberRules) +
                   "<about> = about | around | roughly | approximately | maybe | almost | over | "
                   "under | exactly;\n"
                   "<n999> = [a | <n99>] hundred [[and] <n99>] | <n99>;\n"
                   "<n6> = [a | <n999>] thousand [[and] <n999>] | <n999>;\n"
                   "<whole> = [a | <n999>] million [[and] <n6>] | <n6> | zero;\n"
                   "<decimals> = point (zero | oh | <unit>)+;\n"
                   "<number> = <whole> [<decimals> | and a half] | <decimals> | <n999> (k | "
                   "grand);\n");
}

std::string DateGrammar() {
  return Frame(
      "date", "<date>", kDateLeads, kDateTails,
      std::string(kNumberRules) +
          "<month> = january | february | march | april | may | june | july | august | "
          "september | october | november | december;\n"
          "<first9> = first | second | third | fourth | fifth | sixth | seventh | eighth | "
          "ninth;\n"
          "<ordinal> = <first9> | tenth | eleventh | twelfth | thirteenth | fourteenth | "
          "fifteenth | sixteenth | seventeenth | eighteenth | nineteenth | twentieth | twenty "
          "<first9> | thirtieth | thirty first;\n"
          "<day> = <ordinal> | <unit> | <teen> | twenty [<unit>] | thirty [one];\n"
          "<year> = (eighteen | nineteen | twenty) (<tens> [<unit>] | <teen> | oh <unit> | "
          "hundred) | two thousand [[and] <n99>] | <tens> [<unit>];\n"
          "<weekday> = monday | tuesday | wednesday | thursday | friday | saturday | sunday;\n"
          "<count> = a | <n99>;\n"
          "<unitname> = day | days | week | weeks | month | months;\n"
          "<relative> = today | yesterday | tomorrow | the day (before yesterday | after "
          "tomorrow) | [last | next | this [past | coming]] <weekday> | <count> <unitname> "
          "(ago | from now) | in <count> <unitname>;\n"
          "<date> = <month> [the] <day> [[of] <year>] | [the] <ordinal> of <month> [<year>] | "
          "the <ordinal> | <relative>;\n");
}

// Lower-case words of a phrase, or "" if a word cannot be in the pronunciation dictionary.
std::string GrammarPhrase(const std::string& phrase) {
  const std::vector<std::string> words = Words(phrase);
  for (const auto& w : words) {
    if (!std::all_of(w.begin(), w.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || c == '\''; })) {
      return "";
    }
  }
  return Join(words);
}

std::string EnumerationGrammar(const SlotSpec& spec) {
  std::set<std::string> phrases;
  for (const SlotChoice& c : spec.choices) {
    for (const auto& p : ChoicePhrases(c)) {
      if (std::string g = GrammarPhrase(p); !g.empty()) phrases.insert(g);
    }
  }
  if (phrases.empty()) return "";
  std::string alternatives;
  for (const auto& p : phrases) alternatives += (alternatives.empty() ? "" : " | ") + p;
  return Frame("enumeration", "(" + alternatives + ")", kChoiceLeads, kThanks, "");
}

}  // namespace

const std::vector<std::string>& SlotTypes() {
  static const std::vector<std::string> kTypes = {"digits", "number", "date",        "yes_no",
                                                  "name",   "email",  "enumeration", "text"};
  return kTypes;
}

bool IsSlotType(std::string_view type) {
  const auto& types = SlotTypes();
  return std::find(types.begin(), types.end(), type) != types.end();
}

std::string CheckSlotSpec(const SlotSpec& spec) {
  if (!IsSlotType(spec.type)) {
    std::string all;
    for (const auto& t : SlotTypes()) all += (all.empty() ? "" : ", ") + t;
    return "unknown slot type \"" + spec.type + "\" (one of: " + all + ")";
  }
  if (spec.min_length < 0) return "min_length < 0";
  if (spec.min_length > spec.max_length) return "min_length > max_length";
  if (spec.type == "digits" && spec.min_length < 1) return "digits need min_length >= 1";
  if (spec.min && spec.max && *spec.min > *spec.max) return "min > max";
  if ((spec.min || spec.max) && spec.type != "number") return "min / max apply to number slots";
  if (!spec.date_range.empty() && spec.date_range != "past" && spec.date_range != "future") {
    return "date_range must be past or future (or empty), not \"" + spec.date_range + "\"";
  }
  if (!spec.date_range.empty() && spec.type != "date") return "date_range applies to date slots";
  if (spec.type != "enumeration") {
    return spec.choices.empty() ? "" : "choices apply to enumeration slots";
  }
  if (spec.choices.empty()) return "enumeration needs choices";
  std::map<std::string, std::string> owner;  // phrase -> choice value
  std::set<std::string> values;
  for (const SlotChoice& c : spec.choices) {
    if (Words(c.value).empty()) return "enumeration choice without a value";
    if (!values.insert(c.value).second) return "enumeration choice \"" + c.value + "\" twice";
    for (const auto& phrase : ChoicePhrases(c)) {
      auto [it, inserted] = owner.emplace(phrase, c.value);
      if (!inserted && it->second != c.value) {
        return "\"" + phrase + "\" selects both " + it->second + " and " + c.value;
      }
    }
  }
  return "";
}

std::string SlotGrammar(const SlotSpec& spec) {
  if (spec.type == "digits") {
    return Frame("digits", "<digit>+", kDigitLeads, kThanks,
                 "<digit> = " + Alternatives(kDigitWords) + ";\n");
  }
  if (spec.type == "yes_no") {
    return Header("yes_no") + "public <utterance> = [<hesitation>] <word>+ [<tail>];\n" +
           "<hesitation> = " + kHesitation + ";\n<tail> = " + kThanks +
           ";\n<word> = " + Alternatives(kYesNoWords) + ";\n";
  }
  if (spec.type == "number") return NumberGrammar();
  if (spec.type == "date") return DateGrammar();
  if (spec.type == "enumeration") return EnumerationGrammar(spec);
  return "";
}

SlotParse ParseSlot(const SlotSpec& spec, std::string_view text, CalendarDate today) {
  if (std::string problem = CheckSlotSpec(spec); !problem.empty()) {
    return Fail("This question is set up wrongly: " + problem + ".");
  }
  const std::string& type = spec.type;
  if (type == "digits") return ParseDigitsSlot(spec, text);
  if (type == "number") return ParseNumberSlot(spec, text);
  if (type == "date") return ParseDate(text, spec.date_range, today);
  if (type == "yes_no") return ParseYesNoSlot(text);
  if (type == "name") return ParseNameSlot(spec, text);
  if (type == "email") return ParseEmailSlot(text);
  if (type == "enumeration") return ParseEnumerationSlot(spec, text);
  return ParseTextSlot(spec, text);
}

}  // namespace artagent::agent
