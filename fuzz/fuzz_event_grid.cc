// Event Grid deliveries (IncomingCall, subscription validation) and the webhook Origin check.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "transport/acs/event_grid.h"

using namespace artagent::transport::acs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto delivery = ParseEventGridDelivery(text);
  if (delivery.ok() && delivery->validation) {
    (void)ValidationResponseBody(*delivery->validation);
  }
  // The same bytes as a WebHook-Request-Origin header, against an allow-list and against none.
  (void)AllowedWebhookOrigin(text, {});
  (void)AllowedWebhookOrigin(text, {"eventgrid.azure.net", "example.org"});
  return 0;
}
