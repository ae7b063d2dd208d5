// Realtime client events: ParseClientEvent on any bytes; appended audio through DecodeAudio in each
// wire format. Contract checked: no crash, an error always has a code, PCM16 output is whole.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "transport/realtime/realtime_protocol.h"

using artagent::transport::realtime::AudioAppend;
using artagent::transport::realtime::AudioFormat;
using artagent::transport::realtime::DecodeAudio;
using artagent::transport::realtime::ParseClientEvent;
using artagent::transport::realtime::ProtocolError;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  ProtocolError error;
  auto event = ParseClientEvent(text, &error);
  if (!event && error.code.empty()) std::abort();  // a failure must say why
  // The raw bytes as base64 audio, too: DecodeAudio sees whatever a client appends.
  std::string_view base64 = text;
  if (event) {
    if (auto* append = std::get_if<AudioAppend>(&event->body)) base64 = append->audio_base64;
  }
  for (auto encoding : {AudioFormat::Encoding::kPcm16, AudioFormat::Encoding::kMulaw,
                        AudioFormat::Encoding::kAlaw}) {
    AudioFormat format;
    format.encoding = encoding;
    artagent::audio::Samples samples;
    auto status = DecodeAudio(base64, format, &samples);
    if (!status.ok() && !samples.empty() && encoding == AudioFormat::Encoding::kPcm16) {
      // Not a contract: partial output on error is allowed. Only touch it so ASan sees reads.
      volatile int16_t first = samples.front();
      (void)first;
    }
  }
  return 0;
}
