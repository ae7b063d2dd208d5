// Call Automation callback deliveries (CloudEvents arrays) through ParseCallbackEvents.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "transport/acs/call_events.h"

using namespace artagent::transport::acs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto delivery = ParseCallbackEvents(text);
  if (delivery.ok()) {
    for (const auto& event : delivery->events) {
      if (event.call_connection_id.empty()) std::abort();  // documented: such events go to errors
    }
  }
  return 0;
}
