#pragma once
// ACS bidirectional media streaming (protocols.md §2): the JSON text frames ACS sends on the media
// WebSocket (AudioMetadata, AudioData, DtmfData; transcription kinds are recognised and ignored)
// and the two we send back (AudioData, StopAudio). Pure functions, no I/O.
//
// Inbound names are matched case-insensitively (the service's own samples use both camelCase and
// PascalCase); outbound frames use camelCase as the SDKs do.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "audio/pcm.h"

namespace artagent::transport::acs {

// Formats ACS can stream: pcm16KMono (default) and pcm24KMono.
constexpr int kAcsDefaultSampleRate = 16000;
bool IsSupportedAcsRate(int sample_rate);
// "pcm16KMono" / "pcm24KMono" <-> 16000 / 24000. 0 for an unknown name.
int AcsAudioFormatRate(std::string_view audio_format);
std::string AcsAudioFormatName(int sample_rate);

// Largest audio packet accepted: one second at 24 kHz (ACS sends 20 ms).
constexpr size_t kMaxAudioPacketBytes = 48000;

struct AudioMetadata {
  std::string subscription_id;
  std::string encoding;  // "PCM"
  int sample_rate = 0;   // 16000 | 24000
  int channels = 0;      // 1
  int length = 0;        // bytes per packet (640 = 20 ms at 16 kHz)
};

struct AudioData {
  std::string timestamp;           // ISO-8601 UTC
  std::string participant_raw_id;  // "participantRawID" on the wire
  audio::Samples pcm;              // decoded, mono PCM16 at the stream's rate
  bool silent = false;
};

struct DtmfData {
  char digit = 0;  // one of 0-9 * # A-D
};

// TranscriptionMetadata / TranscriptionData and other kinds we do not use: accepted, ignored.
struct IgnoredMedia {
  std::string kind;
};

using MediaMessage = std::variant<AudioMetadata, AudioData, DtmfData, IgnoredMedia>;

struct MediaError {
  std::string code;  // "invalid_json" | "missing_kind" | "unknown_kind" | "invalid_audio" |
                     // "invalid_metadata" | "invalid_dtmf"
  std::string message;
};

// Parses one text frame. Returns nullopt and fills *error for malformed input: bad JSON, no kind,
// an unknown kind, base64 garbage, an odd byte count or an oversized packet, metadata with an
// unsupported rate/encoding/channel count, a DTMF frame that is not exactly one tone.
std::optional<MediaMessage> ParseMediaMessage(std::string_view text, MediaError* error);

// {"kind":"AudioData","audioData":{"data":"<base64>"},"stopAudio":null}
std::string EncodeAudioData(std::span<const int16_t> pcm);
// {"kind":"StopAudio","audioData":null,"stopAudio":{}}
std::string EncodeStopAudio();

// Builders for the ACS side (the simulator and tests).
std::string EncodeAudioMetadata(const AudioMetadata& metadata);
std::string EncodeInboundAudio(std::span<const int16_t> pcm, bool silent,
                               std::string_view timestamp = "",
                               std::string_view participant_raw_id = "");
std::string EncodeDtmf(char digit);

// What we send, parsed back (the simulator's view of our frames).
struct OutboundAudio {
  audio::Samples pcm;
};
struct OutboundStop {};
using OutboundMessage = std::variant<OutboundAudio, OutboundStop>;
std::optional<OutboundMessage> ParseOutboundMessage(std::string_view text, MediaError* error);

}  // namespace artagent::transport::acs
