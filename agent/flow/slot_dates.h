#pragma once
// Dates said or typed by callers, for date slots (agent/flow/slot_types.h lists what is
// understood), and the calendar arithmetic behind them (proleptic Gregorian calendar).

#include <string>
#include <string_view>

#include "agent/flow/slot_types.h"

namespace artagent::agent {

// Days since 1970-01-01, and back. Any date in years 1..9999 round-trips.
long DaysFromCivil(CalendarDate date);
CalendarDate CivilFromDays(long days);
// 0 = Sunday ... 6 = Saturday.
int Weekday(CalendarDate date);

// "march third" -> 1985-03-03 etc. `range` is SlotSpec::date_range ("", "past" or "future");
// `today` must be a valid date.
SlotParse ParseDate(std::string_view text, std::string_view range, CalendarDate today);

// "March 3rd, 1985".
std::string SpokenDate(CalendarDate date);
// "1985-03-03".
std::string IsoDate(CalendarDate date);

}  // namespace artagent::agent
