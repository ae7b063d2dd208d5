#pragma once
// Azure AI Speech wire formats (protocols.md §4), free of any networking: the real-time STT
// WebSocket messages (text frames with header lines, binary audio frames with a 2-byte header
// length), the WAV header that opens each turn's audio, the JSON bodies of speech.config,
// speech.context and the service's results, and the SSML of a TTS request. Used by the providers
// and by the test fake, so both sides share one definition of every byte. Thread-safe.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace artagent::speech::azure {

// 32 uppercase hex characters, random (X-ConnectionId, X-RequestId).
std::string NewRequestId();
// ISO-8601 UTC with milliseconds: "2024-01-02T03:04:05.678Z".
std::string IsoTimestamp(std::chrono::system_clock::time_point t);

// One message of the real-time protocol, either direction. Header names are kept as sent;
// Header() looks them up case-insensitively.
struct SpeechMessage {
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // text body, or the binary payload
  std::string Header(std::string_view name) const;
  std::string path() const { return Header("Path"); }
  std::string request_id() const { return Header("X-RequestId"); }
};

// Text frame: "Path: p\r\nX-RequestId: id\r\nX-Timestamp: ts\r\n[Content-Type: ct\r\n]\r\n" + body.
std::string EncodeTextMessage(std::string_view path, std::string_view request_id,
                              std::string_view timestamp, std::string_view content_type,
                              std::string_view body);
// Binary "audio" frame: 2-byte big-endian header length, the header lines (each ending CRLF, no
// blank line), then `payload`. `content_type` empty: no Content-Type line (raw PCM, end of audio).
std::string EncodeAudioMessage(std::string_view request_id, std::string_view timestamp,
                               std::string_view content_type, std::string_view payload);
// kInvalidArgument for a frame without the blank line / with a malformed header line.
core::Result<SpeechMessage> ParseTextMessage(std::string_view frame);
// kInvalidArgument for a frame shorter than its header length or with a malformed header line.
core::Result<SpeechMessage> ParseAudioMessage(std::string_view frame);

// The 44-byte RIFF header that starts each turn's audio: PCM16 mono at `sample_rate`, both size
// fields 0 (the stream has no known length).
std::string StreamingWavHeader(int sample_rate);

// speech.config body (once per connection): the client's system and OS.
std::string SpeechConfigBody();
// speech.context body (once per turn). With phrase hints it carries the phrase list the SDK sends
// ({"dgi":{"Groups":[{"Type":"Generic","Items":[{"Text":"..."}]}]}}); without, "{}".
std::string SpeechContextBody(const std::vector<std::string>& phrase_hints);

// speech.phrase: RecognitionStatus and DisplayText. NoMatch, InitialSilenceTimeout and
// BabbleTimeout are recognitions of nothing (success, empty text); "Error" (or any status not
// known) is kUnavailable. kInvalidArgument for a body that is not the documented JSON.
struct SpeechPhrase {
  std::string status;       // RecognitionStatus as sent
  std::string text;         // DisplayText ("" for the empty statuses)
  double confidence = 0.0;  // NBest[0].Confidence when the detailed format gives one, else 0.9
};
core::Result<SpeechPhrase> ParseSpeechPhrase(std::string_view body);
// speech.hypothesis / speech.fragment: the Text field ("" when absent).
core::Result<std::string> ParseHypothesisText(std::string_view body);

// Text as the engine interface wants it: lower case, punctuation dropped (apostrophes kept inside
// words), single spaces. "Hello, I'd like to file a claim." -> "hello i'd like to file a claim".
std::string NormalizeTranscript(std::string_view display_text);

// TTS voice selection from an agent's or session's voice name:
//   "en-US-AriaNeural"            -> that voice
//   "azure:en-US-AriaNeural"      -> that voice
//   "en-US-AriaNeural:cheerful"   -> that voice, style "cheerful" (mstts:express-as)
//   "" or an embedded engine's name without a locale ("slt", "kal16") -> `default_voice`
// The voice's locale (its first two dash-separated parts) becomes the SSML language.
struct AzureVoice {
  std::string name;
  std::string style;
  std::string language;
};
AzureVoice ResolveVoice(std::string_view requested, std::string_view default_voice);

// Escapes & < > " ' for XML text and attribute values.
std::string XmlEscape(std::string_view text);
// The SSML document of one request: <speak> with the mstts namespace, <voice>, optional
// <mstts:express-as style>, and <prosody rate> when `rate` is not 1 (as a relative percentage).
std::string BuildSsml(std::string_view text, const AzureVoice& voice, double rate);

}  // namespace artagent::speech::azure
