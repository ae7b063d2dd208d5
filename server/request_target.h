#pragma once
// Parsing of HTTP request targets: percent-decoding and query strings. Pure functions, no I/O.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace artagent::server {

// Decodes %XX escapes; with `plus_as_space` a '+' becomes ' ' (form-encoded query strings).
// Returns nullopt for a malformed escape ("%4", "%zz") or an encoded NUL unless `allow_nul`.
std::optional<std::string> PercentDecode(std::string_view text, bool plus_as_space,
                                         bool allow_nul = false);

struct RequestTarget {
  std::string path;                                        // decoded, starts with '/'
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
};

// Splits an origin-form target ("/a%20b?x=1&y=two+words") into its decoded path and query
// parameters. A parameter without '=' has an empty value; empty pieces ("a=1&&b=2") are skipped.
// Returns nullopt if the target does not start with '/' or an escape is malformed.
std::optional<RequestTarget> ParseRequestTarget(std::string_view target);

}  // namespace artagent::server
