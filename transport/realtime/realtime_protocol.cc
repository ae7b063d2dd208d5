#include "transport/realtime/realtime_protocol.h"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "audio/g711.h"
#include "core/base64.h"

namespace artagent::transport::realtime {
namespace {

using json = nlohmann::json;

ProtocolError Err(std::string code, std::string message, std::string param = "") {
  return ProtocolError{std::move(code), std::move(message), std::move(param), ""};
}

// Reads an audio format, GA object or beta string. nullopt + error on a bad value.
std::optional<AudioFormat> ParseFormat(const json& v, const std::string& param,
                                       ProtocolError* error) {
  AudioFormat f;
  std::string type;
  if (v.is_string()) {
    type = v.get<std::string>();
  } else if (v.is_object() && v.contains("type") && v["type"].is_string()) {
    type = v["type"].get<std::string>();
  } else {
    *error = Err("invalid_value", "audio format must be an object with a 'type'", param);
    return std::nullopt;
  }
  if (type == "audio/pcm" || type == "pcm16") {
    f.encoding = AudioFormat::Encoding::kPcm16;
    f.rate = 24000;
    if (v.is_object() && v.contains("rate")) {
      if (!v["rate"].is_number_integer()) {
        *error = Err("invalid_value", "audio rate must be an integer", param + ".rate");
        return std::nullopt;
      }
      // Range-checked as 64 bits: narrowing first would let 4294991296 pass as 24000.
      const int64_t rate = v["rate"].get<int64_t>();
      f.rate = rate < 8000 || rate > 48000 ? 0 : static_cast<int>(rate);
      if (f.rate == 0) {
        *error = Err("invalid_value",
                     fmt::format("audio rate {} is not supported (8000..48000; the Realtime API "
                                 "uses 24000)",
                                 rate),
                     param + ".rate");
        return std::nullopt;
      }
    }
  } else if (type == "audio/pcmu" || type == "g711_ulaw") {
    f.encoding = AudioFormat::Encoding::kMulaw;
    f.rate = 8000;
  } else if (type == "audio/pcma" || type == "g711_alaw") {
    f.encoding = AudioFormat::Encoding::kAlaw;
    f.rate = 8000;
  } else {
    *error =
        Err("invalid_value",
            "unsupported audio format '" + type + "' (audio/pcm, audio/pcmu, audio/pcma)", param);
    return std::nullopt;
  }
  return f;
}

std::optional<TurnDetection> ParseTurnDetection(const json& v, const std::string& param,
                                                ProtocolError* error) {
  TurnDetection td;
  if (v.is_null()) {
    td.enabled = false;
    return td;
  }
  if (!v.is_object()) {
    *error = Err("invalid_value", "turn_detection must be an object or null", param);
    return std::nullopt;
  }
  std::string type = v.value("type", "server_vad");
  if (type != "server_vad" && type != "semantic_vad") {
    *error = Err("invalid_value", "turn_detection.type must be server_vad", param + ".type");
    return std::nullopt;
  }
  auto get_int = [&](const char* key, int* out, int lo, int hi) {
    if (!v.contains(key)) return true;
    if (!v[key].is_number_integer() || v[key].get<int>() < lo || v[key].get<int>() > hi) {
      *error = Err("invalid_value", fmt::format("{} must be an integer in {}..{}", key, lo, hi),
                   param + "." + key);
      return false;
    }
    *out = v[key].get<int>();
    return true;
  };
  if (!get_int("silence_duration_ms", &td.silence_duration_ms, 100, 10000)) return std::nullopt;
  if (!get_int("prefix_padding_ms", &td.prefix_padding_ms, 0, 2000)) return std::nullopt;
  if (v.contains("threshold") && v["threshold"].is_number()) {
    td.threshold = v["threshold"].get<double>();
  }
  if (v.contains("create_response") && v["create_response"].is_boolean()) {
    td.create_response = v["create_response"].get<bool>();
  }
  if (v.contains("interrupt_response") && v["interrupt_response"].is_boolean()) {
    td.interrupt_response = v["interrupt_response"].get<bool>();
  }
  return td;
}

std::optional<bool> ParseModalities(const json& v, const std::string& param, ProtocolError* error) {
  if (!v.is_array()) {
    *error = Err("invalid_value", "output_modalities must be an array", param);
    return std::nullopt;
  }
  bool audio = false, text = false;
  for (const auto& m : v) {
    if (m == "audio")
      audio = true;
    else if (m == "text")
      text = true;
    else {
      *error = Err("invalid_value", "output_modalities items are 'audio' or 'text'", param);
      return std::nullopt;
    }
  }
  if (!audio && !text) {
    *error = Err("invalid_value", "output_modalities must not be empty", param);
    return std::nullopt;
  }
  return audio;
}

// session.tools: [{type:"function", name, description, parameters}, ...].
std::optional<std::vector<json>> ParseTools(const json& v, ProtocolError* error) {
  if (!v.is_array()) {
    *error =
        Err("invalid_value", "session.tools must be an array of function tools", "session.tools");
    return std::nullopt;
  }
  std::vector<json> tools;
  for (size_t i = 0; i < v.size(); ++i) {
    const json& t = v[i];
    const std::string param = fmt::format("session.tools[{}]", i);
    if (!t.is_object()) {
      *error = Err("invalid_value",
                   "each tool must be an object {type, name, description, "
                   "parameters}",
                   param);
      return std::nullopt;
    }
    if (!t.contains("name") || !t["name"].is_string() || t["name"].get<std::string>().empty()) {
      *error = Err("invalid_value", "each tool needs a non-empty string 'name'", param + ".name");
      return std::nullopt;
    }
    if (t.contains("type") && t["type"] != "function") {
      *error =
          Err("invalid_value", "only tools of type \"function\" are supported", param + ".type");
      return std::nullopt;
    }
    if (t.contains("parameters") && !t["parameters"].is_object()) {
      *error =
          Err("invalid_value", "'parameters' must be a JSON schema object", param + ".parameters");
      return std::nullopt;
    }
    json tool = t;
    tool["type"] = "function";
    tools.push_back(std::move(tool));
  }
  return tools;
}

bool ParseSessionUpdate(const json& s, SessionUpdate* u, ProtocolError* error) {
  if (!s.is_object()) {
    *error = Err("missing_field", "session.update needs a 'session' object", "session");
    return false;
  }
  if (s.contains("instructions") && s["instructions"].is_string()) {
    u->instructions = s["instructions"].get<std::string>();
  }
  // GA: output_modalities; beta: modalities.
  for (const char* key : {"output_modalities", "modalities"}) {
    if (s.contains(key)) {
      auto m = ParseModalities(s[key], std::string("session.") + key, error);
      if (!m) return false;
      u->output_audio = *m;
    }
  }
  if (s.contains("audio") && s["audio"].is_object()) {
    const json& a = s["audio"];
    if (a.contains("input") && a["input"].is_object()) {
      const json& in = a["input"];
      if (in.contains("format")) {
        auto f = ParseFormat(in["format"], "session.audio.input.format", error);
        if (!f) return false;
        u->input_format = f;
      }
      if (in.contains("turn_detection")) {
        auto td =
            ParseTurnDetection(in["turn_detection"], "session.audio.input.turn_detection", error);
        if (!td) return false;
        u->turn_detection = td;
      }
    }
    if (a.contains("output") && a["output"].is_object()) {
      const json& out = a["output"];
      if (out.contains("format")) {
        auto f = ParseFormat(out["format"], "session.audio.output.format", error);
        if (!f) return false;
        u->output_format = f;
      }
      if (out.contains("voice") && out["voice"].is_string()) u->voice = out["voice"];
      if (out.contains("speed") && out["speed"].is_number()) {
        double sp = out["speed"].get<double>();
        if (sp < 0.25 || sp > 1.5) {
          *error =
              Err("invalid_value", "speed must be within 0.25..1.5", "session.audio.output.speed");
          return false;
        }
        u->speed = sp;
      }
    }
  }
  // Beta spellings.
  if (s.contains("input_audio_format")) {
    auto f = ParseFormat(s["input_audio_format"], "session.input_audio_format", error);
    if (!f) return false;
    u->input_format = f;
  }
  if (s.contains("output_audio_format")) {
    auto f = ParseFormat(s["output_audio_format"], "session.output_audio_format", error);
    if (!f) return false;
    u->output_format = f;
  }
  if (s.contains("turn_detection")) {
    auto td = ParseTurnDetection(s["turn_detection"], "session.turn_detection", error);
    if (!td) return false;
    u->turn_detection = td;
  }
  if (s.contains("voice") && s["voice"].is_string()) u->voice = s["voice"];
  if (s.contains("tools")) {
    auto tools = ParseTools(s["tools"], error);
    if (!tools) return false;
    u->tools = std::move(*tools);
  }
  if (s.contains("tool_choice") && s["tool_choice"] != "auto") {
    *error = Err("invalid_value",
                 "tool_choice: only \"auto\" is supported (the agent decides when to call a tool)",
                 "session.tool_choice");
    return false;
  }
  return true;
}

bool ParseUserText(const json& ev, UserText* out, ProtocolError* error) {
  if (!ev.contains("item") || !ev["item"].is_object()) {
    *error = Err("missing_field", "conversation.item.create needs an 'item' object", "item");
    return false;
  }
  const json& item = ev["item"];
  const std::string type = item.value("type", "message");
  if (type != "message") {
    *error = Err("unsupported_item", "only message and function_call_output items can be created",
                 "item.type");
    return false;
  }
  if (item.value("role", "") != "user") {
    *error = Err("invalid_value", "only role 'user' messages can be created", "item.role");
    return false;
  }
  std::string text;
  if (item.contains("content") && item["content"].is_array()) {
    for (const auto& part : item["content"]) {
      std::string pt = part.value("type", "");
      if ((pt == "input_text" || pt == "text") && part.contains("text") &&
          part["text"].is_string()) {
        if (!text.empty()) text += ' ';
        text += part["text"].get<std::string>();
      }
    }
  }
  if (text.empty()) {
    *error = Err("missing_field", "the message needs an input_text content part", "item.content");
    return false;
  }
  out->text = std::move(text);
  return true;
}

// conversation.item.create with {type:"function_call_output", call_id, output}.
bool ParseFunctionCallOutput(const json& item, FunctionCallOutput* out, ProtocolError* error) {
  if (!item.contains("call_id") || !item["call_id"].is_string() ||
      item["call_id"].get<std::string>().empty()) {
    *error = Err("missing_field", "a function_call_output item needs the 'call_id' of the call",
                 "item.call_id");
    return false;
  }
  if (!item.contains("output")) {
    *error = Err("missing_field", "a function_call_output item needs an 'output'", "item.output");
    return false;
  }
  out->call_id = item["call_id"].get<std::string>();
  out->output =
      item["output"].is_string() ? item["output"].get<std::string>() : item["output"].dump();
  if (item.contains("id") && item["id"].is_string()) out->item_id = item["id"];
  return true;
}

bool IsDtmfKey(char c) {
  return (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
}

json ItemJson(const std::string& id, const std::string& role, const std::string& status,
              const json& content) {
  return json{{"id", id},     {"object", "realtime.item"}, {"type", "message"},
              {"role", role}, {"status", status},          {"content", content}};
}

// The event that arrives fifty times a second per caller,
//   {"type":"input_audio_buffer.append","audio":"<base64>"[,"event_id":"..."]},
// read without building a JSON tree. Only a flat object of plain ASCII strings without escapes
// qualifies (keys in any order); anything else returns nullopt and takes the full parser, which
// also produces the error messages.
std::optional<ClientEvent> TryParseAppend(std::string_view s) {
  size_t i = 0;
  auto ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t')) ++i;
  };
  auto str = [&](std::string_view* out) {
    if (i >= s.size() || s[i] != '"') return false;
    const size_t start = ++i;
    while (i < s.size() && s[i] != '"') {
      const auto ch = static_cast<unsigned char>(s[i]);
      if (ch == '\\' || ch < 0x20 || ch >= 0x80) return false;
      ++i;
    }
    if (i >= s.size()) return false;
    *out = s.substr(start, i - start);
    ++i;
    return true;
  };
  ws();
  if (i >= s.size() || s[i++] != '{') return std::nullopt;
  std::string_view type, audio, event_id;
  bool have_audio = false;
  for (;;) {
    std::string_view key, value;
    ws();
    if (!str(&key)) return std::nullopt;
    ws();
    if (i >= s.size() || s[i++] != ':') return std::nullopt;
    ws();
    if (!str(&value)) return std::nullopt;
    if (key == "type") {
      type = value;
    } else if (key == "audio") {
      audio = value;
      have_audio = true;
    } else if (key == "event_id") {
      event_id = value;
    } else {
      return std::nullopt;
    }
    ws();
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == '}') {
      ++i;
      break;
    }
    return std::nullopt;
  }
  ws();
  if (i != s.size() || type != "input_audio_buffer.append" || !have_audio) return std::nullopt;
  ClientEvent ev;
  ev.type = "input_audio_buffer.append";
  ev.event_id = std::string(event_id);
  ev.body = AudioAppend{std::string(audio)};
  return ev;
}

}  // namespace

