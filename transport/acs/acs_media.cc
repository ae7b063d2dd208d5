#include "transport/acs/acs_media.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "core/base64.h"

namespace artagent::transport::acs {
namespace {

using nlohmann::json;

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Member `name` of `obj`, matched case-insensitively; nullptr if absent or `obj` is no object.
const json* Member(const json& obj, std::string_view name) {
  if (!obj.is_object()) return nullptr;
  auto exact = obj.find(std::string(name));
  if (exact != obj.end()) return &*exact;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (EqualsNoCase(it.key(), name)) return &it.value();
  }
  return nullptr;
}

std::string StringMember(const json& obj, std::string_view name) {
  const json* v = Member(obj, name);
  return v && v->is_string() ? v->get<std::string>() : std::string();
}

bool Fail(MediaError* error, std::string code, std::string message) {
  if (error) *error = MediaError{std::move(code), std::move(message)};
  return false;
}

// Decodes base64 PCM16 into `out`, rejecting garbage, odd sizes and oversized packets.
bool DecodePcm(std::string_view b64, audio::Samples* out, MediaError* error) {
  if (b64.size() > (kMaxAudioPacketBytes / 3 + 1) * 4) {
    return Fail(error, "invalid_audio",
                "audio packet larger than " + std::to_string(kMaxAudioPacketBytes) + " bytes");
  }
  std::vector<uint8_t> bytes;
  if (!core::Base64Decode(b64, &bytes)) {
    return Fail(error, "invalid_audio", "audioData.data is not valid base64");
  }
  if (bytes.size() % 2 != 0) {
    return Fail(error, "invalid_audio",
                "audioData.data has " + std::to_string(bytes.size()) +
                    " bytes; PCM16 needs an even number");
  }
  out->clear();
  audio::BytesToSamples(bytes, out);
  return true;
}

char ToneChar(std::string_view s) {
  if (s.size() == 1) {
    char c = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    if ((c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D')) return c;
    return 0;
  }
  // Call Automation's tone names, in case a gateway forwards them spelled out.
  static constexpr std::pair<std::string_view, char> kNames[] = {
      {"zero", '0'},  {"one", '1'},  {"two", '2'},   {"three", '3'},
      {"four", '4'},  {"five", '5'}, {"six", '6'},   {"seven", '7'},
      {"eight", '8'}, {"nine", '9'}, {"pound", '#'}, {"asterisk", '*'},
      {"a", 'A'},     {"b", 'B'},    {"c", 'C'},     {"d", 'D'}};
  for (const auto& [name, c] : kNames) {
    if (EqualsNoCase(name, s)) return c;
  }
  return 0;
}

}  // namespace

bool IsSupportedAcsRate(int sample_rate) { return sample_rate == 16000 || sample_rate == 24000; }

int AcsAudioFormatRate(std::string_view audio_format) {
  if (EqualsNoCase(audio_format, "pcm16KMono")) return 16000;
  if (EqualsNoCase(audio_format, "pcm24KMono")) return 24000;
  return 0;
}

std::string AcsAudioFormatName(int sample_rate) {
  return sample_rate == 24000 ? "pcm24KMono" : "pcm16KMono";
}

std::optional<MediaMessage> ParseMediaMessage(std::string_view text, MediaError* error) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    Fail(error, "invalid_json", "a media frame must be one JSON object");
    return std::nullopt;
  }
  const std::string kind = StringMember(j, "kind");
  if (kind.empty()) {
    Fail(error, "missing_kind", "the media frame has no \"kind\"");
    return std::nullopt;
  }
  if (EqualsNoCase(kind, "AudioData")) {
    const json* body = Member(j, "audioData");
    if (!body || !body->is_object()) {
      Fail(error, "invalid_audio", "AudioData without an \"audioData\" object");
      return std::nullopt;
    }
    AudioData out;
    out.timestamp = StringMember(*body, "timestamp");
    out.participant_raw_id = StringMember(*body, "participantRawID");
    if (const json* s = Member(*body, "silent"); s && s->is_boolean()) out.silent = s->get<bool>();
    const json* data = Member(*body, "data");
    if (data && !data->is_string() && !data->is_null()) {
      Fail(error, "invalid_audio", "audioData.data must be a base64 string");
      return std::nullopt;
    }
    if (data && data->is_string()) {
      if (!DecodePcm(data->get_ref<const std::string&>(), &out.pcm, error)) return std::nullopt;
    } else if (!out.silent) {
      Fail(error, "invalid_audio", "AudioData without \"data\" (and not silent)");
      return std::nullopt;
    }
    return MediaMessage(std::move(out));
  }
  if (EqualsNoCase(kind, "AudioMetadata")) {
    const json* body = Member(j, "audioMetadata");
    if (!body || !body->is_object()) {
      Fail(error, "invalid_metadata", "AudioMetadata without an \"audioMetadata\" object");
      return std::nullopt;
    }
    AudioMetadata m;
    m.subscription_id = StringMember(*body, "subscriptionId");
    m.encoding = StringMember(*body, "encoding");
    auto int_member = [&](std::string_view name, int fallback) {
      const json* v = Member(*body, name);
      // Out-of-range values become -1 (rejected below), not a wrapped int.
      if (!v || !v->is_number_integer()) return fallback;
      const int64_t x = v->get<int64_t>();
      return x < 0 || x > 1000000 ? -1 : static_cast<int>(x);
    };
    m.sample_rate = int_member("sampleRate", 0);
    m.channels = int_member("channels", 1);
    m.length = int_member("length", 0);
    if (!m.encoding.empty() && !EqualsNoCase(m.encoding, "PCM")) {
      Fail(error, "invalid_metadata", "unsupported encoding '" + m.encoding + "' (PCM only)");
      return std::nullopt;
    }
    if (!IsSupportedAcsRate(m.sample_rate)) {
      Fail(error, "invalid_metadata",
           "unsupported sampleRate " + std::to_string(m.sample_rate) + " (16000 or 24000)");
      return std::nullopt;
    }
    if (m.channels != 1) {
      Fail(error, "invalid_metadata",
           "unsupported channels " + std::to_string(m.channels) + " (mono only)");
      return std::nullopt;
    }
    if (m.length < 0 || m.length % 2 != 0 || static_cast<size_t>(m.length) > kMaxAudioPacketBytes) {
      Fail(error, "invalid_metadata", "invalid packet length " + std::to_string(m.length));
      return std::nullopt;
    }
    return MediaMessage(std::move(m));
  }
  if (EqualsNoCase(kind, "DtmfData")) {
    const json* body = Member(j, "dtmfData");
    const std::string data = body ? StringMember(*body, "data") : std::string();
    const char c = ToneChar(data);
    if (!c) {
      Fail(error, "invalid_dtmf",
           "dtmfData.data must be one tone (0-9, *, #, A-D), got '" + data.substr(0, 16) + "'");
      return std::nullopt;
    }
    return MediaMessage(DtmfData{c});
  }
  if (EqualsNoCase(kind, "TranscriptionMetadata") || EqualsNoCase(kind, "TranscriptionData")) {
    return MediaMessage(IgnoredMedia{kind});
  }
  Fail(error, "unknown_kind", "unknown media frame kind '" + kind.substr(0, 64) + "'");
  return std::nullopt;
}

