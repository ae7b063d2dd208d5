#include "agent/flow/slot_dates.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>

#include "agent/flow/slots.h"

namespace artagent::agent {
namespace {

constexpr const char* kMonths[] = {"january",   "february", "march",    "april",
                                   "may",       "june",     "july",     "august",
                                   "september", "october",  "november", "december"};
constexpr const char* kWeekdays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                     "thursday", "friday", "saturday"};
// Ordinal words for days 1..31; "twenty first" etc. are built from the first nine.
constexpr const char* kOrdinals[] = {
    "",           "first",     "second",    "third",       "fourth",     "fifth",      "sixth",
    "seventh",    "eighth",    "ninth",     "tenth",       "eleventh",   "twelfth",    "thirteenth",
    "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth"};

enum class Range { kAny, kPast, kFuture };

int IndexOf(const char* const* table, int n, std::string_view w) {
  for (int i = 0; i < n; ++i) {
    if (w == table[i]) return i;
  }
  return -1;
}

int MonthOf(std::string_view w) {
  int m = IndexOf(kMonths, 12, w);
  if (m >= 0) return m + 1;
  if (w == "sept") return 9;
  return 0;
}

int WeekdayOf(std::string_view w) { return IndexOf(kWeekdays, 7, w); }

bool AllDigits(std::string_view w) {
  return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

// Ordinal word 1..20 ("forth" is how recognizers often write "fourth"), 0 if not one.
int OrdinalWord(std::string_view w) {
  if (w == "forth") return 4;
  int i = IndexOf(kOrdinals, 21, w);
  return i > 0 ? i : 0;
}

int SmallCardinal(std::string_view w) {  // 1..19
  static const char* kWords[] = {"",        "one",     "two",       "three",    "four",
                                 "five",    "six",     "seven",     "eight",    "nine",
                                 "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                 "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
  int i = IndexOf(kWords, 20, w);
  return i > 0 ? i : 0;
}

struct DayMatch {
  int day = 0;
  size_t length = 0;  // tokens
  bool ordinal = false;
};

// A day of the month at tokens[k]: "third", "twenty first", "thirtieth", "3rd", "3", "three",
// "twenty three".
std::optional<DayMatch> DayAt(const std::vector<std::string>& t, size_t k) {
  if (k >= t.size()) return std::nullopt;
  const std::string& w = t[k];
  const std::string next = k + 1 < t.size() ? t[k + 1] : "";
  auto valid = [](DayMatch m) -> std::optional<DayMatch> {
    if (m.day < 1 || m.day > 31) return std::nullopt;
    return m;
  };
  if (AllDigits(w) && w.size() <= 2) return valid({std::atoi(w.c_str()), 1, false});
  if (w.size() >= 3 && w.size() <= 4 && AllDigits(w.substr(0, w.size() - 2))) {
    const std::string suffix = w.substr(w.size() - 2);
    if (suffix == "st" || suffix == "nd" || suffix == "rd" || suffix == "th") {
      return valid({std::atoi(w.c_str()), 1, true});
    }
  }
  if (int o = OrdinalWord(w)) return DayMatch{o, 1, true};
  if (w == "thirtieth") return DayMatch{30, 1, true};
  if (w == "twenty" || w == "thirty") {
    const int base = w == "twenty" ? 20 : 30;
    if (int o = OrdinalWord(next); o > 0 && o < 10) return valid({base + o, 2, true});
    if (int c = SmallCardinal(next); c > 0 && c < 10) {
      if (auto m = valid({base + c, 2, false})) return m;
    }
    return DayMatch{base, 1, false};
  }
  if (int c = SmallCardinal(w)) return DayMatch{c, 1, false};
  return std::nullopt;
}

struct YearMatch {
  int year = 0;
  size_t length = 0;
  bool two_digits = false;
};

// A year at tokens[k]: "1985", "'85", "85", "nineteen eighty five", "two thousand three",
// "twenty twenty four", "eighty five".
std::optional<YearMatch> YearAt(const std::vector<std::string>& t, size_t k) {
  if (k >= t.size()) return std::nullopt;
  std::string w = t[k];
  if (w.size() == 3 && w[0] == '\'' && AllDigits(w.substr(1))) {
    return YearMatch{std::atoi(w.c_str() + 1), 1, true};
  }
  if (AllDigits(w)) {
    const int v = std::atoi(w.c_str());
    if (w.size() == 4 && v >= 1000 && v <= 2999) return YearMatch{v, 1, false};
    if (w.size() == 2) return YearMatch{v, 1, true};
    return std::nullopt;
  }
  auto n = ParseNumberAt(t, k);
  if (!n || n->value != static_cast<int>(n->value)) return std::nullopt;
  const int v = static_cast<int>(n->value);
  if (v >= 1000 && v <= 2999) return YearMatch{v, n->end - k, false};
  if (v >= 10 && v <= 99) return YearMatch{v, n->end - k, true};
  return std::nullopt;
}

bool Valid(CalendarDate d) {
  return d.month >= 1 && d.month <= 12 && d.day >= 1 && d.day <= DaysInMonth(d.year, d.month);
}

int Compare(CalendarDate a, CalendarDate b) {
  if (a.year != b.year) return a.year < b.year ? -1 : 1;
  if (a.month != b.month) return a.month < b.month ? -1 : 1;
  if (a.day != b.day) return a.day < b.day ? -1 : 1;
  return 0;
}

CalendarDate AddDays(CalendarDate d, long days) { return CivilFromDays(DaysFromCivil(d) + days); }

CalendarDate AddMonths(CalendarDate d, int months) {
  int index = d.year * 12 + (d.month - 1) + months;
  CalendarDate out{index / 12, index % 12 + 1, d.day};
  out.day = std::min(out.day, DaysInMonth(out.year, out.month));
  return out;
}

std::string Ordinal(int n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return std::to_string(n) + suffix;
}

std::string MonthName(int month) {
  std::string name = kMonths[month - 1];
  name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  return name;
}

// What the caller said, before the year or month is filled in from `today`.
struct Candidate {
  bool has_year = false;
  int year = 0;
  bool two_digit_year = false;
  int month = 0;  // 0: not said (day of this month or a neighbouring one)
  int day = 0;
  std::optional<CalendarDate> resolved;  // relative dates are resolved when found
};

class DateReader {
 public:
  DateReader(std::string_view text, Range range, CalendarDate today)
      : t_(NumberTokens(text)), used_(t_.size(), false), range_(range), today_(today) {}

  SlotParse Read() {
    FindTyped();
    FindRelative();
    FindMonthDates();
    FindYearElsewhere();
    FindDaysOnly();
    std::vector<CalendarDate> dates;
    std::string problem;
    for (const Candidate& c : found_) {
      std::string why;
      auto date = Resolve(c, &why);
      if (!date) {
        if (problem.empty()) problem = why;
        continue;
      }
      if (std::none_of(dates.begin(), dates.end(),
                       [&](CalendarDate d) { return Compare(d, *date) == 0; })) {
        dates.push_back(*date);
      }
    }
    SlotParse out;
    if (dates.size() == 1) {
      if (range_ == Range::kPast && Compare(dates[0], today_) > 0) {
        out.problem =
            SpokenDate(dates[0]) + " is in the future; I need a date no later than today.";
      } else if (range_ == Range::kFuture && Compare(dates[0], today_) < 0) {
        out.problem = SpokenDate(dates[0]) + " has passed; I need today or a later date.";
      } else {
        out.value = SlotValue{IsoDate(dates[0]), SpokenDate(dates[0])};
      }
    } else if (dates.size() > 1) {
      out.problem = "I heard more than one date, " + SpokenDate(dates[0]) + " and " +
                    SpokenDate(dates[1]) + "; which one is it?";
    } else if (!problem.empty()) {
      out.problem = problem;
    } else if (month_without_day_ > 0) {
      out.problem = "I heard " + MonthName(month_without_day_) + ", but which day?";
    } else {
      out.problem = "I didn't catch a date. Please say the month and the day.";
    }
    return out;
  }

 private:
  std::string At(size_t k) const { return k < t_.size() ? t_[k] : ""; }
  void Use(size_t begin, size_t end) {
    for (size_t k = begin; k < end && k < t_.size(); ++k) used_[k] = true;
  }
  bool Free(size_t begin, size_t end) const {
    for (size_t k = begin; k < end; ++k) {
      if (k >= t_.size() || used_[k]) return false;
    }
    return true;
  }

  // "1985-03-15", "03/15/1985", "15/03/1985", "15.03.1985", "3/15".
  void FindTyped() {
    for (size_t k = 0; k < t_.size(); ++k) {
      const std::string& w = t_[k];
      char sep = 0;
      for (char c : w) {
        if (c == '/' || c == '-' || c == '.') {
          sep = c;
          break;
        }
      }
      if (sep == 0) continue;
      std::vector<std::string> parts;
      size_t start = 0;
      for (size_t p = 0; p <= w.size(); ++p) {
        if (p == w.size() || w[p] == sep) {
          parts.push_back(w.substr(start, p - start));
          start = p + 1;
        }
      }
      if (parts.size() < 2 || parts.size() > 3 ||
          !std::all_of(parts.begin(), parts.end(), AllDigits)) {
        continue;
      }
      std::vector<int> v;
      for (const auto& p : parts) v.push_back(std::atoi(p.c_str()));
      Candidate c;
      if (parts.size() == 3 && parts[0].size() == 4) {
        c.has_year = true, c.year = v[0], c.month = v[1], c.day = v[2];
      } else {
        // Month first (US) unless that cannot be; dotted dates are day first.
        const bool day_first = sep == '.' || v[0] > 12;
        c.month = day_first ? v[1] : v[0];
        c.day = day_first ? v[0] : v[1];
        if (parts.size() == 3) {
          c.has_year = true;
          c.year = v[2];
          c.two_digit_year = parts[2].size() <= 2;
        }
      }
      if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > 31) continue;
      found_.push_back(c);
      Use(k, k + 1);
    }
  }

  // A count that ends right before tokens[k] ("two", "twenty one", "a", "a couple of").
  std::optional<std::pair<int, size_t>> CountBefore(size_t k) const {
    if (k >= 1 && (At(k - 1) == "a" || At(k - 1) == "an")) return std::pair{1, k - 1};
    if (k >= 3 && At(k - 1) == "of" && At(k - 2) == "couple" && At(k - 3) == "a") {
      return std::pair{2, k - 3};
    }
    for (size_t s = k >= 4 ? k - 4 : 0; s < k; ++s) {
      auto n = ParseNumberAt(t_, s);
      if (n && n->end == k && n->value >= 1 && n->value <= 999 &&
          n->value == static_cast<int>(n->value)) {
        return std::pair{static_cast<int>(n->value), s};
      }
    }
    return std::nullopt;
  }

  std::optional<CalendarDate> Shift(CalendarDate from, const std::string& unit, int n) const {
    if (unit == "day" || unit == "days") return AddDays(from, n);
    if (unit == "week" || unit == "weeks") return AddDays(from, 7L * n);
    if (unit == "month" || unit == "months") return AddMonths(from, n);
    if (unit == "year" || unit == "years") return AddMonths(from, 12 * n);
    return std::nullopt;
  }

  void AddRelative(CalendarDate date, size_t begin, size_t end) {
    Candidate c;
    c.resolved = date;
    found_.push_back(c);
    Use(begin, end);
  }

  void FindRelative() {
    for (size_t k = 0; k < t_.size(); ++k) {
      if (used_[k]) continue;
      const std::string& w = t_[k];
      if (w == "today" || w == "tonight") {
        AddRelative(today_, k, k + 1);
      } else if (w == "yesterday") {
        const bool before = k >= 2 && At(k - 1) == "before" && At(k - 2) == "day";
        AddRelative(AddDays(today_, before ? -2 : -1), before ? k - 2 : k, k + 1);
      } else if (w == "tomorrow") {
        const bool after = k >= 2 && At(k - 1) == "after" && At(k - 2) == "day";
        AddRelative(AddDays(today_, after ? 2 : 1), after ? k - 2 : k, k + 1);
      } else if (w == "ago" && k >= 2) {
        if (auto count = CountBefore(k - 1)) {
          if (auto d = Shift(today_, At(k - 1), -count->first)) {
            AddRelative(*d, count->second, k + 1);
          }
        }
      } else if (w == "now" && k >= 3 && At(k - 1) == "from") {
        if (auto count = CountBefore(k - 2)) {
          if (auto d = Shift(today_, At(k - 2), count->first)) {
            AddRelative(*d, count->second, k + 1);
          }
        }
      } else if (w == "in" && k + 2 < t_.size()) {
        for (size_t unit = k + 2; unit < std::min(t_.size(), k + 5); ++unit) {
          auto count = CountBefore(unit);
          if (count && count->second == k + 1) {
            if (auto d = Shift(today_, At(unit), count->first)) AddRelative(*d, k, unit + 1);
            break;
          }
        }
      } else if (int wd = WeekdayOf(w); wd >= 0) {
        FoundWeekday(k, wd);
      }
    }
  }

  void FoundWeekday(size_t k, int target) {
    const int today_wd = Weekday(today_);
    const std::string before = At(k - 1), before2 = k >= 2 ? At(k - 2) : "";
    enum { kLast, kNext, kThis } which;
    size_t begin = k;
    if (k >= 1 && (before == "last" || before == "past")) {
      which = kLast;
      begin = before == "past" && before2 == "this" ? k - 2 : k - 1;
    } else if (k >= 1 && (before == "next" || before == "coming")) {
      which = kNext;
      begin = before == "coming" && before2 == "this" ? k - 2 : k - 1;
    } else if (k >= 1 && before == "this") {
      which = kThis;
      begin = k - 1;
    } else {
      which = range_ == Range::kPast ? kLast : range_ == Range::kFuture ? kNext : kThis;
    }
    CalendarDate date;
    if (which == kLast) {
      const int delta = (today_wd - target + 7) % 7;
      date = AddDays(today_, -(delta == 0 ? 7 : delta));
    } else if (which == kNext) {
      const int delta = (target - today_wd + 7) % 7;
      date = AddDays(today_, delta == 0 ? 7 : delta);
    } else {  // the week from Monday to Sunday that holds today
      const CalendarDate monday = AddDays(today_, -((today_wd + 6) % 7));
      date = AddDays(monday, (target + 6) % 7);
    }
    AddRelative(date, begin, k + 1);
  }

  // "march third [1985]", "march the 3rd", "the third of march [1985]", "3rd march".
  void FindMonthDates() {
    for (size_t m = 0; m < t_.size(); ++m) {
      const int month = MonthOf(t_[m]);
      if (month == 0 || used_[m]) continue;
      Candidate c;
      c.month = month;
      size_t begin = m, end = m + 1;
      // Day before the month: "the third of march", "3rd march", "twenty first of march".
      size_t k = m;
      const bool of = k >= 1 && At(k - 1) == "of";
      if (of) --k;
      std::optional<DayMatch> before;
      for (size_t len : {2, 1}) {
        if (k < len || !Free(k - len, k)) continue;
        auto d = DayAt(t_, k - len);
        if (d && d->length == len && (d->ordinal || of || AllDigits(t_[k - len]))) {
          before = d;
          begin = k - len;
          break;
        }
      }
      // Day after the month: "march third", "march the 3rd", "march for" (homophones only here).
      std::optional<DayMatch> after;
      size_t d_at = At(m + 1) == "the" ? m + 2 : m + 1;
      if (Free(m + 1, d_at + 1)) {
        after = DayAt(t_, d_at);
        if (!after) {
          static const std::pair<const char*, int> kHomophones[] = {
              {"for", 4}, {"fore", 4}, {"to", 2}, {"too", 2}, {"won", 1}, {"ate", 8}};
          for (const auto& [word, day] : kHomophones) {
            if (At(d_at) == word) after = DayMatch{day, 1, false};
          }
        }
      }
      if (before && (of || !after)) {
        c.day = before->day;
      } else if (after) {
        c.day = after->day;
        end = d_at + after->length;
        begin = m;
      } else {
        month_without_day_ = month;
        continue;
      }
      size_t y_at = end;
      if (At(y_at) == "of" || At(y_at) == "in") ++y_at;
      if (Free(y_at, y_at + 1)) {
        if (auto y = YearAt(t_, y_at)) {
          c.has_year = true;
          c.year = y->year;
          c.two_digit_year = y->two_digits;
          end = y_at + y->length;
        }
      }
      found_.push_back(c);
      Use(begin, end);
    }
  }

  // "born in nineteen eighty five on march third": a year said apart from the one month and day.
  void FindYearElsewhere() {
    if (found_.size() != 1 || found_[0].month == 0 || found_[0].has_year) return;
    for (size_t k = 0; k + 1 < t_.size(); ++k) {
      if (t_[k] != "in" || !Free(k, k + 2)) continue;
      auto y = YearAt(t_, k + 1);
      if (y && !y->two_digits && Free(k + 1, k + 1 + y->length)) {
        found_[0].has_year = true;
        found_[0].year = y->year;
        Use(k, k + 1 + y->length);
        return;
      }
    }
  }

  // "the third", "on the 21st", "the twenty first", a bare "third" or "21st".
  void FindDaysOnly() {
    for (size_t k = 0; k < t_.size(); ++k) {
      if (used_[k]) continue;
      auto d = DayAt(t_, k);
      if (!d || !Free(k, k + d->length)) continue;
      const bool the = k >= 1 && At(k - 1) == "the";
      const bool numeric_ordinal = d->ordinal && std::isdigit(static_cast<unsigned char>(t_[k][0]));
      const bool bare_ordinal = d->ordinal && d->day > 2;  // "first" and "second" mean too much
      if (!(the && (d->ordinal || AllDigits(t_[k]))) && !numeric_ordinal && !bare_ordinal) {
        continue;
      }
      Candidate c;
      c.day = d->day;
      found_.push_back(c);
      Use(the ? k - 1 : k, k + d->length);
    }
  }

  std::optional<CalendarDate> Resolve(const Candidate& c, std::string* why) const {
    if (c.resolved) return c.resolved;
    if (c.month == 0) {  // a day of this month, or of the nearest month in the range's direction
      const int step = range_ == Range::kFuture ? 1 : -1;
      CalendarDate d{today_.year, today_.month, c.day};
      if (step < 0 ? c.day > today_.day : c.day < today_.day) d = AddMonthsKeepDay(d, step);
      for (int i = 0; i < 12 && !Valid(d); ++i) d = AddMonthsKeepDay(d, step);
      if (!Valid(d)) return std::nullopt;
      return d;
    }
    if (c.day > DaysInMonth(2000, c.month)) {
      *why = "There is no " + MonthName(c.month) + " " + Ordinal(c.day) + ".";
      return std::nullopt;
    }
    CalendarDate d{c.year, c.month, c.day};
    if (c.has_year && c.two_digit_year) {
      d.year =
          range_ == Range::kFuture || 2000 + c.year <= today_.year ? 2000 + c.year : 1900 + c.year;
    }
    if (!c.has_year) {
      d.year = today_.year;
      if (range_ == Range::kPast) {
        if (Compare(d, today_) > 0) --d.year;
        for (int i = 0; i < 8 && !Valid(d); ++i) --d.year;
      } else if (range_ == Range::kFuture) {
        if (Compare(d, today_) < 0) ++d.year;
        for (int i = 0; i < 8 && !Valid(d); ++i) ++d.year;
      }
    }
    if (!Valid(d)) {
      *why = std::to_string(d.year) + " has no " + MonthName(d.month) + " " + Ordinal(d.day) + ".";
      return std::nullopt;
    }
    return d;
  }

  static CalendarDate AddMonthsKeepDay(CalendarDate d, int months) {
    int index = d.year * 12 + (d.month - 1) + months;
    return CalendarDate{index / 12, index % 12 + 1, d.day};
  }

  std::vector<std::string> t_;
  std::vector<bool> used_;
  Range range_;
  CalendarDate today_;
  std::vector<Candidate> found_;
  int month_without_day_ = 0;
};

}  // namespace

int DaysInMonth(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Era-based conversions (400-year eras of 146097 days, years starting in March), after the
// well-known days_from_civil / civil_from_days formulation.
long DaysFromCivil(CalendarDate date) {
  const long y = date.year - (date.month <= 2 ? 1 : 0);
  const long era = (y >= 0 ? y : y - 399) / 400;
  const long yoe = y - era * 400;
  const long mp = (date.month + 9) % 12;
  const long doy = (153 * mp + 2) / 5 + date.day - 1;
  const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CalendarDate CivilFromDays(long days) {
  days += 719468;
  const long era = (days >= 0 ? days : days - 146096) / 146097;
  const long doe = days - era * 146097;
  const long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const long mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return CalendarDate{static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0)), month, day};
}

int Weekday(CalendarDate date) {
  const long days = DaysFromCivil(date);
  return static_cast<int>(days >= -4 ? (days + 4) % 7 : (days + 5) % 7 + 6);
}

SlotParse ParseDate(std::string_view text, std::string_view range, CalendarDate today) {
  const Range r = range == "past" ? Range::kPast : range == "future" ? Range::kFuture : Range::kAny;
  return DateReader(text, r, today).Read();
}

std::string SpokenDate(CalendarDate date) {
  return MonthName(date.month) + " " + Ordinal(date.day) + ", " + std::to_string(date.year);
}

std::string IsoDate(CalendarDate date) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", date.year, date.month, date.day);
  return buf;
}

}  // namespace artagent::agent
