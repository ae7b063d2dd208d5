#include "agent/flow/grammar.h"

#include <set>

#include "agent/flow/slot_types.h"
#include "agent/flow/slots.h"

namespace artagent::agent {
namespace {

// Words callers wrap their answers in. All are in the CMU dictionary pocketsphinx ships.
constexpr const char* kCarrierWords[] = {
    "a",     "about", "an",    "and",   "at",     "be",     "been",     "can",  "car",   "do",
    "for",   "get",   "had",   "have",  "hello",  "help",   "hey",      "hi",   "home",  "house",
    "i",     "i'd",   "i'm",   "i've",  "in",     "is",     "it",       "it's", "just",  "know",
    "last",  "like",  "make",  "me",    "my",     "need",   "no",       "number", "of",  "okay",
    "on",    "one",   "our",   "please", "question", "so",  "some",     "sure", "thank", "thanks",
    "that",  "that's", "the",  "there", "think",  "this",   "to",       "uh",   "um",    "want",
    "was",   "we",    "well",  "with",  "would",  "yes",    "you"};

// Around digits only words that cannot be mistaken for one ("to", "for", "oh" would be).
constexpr const char* kDigitCarrierWords[] = {"my",  "policy", "number", "is", "it's", "it",
                                              "the", "uh",     "um",     "account", "claim"};

constexpr const char* kYesNoCarrierWords[] = {"uh", "um", "it", "is", "that", "that's", "it's",
                                              "thank", "you", "thanks"};

constexpr const char* kDigitWords[] = {"zero", "oh",    "one",  "two",   "three", "four", "five",
                                       "six",  "seven", "eight", "nine", "double", "triple"};

constexpr const char* kYesNoWords[] = {"yes",   "yeah", "yep",     "correct", "right", "sure",
                                       "no",    "nope", "wrong",   "incorrect", "not", "that's",
                                       "it's",  "is",   "exactly", "absolutely"};

std::string Alternatives(const std::set<std::string>& items) {
  std::string out;
  for (const auto& w : items) {
    if (!out.empty()) out += " | ";
    out += w;
  }
  return out;
}

// A keyword as JSGF tokens: lower-case words, no punctuation ("That's right!" -> that's right).
std::string Tokens(const std::string& phrase) {
  std::string out;
  for (const auto& w : Words(phrase)) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

template <size_t N>
std::string Wrap(const std::string& name, const std::string& answer_rule,
                 const char* const (&carrier_words)[N]) {
  std::set<std::string> carrier(std::begin(carrier_words), std::end(carrier_words));
  return "#JSGF V1.0;\ngrammar " + name + ";\npublic <utterance> = <carrier>* " + answer_rule +
         " <carrier>*;\n<carrier> = " + Alternatives(carrier) + ";\n";
}

}  // namespace

std::string NodeGrammar(const FlowNode& node) {
  if (node.slot) {
    if (node.slot->spec.type == "digits") {
      std::set<std::string> digits(std::begin(kDigitWords), std::end(kDigitWords));
      return Wrap("digits", "(" + Alternatives(digits) + ")+", kDigitCarrierWords);
    }
    if (node.slot->spec.type == "yes_no") {
      std::set<std::string> yn(std::begin(kYesNoWords), std::end(kYesNoWords));
      return Wrap("yes_no", "(" + Alternatives(yn) + ")+", kYesNoCarrierWords);
    }
    return SlotGrammar(node.slot->spec);  // "" for open types (name, e-mail, free text)
  }
  if (node.answers.empty()) return "";
  std::set<std::string> phrases;
  bool yes_no_only = true;
  for (const auto& a : node.answers) {
    yes_no_only = yes_no_only && (a.name == "yes" || a.name == "no");
    for (const auto& k : a.keywords) {
      std::string t = Tokens(k);
      if (!t.empty()) phrases.insert(t);
    }
    if (a.name == "yes" || a.name == "no") {
      for (const char* w : kYesNoWords) phrases.insert(w);
    }
  }
  if (phrases.empty()) return "";
  if (yes_no_only) return Wrap("yes_no", "(" + Alternatives(phrases) + ")+", kYesNoCarrierWords);
  return Wrap("answers", "(" + Alternatives(phrases) + ")", kCarrierWords);
}

}  // namespace artagent::agent
