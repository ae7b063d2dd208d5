#pragma once
// Small ASCII string helpers shared by the parsers of headers, connection strings and URLs.

#include <string>
#include <string_view>

namespace artagent::core {

// ASCII lower case ("Content-Type" -> "content-type"); other bytes unchanged.
std::string AsciiLower(std::string_view s);
// Without leading and trailing whitespace (std::isspace in the C locale).
std::string_view TrimWhitespace(std::string_view s);

}  // namespace artagent::core
