#pragma once
// Identifiers: "<prefix>_<20 base62 characters>" (e.g. "sess_4fQ...", "item_...", "resp_..."),
// random, thread-safe, never reused in practice (119 bits).

#include <string>
#include <string_view>

namespace artagent::core {

std::string NewId(std::string_view prefix);

}  // namespace artagent::core