std::optional<ClientEvent> ParseClientEvent(std::string_view text, ProtocolError* error) {
  if (auto fast = TryParseAppend(text)) return fast;
  json ev = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (ev.is_discarded()) {
    *error = Err("invalid_json", "the message is not valid JSON");
    return std::nullopt;
  }
  if (!ev.is_object() || !ev.contains("type") || !ev["type"].is_string()) {
    *error = Err("missing_field", "every event needs a string 'type'", "type");
    return std::nullopt;
  }
  ClientEvent out;
  out.type = ev["type"].get<std::string>();
  if (ev.contains("event_id") && ev["event_id"].is_string()) out.event_id = ev["event_id"];
  error->event_id = out.event_id;
  const std::string& t = out.type;
  if (t == "input_audio_buffer.append") {
    if (!ev.contains("audio") || !ev["audio"].is_string()) {
      *error = Err("missing_field", "input_audio_buffer.append needs base64 'audio'", "audio");
      error->event_id = out.event_id;
      return std::nullopt;
    }
    out.body = AudioAppend{ev["audio"].get<std::string>()};
  } else if (t == "session.update") {
    SessionUpdate u;
    if (!ParseSessionUpdate(ev.contains("session") ? ev["session"] : json(), &u, error)) {
      error->event_id = out.event_id;
      return std::nullopt;
    }
    out.body = std::move(u);
  } else if (t == "input_audio_buffer.commit") {
    out.body = AudioCommit{};
  } else if (t == "input_audio_buffer.clear") {
    out.body = AudioClear{};
  } else if (t == "conversation.item.create") {
    const bool function_output = ev.contains("item") && ev["item"].is_object() &&
                                 ev["item"].value("type", "") == "function_call_output";
    if (function_output) {
      FunctionCallOutput f;
      if (!ParseFunctionCallOutput(ev["item"], &f, error)) {
        error->event_id = out.event_id;
        return std::nullopt;
      }
      out.body = std::move(f);
    } else {
      UserText u;
      if (!ParseUserText(ev, &u, error)) {
        error->event_id = out.event_id;
        return std::nullopt;
      }
      out.body = std::move(u);
    }
  } else if (t == "artagent.input_dtmf") {
    if (!ev.contains("digits") || !ev["digits"].is_string() ||
        ev["digits"].get<std::string>().empty()) {
      *error =
          Err("missing_field", "artagent.input_dtmf needs a string of keys in 'digits'", "digits");
      error->event_id = out.event_id;
      return std::nullopt;
    }
    std::string digits = ev["digits"].get<std::string>();
    for (char c : digits) {
      if (!IsDtmfKey(c)) {
        *error = Err("invalid_value",
                     fmt::format("'{}' is not a DTMF key (0-9, *, #, A-D)", std::string(1, c)),
                     "digits");
        error->event_id = out.event_id;
        return std::nullopt;
      }
    }
    out.body = InputDtmf{std::move(digits)};
  } else if (t == "conversation.item.truncate") {
    Truncate tr;
    if (!ev.contains("item_id") || !ev["item_id"].is_string()) {
      *error = Err("missing_field", "conversation.item.truncate needs 'item_id'", "item_id");
      error->event_id = out.event_id;
      return std::nullopt;
    }
    tr.item_id = ev["item_id"];
    if (ev.contains("audio_end_ms") && ev["audio_end_ms"].is_number()) {
      tr.audio_end_ms = static_cast<int64_t>(std::llround(ev["audio_end_ms"].get<double>()));
    }
    out.body = std::move(tr);
  } else if (t == "response.create") {
    ResponseCreate rc;
    if (ev.contains("response") && ev["response"].is_object()) {
      const json& r = ev["response"];
      for (const char* key : {"output_modalities", "modalities"}) {
        if (r.contains(key)) {
          auto m = ParseModalities(r[key], std::string("response.") + key, error);
          if (!m) {
            error->event_id = out.event_id;
            return std::nullopt;
          }
          rc.output_audio = *m;
        }
      }
      if (r.contains("instructions") && r["instructions"].is_string()) {
        rc.instructions = r["instructions"];
      }
    }
    out.body = std::move(rc);
  } else if (t == "response.cancel") {
    out.body = ResponseCancel{ev.value("response_id", "")};
  } else if (t == "output_audio_buffer.clear") {
    out.body = OutputAudioClear{};
  } else {
    *error = Err("unknown_event", "unknown event type '" + t + "'", "type");
    error->event_id = out.event_id;
    return std::nullopt;
  }
  return out;
}

