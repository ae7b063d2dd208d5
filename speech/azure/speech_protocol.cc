#include "speech/azure/speech_protocol.h"

#include <time.h>

#include <cctype>
#include <cmath>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "audio/wav.h"

namespace artagent::speech::azure {
namespace {

using json = nlohmann::json;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Header lines "Name: value" separated by CRLF; a trailing CRLF is allowed.
core::Status ParseHeaderLines(std::string_view block,
                              std::vector<std::pair<std::string, std::string>>* out) {
  while (!block.empty()) {
    size_t end = block.find("\r\n");
    std::string_view line = block.substr(0, end);
    block = end == std::string_view::npos ? std::string_view() : block.substr(end + 2);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return core::InvalidArgumentError("speech message: malformed header line");
    }
    out->emplace_back(std::string(Trim(line.substr(0, colon))),
                      std::string(Trim(line.substr(colon + 1))));
  }
  return core::Status();
}

std::string HeaderBlock(std::string_view path, std::string_view request_id,
                        std::string_view timestamp, std::string_view content_type) {
  std::string h = fmt::format("Path: {}\r\nX-RequestId: {}\r\nX-Timestamp: {}\r\n", path,
                              request_id, timestamp);
  if (!content_type.empty()) h += fmt::format("Content-Type: {}\r\n", content_type);
  return h;
}

}  // namespace

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("{:016X}{:016X}", rng(), rng());
}

std::string IsoTimestamp(std::chrono::system_clock::time_point t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

std::string SpeechMessage::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

std::string EncodeTextMessage(std::string_view path, std::string_view request_id,
                              std::string_view timestamp, std::string_view content_type,
                              std::string_view body) {
  std::string out = HeaderBlock(path, request_id, timestamp, content_type);
  out += "\r\n";
  out += body;
  return out;
}

std::string EncodeAudioMessage(std::string_view request_id, std::string_view timestamp,
                               std::string_view content_type, std::string_view payload) {
  const std::string headers = HeaderBlock("audio", request_id, timestamp, content_type);
  std::string out;
  out.reserve(2 + headers.size() + payload.size());
  out.push_back(static_cast<char>((headers.size() >> 8) & 0xff));
  out.push_back(static_cast<char>(headers.size() & 0xff));
  out += headers;
  out += payload;
  return out;
}

core::Result<SpeechMessage> ParseTextMessage(std::string_view frame) {
  size_t blank = frame.find("\r\n\r\n");
  if (blank == std::string_view::npos) {
    return core::InvalidArgumentError("speech text message: no blank line after the headers");
  }
  SpeechMessage m;
  ARTAGENT_RETURN_IF_ERROR(ParseHeaderLines(frame.substr(0, blank), &m.headers));
  m.body = std::string(frame.substr(blank + 4));
  return m;
}

core::Result<SpeechMessage> ParseAudioMessage(std::string_view frame) {
  if (frame.size() < 2) return core::InvalidArgumentError("speech audio message: no header length");
  const size_t n = (static_cast<uint8_t>(frame[0]) << 8) | static_cast<uint8_t>(frame[1]);
  if (frame.size() < 2 + n) {
    return core::InvalidArgumentError("speech audio message: shorter than its header length");
  }
  SpeechMessage m;
  ARTAGENT_RETURN_IF_ERROR(ParseHeaderLines(frame.substr(2, n), &m.headers));
  m.body = std::string(frame.substr(2 + n));
  return m;
}

std::string StreamingWavHeader(int sample_rate) {
  audio::WavAudio empty;
  empty.sample_rate = sample_rate;
  empty.channels = 1;
  std::vector<uint8_t> bytes = audio::EncodeWav(empty);
  // A stream of unknown length: the RIFF and data sizes are 0, as the Speech SDK sends them.
  for (size_t i : {4, 5, 6, 7, 40, 41, 42, 43}) bytes[i] = 0;
  return std::string(bytes.begin(), bytes.end());
}

std::string SpeechConfigBody() {
  json body = {{"context",
                {{"system",
                  {{"name", "SpeechSDK"},
                   {"version", "1.44.0"},
                   {"build", "JavaScript"},
                   {"lang", "JavaScript"}}},
                 {"os", {{"platform", "Linux"}, {"name", "artagent"}, {"version", "0.1"}}}}}};
  return body.dump();
}

std::string SpeechContextBody(const std::vector<std::string>& phrase_hints) {
  json body = json::object();
  json items = json::array();
  for (const auto& p : phrase_hints) {
    if (!p.empty()) items.push_back({{"Text", p}});
  }
  if (!items.empty()) {
    body["dgi"] = {{"Groups", json::array({{{"Type", "Generic"}, {"Items", items}}})}};
  }
  return body.dump();
}

core::Result<SpeechPhrase> ParseSpeechPhrase(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("RecognitionStatus") || !j["RecognitionStatus"].is_string()) {
    return core::InvalidArgumentError("speech.phrase: no RecognitionStatus");
  }
  SpeechPhrase p;
  p.status = j["RecognitionStatus"].get<std::string>();
  if (p.status == "NoMatch" || p.status == "InitialSilenceTimeout" || p.status == "BabbleTimeout") {
    return p;
  }
  if (p.status != "Success") {
    return core::UnavailableError("speech recognition failed: RecognitionStatus " + p.status);
  }
  p.confidence = 0.9;
  if (j.contains("DisplayText") && j["DisplayText"].is_string()) {
    p.text = j["DisplayText"].get<std::string>();
  }
  if (j.contains("NBest") && j["NBest"].is_array() && !j["NBest"].empty()) {
    const json& best = j["NBest"][0];
    if (best.is_object()) {
      if (p.text.empty() && best.contains("Display") && best["Display"].is_string()) {
        p.text = best["Display"].get<std::string>();
      }
      if (best.contains("Confidence") && best["Confidence"].is_number()) {
        p.confidence = best["Confidence"].get<double>();
      }
    }
  }
  return p;
}

