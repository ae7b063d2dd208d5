#include "transport/acs/event_grid.h"

#include <cctype>

#include <nlohmann/json.hpp>

namespace artagent::transport::acs {
namespace {

using nlohmann::json;

std::string Str(const json& obj, const char* name) {
  if (!obj.is_object()) return {};
  auto it = obj.find(name);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::map<std::string, std::string> StringMap(const json& obj) {
  std::map<std::string, std::string> out;
  if (!obj.is_object()) return out;
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (it->is_string()) out[it.key()] = it->get<std::string>();
  }
  return out;
}

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

CommunicationIdentifier ParseIdentifier(const json& j) {
  CommunicationIdentifier id;
  if (!j.is_object()) return id;
  id.kind = Str(j, "kind");
  id.raw_id = Str(j, "rawId");
  if (auto p = j.find("phoneNumber"); p != j.end() && p->is_object()) {
    id.phone_number = Str(*p, "value");
    if (id.kind.empty()) id.kind = "phoneNumber";
  }
  if (auto u = j.find("communicationUser"); u != j.end() && u->is_object()) {
    id.user_id = Str(*u, "id");
    if (id.kind.empty()) id.kind = "communicationUser";
  }
  if (auto t = j.find("microsoftTeamsUser"); t != j.end() && t->is_object()) {
    id.user_id = Str(*t, "userId");
    if (id.kind.empty()) id.kind = "microsoftTeamsUser";
  }
  if (id.kind.empty() && id.raw_id.rfind("4:", 0) == 0) id.kind = "phoneNumber";
  if (id.kind.empty() && id.raw_id.rfind("8:", 0) == 0) id.kind = "communicationUser";
  if (id.phone_number.empty() && id.kind == "phoneNumber" && id.raw_id.rfind("4:", 0) == 0) {
    id.phone_number = id.raw_id.substr(2);
  }
  if (id.raw_id.empty() && !id.phone_number.empty()) id.raw_id = "4:" + id.phone_number;
  if (id.raw_id.empty() && !id.user_id.empty()) id.raw_id = id.user_id;
  return id;
}

json IdentifierJson(const CommunicationIdentifier& id) {
  json j = {{"kind", id.kind.empty() ? "unknown" : id.kind}, {"rawId", id.raw_id}};
  if (!id.phone_number.empty()) j["phoneNumber"] = {{"value", id.phone_number}};
  if (id.kind == "communicationUser") j["communicationUser"] = {{"id", id.user_id}};
  return j;
}

json IncomingCallData(const IncomingCallEvent& c) {
  return {{"to", IdentifierJson(c.to)},
          {"from", IdentifierJson(c.from)},
          {"serverCallId", c.server_call_id},
          {"callerDisplayName", c.caller_display_name},
          {"customContext", {{"sipHeaders", c.sip_headers}, {"voipHeaders", c.voip_headers}}},
          {"incomingCallContext", c.incoming_call_context},
          {"correlationId", c.correlation_id}};
}

constexpr char kIncomingCall[] = "Microsoft.Communication.IncomingCall";
constexpr char kValidation[] = "Microsoft.EventGrid.SubscriptionValidationEvent";

}  // namespace

std::string CommunicationIdentifier::Display() const {
  return phone_number.empty() ? raw_id : phone_number;
}

core::Result<EventGridDelivery> ParseEventGridDelivery(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return core::InvalidArgumentError("the body is not JSON");
  if (j.is_object()) j = json::array({std::move(j)});
  if (!j.is_array()) {
    return core::InvalidArgumentError("an Event Grid delivery is a JSON array of events");
  }
  EventGridDelivery out;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& ev = j[i];
    if (!ev.is_object()) {
      out.errors.push_back("event " + std::to_string(i) + " is not an object");
      continue;
    }
    std::string type = Str(ev, "eventType");
    if (type.empty()) type = Str(ev, "type");  // CloudEvents schema
    const json& data = ev.contains("data") ? ev["data"] : json();
    if (type.empty()) {
      out.errors.push_back("event " + std::to_string(i) + " has no eventType/type");
      continue;
    }
    if (EqualsNoCase(type, kValidation)) {
      SubscriptionValidation v{Str(data, "validationCode"), Str(data, "validationUrl")};
      if (v.validation_code.empty()) {
        out.errors.push_back("a validation event without data.validationCode");
        continue;
      }
      out.validation = std::move(v);
      continue;
    }
    if (!EqualsNoCase(type, kIncomingCall)) {
      ++out.ignored;
      continue;
    }
    if (!data.is_object()) {
      out.errors.push_back("IncomingCall event " + Str(ev, "id") + " has no data object");
      continue;
    }
    IncomingCallEvent call;
    call.event_id = Str(ev, "id");
    call.to = ParseIdentifier(data.value("to", json()));
    call.from = ParseIdentifier(data.value("from", json()));
    call.server_call_id = Str(data, "serverCallId");
    call.caller_display_name = Str(data, "callerDisplayName");
    call.incoming_call_context = Str(data, "incomingCallContext");
    call.correlation_id = Str(data, "correlationId");
    if (auto cc = data.find("customContext"); cc != data.end() && cc->is_object()) {
      call.sip_headers = StringMap(cc->value("sipHeaders", json()));
      call.voip_headers = StringMap(cc->value("voipHeaders", json()));
    }
    if (call.incoming_call_context.empty()) {
      out.errors.push_back("IncomingCall event " + call.event_id +
                           " has no data.incomingCallContext (it cannot be answered)");
      continue;
    }
    out.calls.push_back(std::move(call));
  }
  return out;
}