core::Status DecodeAudio(std::string_view base64, const AudioFormat& format, audio::Samples* out) {
  thread_local std::vector<uint8_t> bytes;
  bytes.clear();
  if (!core::Base64Decode(base64, &bytes)) {
    return core::InvalidArgumentError("audio is not valid base64");
  }
  switch (format.encoding) {
    case AudioFormat::Encoding::kPcm16:
      if (bytes.size() % 2 != 0) {
        return core::InvalidArgumentError(
            "audio/pcm is 16-bit: the decoded audio has an odd number of bytes");
      }
      audio::BytesToSamples(bytes, out);
      break;
    case AudioFormat::Encoding::kMulaw:
      audio::MulawDecode(bytes, out);
      break;
    case AudioFormat::Encoding::kAlaw:
      audio::AlawDecode(bytes, out);
      break;
  }
  return core::OkStatus();
}

ServerEventEncoder::ServerEventEncoder(std::string id_prefix) : prefix_(std::move(id_prefix)) {}

std::string ServerEventEncoder::NextEventId() {
  return fmt::format("event_{}{}", prefix_, ++counter_);
}

namespace {
json FormatJson(const AudioFormat& f) {
  switch (f.encoding) {
    case AudioFormat::Encoding::kPcm16:
      return json{{"type", "audio/pcm"}, {"rate", f.rate}};
    case AudioFormat::Encoding::kMulaw:
      return json{{"type", "audio/pcmu"}};
    case AudioFormat::Encoding::kAlaw:
      return json{{"type", "audio/pcma"}};
  }
  return json();
}
// A JSON text as a value when it parses, else the text itself (tool arguments, outputs, slots).
json ParsedOrText(const std::string& text) {
  if (text.empty()) return json(text);
  json parsed = json::parse(text, nullptr, false);
  return parsed.is_discarded() ? json(text) : parsed;
}

// The function_call item of a client-run tool call; ids are derived from the call id so that the
// item the client sees and the call it answers stay paired.
json FunctionCallItem(const session::ToolCallInfo& call, const std::string& status,
                      const std::string& arguments) {
  return json{{"id", "item_fc_" + call.call_id},
              {"object", "realtime.item"},
              {"type", "function_call"},
              {"status", status},
              {"name", call.name},
              {"call_id", call.call_id},
              {"arguments", arguments}};
}
}  // namespace