core::Result<std::string> ParseHypothesisText(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return core::InvalidArgumentError("speech.hypothesis: not a JSON object");
  if (j.contains("Text") && j["Text"].is_string()) return j["Text"].get<std::string>();
  return std::string();
}

std::string NormalizeTranscript(std::string_view display_text) {
  std::string out;
  bool pending_space = false;
  for (size_t i = 0; i < display_text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(display_text[i]);
    const bool inner_apostrophe = c == '\'' && !out.empty() && !pending_space &&
                                  i + 1 < display_text.size() &&
                                  std::isalnum(static_cast<unsigned char>(display_text[i + 1]));
    if (std::isalnum(c) || c >= 0x80 || inner_apostrophe) {
      if (pending_space && !out.empty()) out.push_back(' ');
      pending_space = false;
      out.push_back(static_cast<char>(std::tolower(c)));
    } else {
      pending_space = true;
    }
  }
  return out;
}

AzureVoice ResolveVoice(std::string_view requested, std::string_view default_voice) {
  constexpr std::string_view kPrefix = "azure:";
  if (requested.substr(0, kPrefix.size()) == kPrefix) requested.remove_prefix(kPrefix.size());
  AzureVoice v;
  std::string_view name = requested;
  if (size_t colon = requested.find(':'); colon != std::string_view::npos) {
    name = requested.substr(0, colon);
    v.style = std::string(requested.substr(colon + 1));
  }
  // Azure voice names carry a locale ("en-US-JennyNeural"); anything else is another engine's
  // voice (the agent YAML names flite voices) and falls back to the configured default.
  if (name.find('-') == std::string_view::npos) {
    name = default_voice;
    if (size_t colon = name.find(':'); colon != std::string_view::npos) {
      if (v.style.empty()) v.style = std::string(name.substr(colon + 1));
      name = name.substr(0, colon);
    }
  }
  v.name = std::string(name);
  size_t first = v.name.find('-');
  size_t second = first == std::string::npos ? first : v.name.find('-', first + 1);
  v.language = second == std::string::npos ? "en-US" : v.name.substr(0, second);
  return v;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters other than tab/newline are not allowed in XML 1.0.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out.push_back(' ');
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

std::string BuildSsml(std::string_view text, const AzureVoice& voice, double rate) {
  std::string inner = XmlEscape(text);
  if (std::abs(rate - 1.0) > 1e-3) {
    const int percent = static_cast<int>(std::lround((rate - 1.0) * 100.0));
    inner = fmt::format("<prosody rate='{:+d}%'>{}</prosody>", percent, inner);
  }
  if (!voice.style.empty()) {
    inner = fmt::format("<mstts:express-as style='{}'>{}</mstts:express-as>",
                        XmlEscape(voice.style), inner);
  }
  return fmt::format(
      "<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' "
      "xmlns:mstts='https://www.w3.org/2001/mstts' xml:lang='{0}'><voice xml:lang='{0}' "
      "name='{1}'>{2}</voice></speak>",
      XmlEscape(voice.language), XmlEscape(voice.name), inner);
}

}  // namespace artagent::speech::azure
