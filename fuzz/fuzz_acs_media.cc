// ACS media-streaming frames: ParseMediaMessage (what ACS sends us) and ParseOutboundMessage (what
// the simulator reads from the server) on any text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "transport/acs/acs_media.h"

using namespace artagent::transport::acs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  MediaError error;
  auto message = ParseMediaMessage(text, &error);
  if (!message && error.code.empty()) std::abort();
  if (message) {
    if (auto* audio = std::get_if<AudioData>(&*message)) {
      if (audio->pcm.size() * 2 > kMaxAudioPacketBytes) std::abort();
    }
  }
  MediaError outbound_error;
  auto outbound = ParseOutboundMessage(text, &outbound_error);
  if (!outbound && outbound_error.code.empty()) std::abort();
  return 0;
}