std::string ServerEventEncoder::SessionJson(const SessionConfig& c, std::string_view type) {
  json td = nullptr;
  if (c.turn_detection.enabled) {
    td = json{{"type", "server_vad"},
              {"threshold", c.turn_detection.threshold},
              {"prefix_padding_ms", c.turn_detection.prefix_padding_ms},
              {"silence_duration_ms", c.turn_detection.silence_duration_ms},
              {"create_response", c.turn_detection.create_response},
              {"interrupt_response", c.turn_detection.interrupt_response}};
  }
  json session = {
      {"type", "realtime"},
      {"object", "realtime.session"},
      {"id", c.id},
      {"model", c.model},
      {"output_modalities", c.output_audio ? json::array({"audio"}) : json::array({"text"})},
      {"instructions", c.instructions},
      {"audio",
       {{"input",
         {{"format", FormatJson(c.input_format)},
          {"transcription", {{"model", c.transcription_model}}},
          {"turn_detection", td}}},
        {"output",
         {{"format", FormatJson(c.output_format)}, {"voice", c.voice}, {"speed", c.speed}}}}},
      {"tools", c.tools.empty() ? json::array() : json(c.tools)},
      {"tool_choice", "auto"},
      {"max_output_tokens", "inf"}};
  return json{{"type", type}, {"event_id", NextEventId()}, {"session", session}}.dump();
}