std::string EncodeAudioData(std::span<const int16_t> pcm) {
  std::vector<uint8_t> bytes;
  bytes.reserve(pcm.size() * 2);
  audio::SamplesToBytes(pcm, &bytes);
  std::string out = R"({"kind":"AudioData","audioData":{"data":")";
  out += core::Base64Encode(bytes.data(), bytes.size());
  out += R"("},"stopAudio":null})";
  return out;
}

std::string EncodeStopAudio() { return R"({"kind":"StopAudio","audioData":null,"stopAudio":{}})"; }

std::string EncodeAudioMetadata(const AudioMetadata& m) {
  return json{{"kind", "AudioMetadata"},
              {"audioMetadata",
               {{"subscriptionId", m.subscription_id},
                {"encoding", m.encoding.empty() ? "PCM" : m.encoding},
                {"sampleRate", m.sample_rate},
                {"channels", m.channels},
                {"length", m.length}}}}
      .dump();
}

std::string EncodeInboundAudio(std::span<const int16_t> pcm, bool silent,
                               std::string_view timestamp, std::string_view participant_raw_id) {
  std::vector<uint8_t> bytes;
  audio::SamplesToBytes(pcm, &bytes);
  return json{{"kind", "AudioData"},
              {"audioData",
               {{"timestamp", timestamp},
                {"participantRawID", participant_raw_id},
                {"data", core::Base64Encode(bytes.data(), bytes.size())},
                {"silent", silent}}}}
      .dump();
}

std::string EncodeDtmf(char digit) {
  return json{{"kind", "DtmfData"}, {"dtmfData", {{"data", std::string(1, digit)}}}}.dump();
}

std::optional<OutboundMessage> ParseOutboundMessage(std::string_view text, MediaError* error) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    Fail(error, "invalid_json", "a media frame must be one JSON object");
    return std::nullopt;
  }
  const std::string kind = StringMember(j, "kind");
  if (EqualsNoCase(kind, "StopAudio")) return OutboundMessage(OutboundStop{});
  if (EqualsNoCase(kind, "AudioData")) {
    const json* body = Member(j, "audioData");
    const json* data = body ? Member(*body, "data") : nullptr;
    if (!data || !data->is_string()) {
      Fail(error, "invalid_audio", "AudioData without audioData.data");
      return std::nullopt;
    }
    OutboundAudio out;
    if (!DecodePcm(data->get_ref<const std::string&>(), &out.pcm, error)) return std::nullopt;
    return OutboundMessage(std::move(out));
  }
  Fail(error, kind.empty() ? "missing_kind" : "unknown_kind",
       "unexpected outbound kind '" + kind.substr(0, 64) + "'");
  return std::nullopt;
}

}  // namespace artagent::transport::acs
