#pragma once
// Typed slots of the embedded flow model: reading a value of a declared type out of what the
// caller said (pocketsphinx transcripts: lower-case words, numbers as words, homophones such as
// "for"/"four", "to"/"two", "oh" for zero, "won" for one) or typed (web chat, DTMF), saying it
// back, and the recognition grammar that makes pocketsphinx hear such answers well.
//
// Independent of the YAML structs: agent_config.cc fills a SlotSpec, the flow model calls
// ParseSlot() on each caller turn and SlotGrammar() when it enters a node. Everything here is pure
// and thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace artagent::agent {

// One value of an enumeration slot. The value's own words ("auto_glass" -> "auto glass") always
// select it; `keywords` are further words or phrases that do.
struct SlotChoice {
  std::string value;
  std::vector<std::string> keywords;
};

struct SlotSpec {
  std::string type;    // digits | number | date | yes_no | name | email | enumeration | text
  int min_length = 1;  // digits: number of digits; text / name: characters
  int max_length = 32;
  std::optional<double> min, max;   // number: inclusive bounds
  std::vector<SlotChoice> choices;  // enumeration
  std::string date_range;  // date: "" any | "past" (not after today) | "future" (not before)
};

struct SlotValue {
  // Normalised value: "4567" (digits: a string, leading zeros kept), 2500 or 3.5 (number),
  // "1985-03-15" (date, ISO 8601), true (yes_no), "John Smith" (name), "john.smith@example.com"
  // (email), "collision" (enumeration: the choice's value), "free text as said" (text).
  nlohmann::json value;
  // How the agent reads it back, written so that any TTS (flite included) says it well:
  // "4, 5, 6, 7"; "two thousand five hundred"; "March 3rd, 1985"; "yes"; "John Smith";
  // "john dot smith at example dot com"; "auto glass"; the text itself.
  std::string spoken;
};

struct SlotParse {
  std::optional<SlotValue> value;
  // Set when there is no value: a short English sentence the agent can say before asking again
  // ("I heard 3 digits; I need 8.", "There is no February 30th.").
  std::string problem;
};

struct CalendarDate {
  int year = 0;
  int month = 0;  // 1..12
  int day = 0;    // 1..31
};

// The slot types above, in that order.
const std::vector<std::string>& SlotTypes();
bool IsSlotType(std::string_view type);

// Reads a value of `spec.type` from `text` (a transcript or typed text). `today` resolves relative
// and incomplete dates ("yesterday", "last friday", "march third" without a year, "the 3rd").
//
// What each type accepts:
// * digits: digit words and numerals ("four five six seven", "double five", "oh", "4 5 6 7",
//   "4567"), DTMF strings ("1234#": '#' ends the entry, '*' is ignored); homophones ("for", "to",
//   "won", "ate", "oh") only next to other digits. Length within [min_length, max_length].
// * number: "twenty five hundred", "two thousand five hundred and twelve", "a hundred", "3.5",
//   "three point five", "2,500", "fifteen k" / "15k" / "fifteen grand", "two and a half";
//   within [min, max]. Two different numbers in one answer are a problem, not a guess.
// * date: "march third", "the third of march", "march 3rd 1985", "march third nineteen eighty
//   five", "3rd march", "03/15/1985" (month first unless the first number is above 12),
//   "1985-03-15", "today", "yesterday", "the day before yesterday", "last tuesday", "next
//   friday", "two days ago", "in three weeks", "the 3rd" (this month or the nearest valid one in
//   the range's direction). Years as words ("nineteen eighty five", "two thousand three", "twenty
//   twenty four") or two digits ("eighty five": the latest such year not after this year; in a
//   "future" range the 2000s). A missing year is the most recent past occurrence for "past", the
//   next one for "future", this year otherwise; a bare weekday likewise (this week's for "").
//   Dates that do not exist and dates outside date_range are problems. Numbers-only spoken dates
//   ("three fifteen eighty five") are not accepted: they are ambiguous.
// * yes_no: ParseYesNo() (slots.h).
// * name: fillers stripped ("my name is", "it's", "this is", "i am", "uh"), spelled letters
//   joined ("j o h n" -> "John"; "smith s m i t h" -> "Smith"), 1-4 words, title case, length in
//   characters within [min_length, max_length].
// * email: typed addresses as they are; spoken ones from "at", "dot", "underscore", "dash" /
//   "hyphen", "plus", digit words, spelled letters ("j smith at gmail dot com"); the result must
//   look like an address (one '@', a dotted domain with a top-level part of 2+ letters).
// * enumeration: the choice whose value or keywords occur as whole words or phrases; a phrase
//   inside a longer phrase of another choice does not count ("car" vs "car rental"). Two choices
//   hit equally often -> no value, and the problem names them.
// * text: the text as said (trimmed, single spaces), length within [min_length, max_length].
// Unknown types and invalid specs give a problem (see CheckSlotSpec).
SlotParse ParseSlot(const SlotSpec& spec, std::string_view text, CalendarDate today);

// A complete JSGF grammar ("#JSGF V1.0;\ngrammar <type>;\npublic <utterance> = ...") for the
// closed types (digits, number, date, yes_no, enumeration): the answer inside an optional
// hesitation ("uh"), lead-in ("it was on", "my policy number is", "i had a") and closing phrase
// ("thank you"), every word from the CMU dictionary pocketsphinx ships. Enumeration words come
// from the spec: keywords with digits or symbols are left out, and the caller must make sure the
// others are in the dictionary (UseGrammar names missing words). "" for the open types (name,
// email, text) and for an enumeration without usable words.
std::string SlotGrammar(const SlotSpec& spec);

// What is wrong with `spec` ("unknown slot type \"dat\"", "enumeration needs choices",
// "min_length > max_length", "min > max", ...), "" when it is valid.
std::string CheckSlotSpec(const SlotSpec& spec);

// Days in `month` of `year` (Gregorian), 0 for an invalid month.
int DaysInMonth(int year, int month);

}  // namespace artagent::agent