std::string ServerEventEncoder::SessionCreated(const SessionConfig& c) {
  return SessionJson(c, "session.created");
}
std::string ServerEventEncoder::SessionUpdated(const SessionConfig& c) {
  return SessionJson(c, "session.updated");
}

std::string ServerEventEncoder::Error(const ProtocolError& e, std::string_view type) {
  json err = {{"type", type},
              {"code", e.code},
              {"message", e.message},
              {"param", e.param.empty() ? json(nullptr) : json(e.param)},
              {"event_id", e.event_id.empty() ? json(nullptr) : json(e.event_id)}};
  return json{{"type", "error"}, {"event_id", NextEventId()}, {"error", err}}.dump();
}

std::string ServerEventEncoder::FunctionCallOutputCreated(const FunctionCallOutput& item,
                                                          const std::string& item_id) {
  json j = {{"type", "conversation.item.created"},
            {"event_id", NextEventId()},
            {"previous_item_id", nullptr},
            {"item",
             {{"id", item_id},
              {"object", "realtime.item"},
              {"type", "function_call_output"},
              {"status", "completed"},
              {"call_id", item.call_id},
              {"output", item.output}}}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void ServerEventEncoder::Encode(const session::SessionEvent& event, const SessionConfig& config,
                                std::vector<std::string>* out) {
  using namespace session;
  auto emit = [&](json j) {
    j["event_id"] = NextEventId();
    out->push_back(j.dump(-1, ' ', false, json::error_handler_t::replace));
  };
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, SpeechStarted>) {
          emit({{"type", "input_audio_buffer.speech_started"},
                {"audio_start_ms", e.audio_start_ms},
                {"item_id", e.item_id}});
        } else if constexpr (std::is_same_v<T, SpeechStopped>) {
          emit({{"type", "input_audio_buffer.speech_stopped"},
                {"audio_end_ms", e.audio_end_ms},
                {"item_id", e.item_id}});
        } else if constexpr (std::is_same_v<T, InputCommitted>) {
          json prev = e.previous_item_id.empty() ? json(nullptr) : json(e.previous_item_id);
          emit({{"type", "input_audio_buffer.committed"},
                {"previous_item_id", prev},
                {"item_id", e.item_id}});
          emit({{"type", "conversation.item.created"},
                {"previous_item_id", prev},
                {"item",
                 ItemJson(e.item_id, "user", "completed",
                          json::array({{{"type", "input_audio"}, {"transcript", nullptr}}}))}});
        } else if constexpr (std::is_same_v<T, InputCleared>) {
          emit({{"type", "input_audio_buffer.cleared"}});
        } else if constexpr (std::is_same_v<T, UserTextItem>) {
          json prev = e.previous_item_id.empty() ? json(nullptr) : json(e.previous_item_id);
          json item = ItemJson(e.item_id, "user", "completed",
                               json::array({{{"type", "input_text"}, {"text", e.text}}}));
          if (e.dtmf) item["artagent_dtmf"] = true;
          emit({{"type", "conversation.item.created"}, {"previous_item_id", prev}, {"item", item}});
        } else if constexpr (std::is_same_v<T, TranscriptPartial>) {
          // The whole current hypothesis: recognizers revise earlier words, so a client should
          // show `delta` in place of the previous one for this item.
          emit({{"type", "conversation.item.input_audio_transcription.delta"},
                {"item_id", e.item_id},
                {"content_index", 0},
                {"delta", e.text}});
        } else if constexpr (std::is_same_v<T, TranscriptFinal>) {
          emit({{"type", "conversation.item.input_audio_transcription.completed"},
                {"item_id", e.item_id},
                {"content_index", 0},
                {"transcript", e.text}});
        } else if constexpr (std::is_same_v<T, TranscriptFailed>) {
          emit({{"type", "conversation.item.input_audio_transcription.failed"},
                {"item_id", e.item_id},
                {"content_index", 0},
                {"error",
                 {{"type", "transcription_error"},
                  {"code", "stt_failed"},
                  {"message", e.message}}}});
        } else if constexpr (std::is_same_v<T, ResponseStarted>) {
          response_audio_ = config.output_audio;
          open_function_calls_.clear();
          function_call_items_.clear();
          next_output_index_ = 1;
          emit({{"type", "response.created"},
                {"response",
                 {{"id", e.response_id},
                  {"object", "realtime.response"},
                  {"status", "in_progress"},
                  {"status_details", nullptr},
                  {"output", json::array()},
                  {"output_modalities",
                   response_audio_ ? json::array({"audio"}) : json::array({"text"})}}}});
        } else if constexpr (std::is_same_v<T, OutputItemStarted>) {
          json item = ItemJson(e.item_id, "assistant", "in_progress", json::array());
          emit({{"type", "response.output_item.added"},
                {"response_id", e.response_id},
                {"output_index", 0},
                {"item", item}});
          emit({{"type", "conversation.item.created"},
                {"previous_item_id", nullptr},
                {"item", item}});
          json part = response_audio_ ? json{{"type", "audio"}, {"transcript", ""}}
                                      : json{{"type", "text"}, {"text", ""}};
          emit({{"type", "response.content_part.added"},
                {"response_id", e.response_id},
                {"item_id", e.item_id},
                {"output_index", 0},
                {"content_index", 0},
                {"part", part}});
        } else if constexpr (std::is_same_v<T, TextDelta>) {
          emit({{"type", response_audio_ ? "response.output_audio_transcript.delta"
                                         : "response.output_text.delta"},
                {"response_id", e.response_id},
                {"item_id", e.item_id},
                {"output_index", 0},
                {"content_index", 0},
                {"delta", e.delta}});
        } else if constexpr (std::is_same_v<T, AudioChunk>) {
          // The hot path: built by hand, no JSON tree.
          const auto& s = *e.samples;
          std::string b64;
          switch (config.output_format.encoding) {
            case AudioFormat::Encoding::kPcm16:
              b64 = core::Base64Encode(s.data(), s.size() * sizeof(int16_t));
              break;
            case AudioFormat::Encoding::kMulaw: {
              std::vector<uint8_t> bytes;
              audio::MulawEncode(s, &bytes);
              b64 = core::Base64Encode(bytes.data(), bytes.size());
              break;
            }
            case AudioFormat::Encoding::kAlaw: {
              std::vector<uint8_t> bytes;
              audio::AlawEncode(s, &bytes);
              b64 = core::Base64Encode(bytes.data(), bytes.size());
              break;
            }
          }
          out->push_back(fmt::format(
              R"({{"type":"response.output_audio.delta","event_id":"{}","response_id":"{}",)"
              R"("item_id":"{}","output_index":0,"content_index":0,"delta":"{}"}})",
              NextEventId(), e.response_id, e.item_id, b64));
        } else if constexpr (std::is_same_v<T, AudioCleared>) {
          emit({{"type", "output_audio_buffer.cleared"}, {"response_id", e.response_id}});
        } else if constexpr (std::is_same_v<T, OutputItemDone>) {
          const char* status = e.interrupted ? "incomplete" : "completed";
          json common = {{"response_id", e.response_id},
                         {"item_id", e.item_id},
                         {"output_index", 0},
                         {"content_index", 0}};
          json part;
          if (response_audio_) {
            json a = common;
            a["type"] = "response.output_audio.done";
            emit(a);
            json t = common;
            t["type"] = "response.output_audio_transcript.done";
            t["transcript"] = e.text;
            emit(t);
            part = {{"type", "audio"}, {"transcript", e.text}};
          } else {
            json t = common;
            t["type"] = "response.output_text.done";
            t["text"] = e.text;
            emit(t);
            part = {{"type", "text"}, {"text", e.text}};
          }
          json p = common;
          p["type"] = "response.content_part.done";
          p["part"] = part;
          emit(p);
          json content = response_audio_
                             ? json::array({{{"type", "output_audio"}, {"transcript", e.text}}})
                             : json::array({{{"type", "output_text"}, {"text", e.text}}});
          emit({{"type", "response.output_item.done"},
                {"response_id", e.response_id},
                {"output_index", 0},
                {"item", ItemJson(e.item_id, "assistant", status, content)}});
        } else if constexpr (std::is_same_v<T, ResponseDone>) {
          json details = nullptr;
          if (e.status == "cancelled") {
            details = {{"type", "cancelled"}, {"reason", e.reason}};
          } else if (e.status == "failed") {
            details = {{"type", "failed"},
                       {"error", {{"type", "server_error"}, {"message", e.reason}}}};
          }
          json content = response_audio_
                             ? json::array({{{"type", "output_audio"}, {"transcript", e.text}}})
                             : json::array({{{"type", "output_text"}, {"text", e.text}}});
          const char* item_status = e.status == "completed" ? "completed" : "incomplete";
          json output = json::array({ItemJson(e.item_id, "assistant", item_status, content)});
          for (auto& fc : function_call_items_) output.push_back(std::move(fc));
          function_call_items_.clear();
          open_function_calls_.clear();
          emit({{"type", "response.done"},
                {"response",
                 {{"id", e.response_id},
                  {"object", "realtime.response"},
                  {"status", e.status},
                  {"status_details", details},
                  {"output", std::move(output)},
                  {"output_modalities",
                   response_audio_ ? json::array({"audio"}) : json::array({"text"})},
                  {"usage", {{"total_tokens", 0}, {"input_tokens", 0}, {"output_tokens", 0}}}}}});
        } else if constexpr (std::is_same_v<T, ItemTruncated>) {
          emit({{"type", "conversation.item.truncated"},
                {"item_id", e.item_id},
                {"content_index", 0},
                {"audio_end_ms", e.audio_end_ms},
                {"transcript", e.text}});
        } else if constexpr (std::is_same_v<T, TurnMetrics>) {
          emit({{"type", "artagent.turn.metrics"},
                {"response_id", e.response_id},
                {"item_id", e.item_id},
                {"user_item_id", e.user_item_id},
                {"text_turn", e.text_turn},
                {"latency_ms", session::LatencyJson(e)}});
        } else if constexpr (std::is_same_v<T, AgentChanged>) {
          emit({{"type", "artagent.agent"}, {"name", e.agent}});
        } else if constexpr (std::is_same_v<T, ToolCallStarted>) {
          const ToolCallInfo& c = e.call;
          if (c.status == "client") {
            const int index = next_output_index_++;
            open_function_calls_[c.call_id] = index;
            json item = FunctionCallItem(c, "in_progress", "");
            emit({{"type", "response.output_item.added"},
                  {"response_id", e.response_id},
                  {"output_index", index},
                  {"item", item}});
            emit({{"type", "conversation.item.created"},
                  {"previous_item_id", nullptr},
                  {"item", item}});
            return;
          }
          emit({{"type", "artagent.tool.started"},
                {"response_id", e.response_id},
                {"call_id", c.call_id},
                {"name", c.name},
                {"arguments", ParsedOrText(c.arguments)},
                {"agent", c.agent}});
        } else if constexpr (std::is_same_v<T, ToolCallFinished>) {
          const ToolCallInfo& c = e.call;
          auto open = open_function_calls_.find(c.call_id);
          if (open != open_function_calls_.end()) {
            const int index = open->second;
            open_function_calls_.erase(open);
            const std::string item_id = "item_fc_" + c.call_id;
            // A call cut off before the model finished it (barge-in) ends incomplete.
            const bool complete = c.status == "client";
            if (complete) {
              emit({{"type", "response.function_call_arguments.delta"},
                    {"response_id", e.response_id},
                    {"item_id", item_id},
                    {"output_index", index},
                    {"call_id", c.call_id},
                    {"delta", c.arguments}});
              emit({{"type", "response.function_call_arguments.done"},
                    {"response_id", e.response_id},
                    {"item_id", item_id},
                    {"output_index", index},
                    {"call_id", c.call_id},
                    {"name", c.name},
                    {"arguments", c.arguments}});
            }
            json item = FunctionCallItem(c, complete ? "completed" : "incomplete", c.arguments);
            emit({{"type", "response.output_item.done"},
                  {"response_id", e.response_id},
                  {"output_index", index},
                  {"item", item}});
            function_call_items_.push_back(std::move(item));
            return;
          }
          emit({{"type", "artagent.tool.completed"},
                {"response_id", e.response_id},
                {"call_id", c.call_id},
                {"name", c.name},
                {"status", c.status},
                {"output", ParsedOrText(c.output)},
                {"duration_ms", c.duration_ms < 0 ? json(nullptr) : json(c.duration_ms)},
                {"agent", c.agent}});
        } else if constexpr (std::is_same_v<T, HandoffOccurred>) {
          const HandoffInfo& h = e.handoff;
          emit({{"type", "artagent.handoff"},
                {"response_id", e.response_id},
                {"from", h.from},
                {"to", h.to},
                {"handoff_type", h.type},
                {"share_context", h.share_context},
                {"reason", h.reason}});
        } else if constexpr (std::is_same_v<T, SlotSet>) {
          emit({{"type", "artagent.slot"},
                {"name", e.slot.name},
                {"slot_type", e.slot.type},
                {"value", ParsedOrText(e.slot.value)},
                {"agent", e.slot.agent}});
        } else if constexpr (std::is_same_v<T, CallControlRequested>) {
          const CallControl& c = e.control;
          if (c.kind == CallControl::Kind::kTransfer) {
            emit({{"type", "artagent.call.transfer"}, {"target", c.target}, {"reason", c.reason}});
          } else {
            emit({{"type", "artagent.call.end"}, {"reason", c.reason}});
          }
        } else if constexpr (std::is_same_v<T, SessionError>) {
          emit({{"type", "error"},
                {"error",
                 {{"type", "server_error"},
                  {"code", e.code},
                  {"message", e.message},
                  {"param", nullptr},
                  {"event_id", nullptr}}}});
        }
      },
      event);
}

}  // namespace artagent::transport::realtime