std::string ValidationResponseBody(const SubscriptionValidation& v) {
  return json{{"validationResponse", v.validation_code}}.dump();
}

std::optional<std::string> AllowedWebhookOrigin(std::string_view origin,
                                                const std::vector<std::string>& allowed) {
  if (origin.empty()) return std::nullopt;
  if (allowed.empty()) return std::string(origin);
  for (const auto& a : allowed) {
    if (a == "*" || EqualsNoCase(a, origin)) return std::string(origin);
  }
  return std::nullopt;
}

std::string EncodeIncomingCallEventGrid(const IncomingCallEvent& c) {
  json ev = {{"id", c.event_id},
             {"topic",
              "/subscriptions/local/providers/Microsoft.Communication/"
              "communicationServices/simulator"},
             {"subject", "/caller/" + c.from.raw_id + "/recipient/" + c.to.raw_id},
             {"data", IncomingCallData(c)},
             {"eventType", kIncomingCall},
             {"dataVersion", "1.0"},
             {"metadataVersion", "1"},
             {"eventTime", "2024-01-02T03:04:05.0000000Z"}};
  return json::array({ev}).dump();
}

std::string EncodeIncomingCallCloudEvent(const IncomingCallEvent& c) {
  json ev = {{"id", c.event_id},
             {"source",
              "/subscriptions/local/providers/Microsoft.Communication/"
              "communicationServices/simulator"},
             {"subject", "/caller/" + c.from.raw_id + "/recipient/" + c.to.raw_id},
             {"data", IncomingCallData(c)},
             {"type", kIncomingCall},
             {"specversion", "1.0"},
             {"time", "2024-01-02T03:04:05.0000000Z"}};
  return json::array({ev}).dump();
}

std::string EncodeValidationEvent(const SubscriptionValidation& v) {
  json ev = {{"id", "validation-" + v.validation_code},
             {"topic", "/subscriptions/local"},
             {"subject", ""},
             {"data", {{"validationCode", v.validation_code}, {"validationUrl", v.validation_url}}},
             {"eventType", kValidation},
             {"eventTime", "2024-01-02T03:04:05.0000000Z"},
             {"metadataVersion", "1"},
             {"dataVersion", "1"}};
  return json::array({ev}).dump();
}

}  // namespace artagent::transport::acs
