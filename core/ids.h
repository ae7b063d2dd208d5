#pragma once
// Identifiers: "<prefix>_<20 base62 characters>" (e.g. "sess_4fQ...", "item_...", "resp_..."),
// random, thread-safe, never reused in practice (119 bits).

#include <cstdint>
#include <string>
#include <string_view>

namespace artagent::core {

std::string NewId(std::string_view prefix);

// A version-4 UUID in lower-case hex ("1b4e28ba-2fa1-41d2-883f-0016d3cca427") made of 122 of the
// given random bits (idempotency keys such as Operation-Id / Repeatability-Request-ID).
std::string UuidFromBits(uint64_t high, uint64_t low);
// The same from a thread-local random generator.
std::string NewUuid();

}  // namespace artagent::core
