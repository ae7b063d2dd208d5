#include "platform/testing/otlp_receiver.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace artagent::platform::testing {
namespace {

using net::testing::ScriptedResponse;
using net::testing::ScriptedStep;
using nlohmann::json;

std::string PathOf(const std::string& target) { return target.substr(0, target.find('?')); }

class Checker {
 public:
  explicit Checker(std::vector<std::string>* errors) : errors_(errors) {}

  void Fail(const std::string& where, const std::string& what) {
    errors_->push_back(where + ": " + what);
  }

  // A non-empty array at obj[key].
  const json* Array(const json& obj, const char* key, const std::string& where,
                    bool allow_empty = false) {
    if (!obj.is_object() || !obj.contains(key) || !obj[key].is_array()) {
      Fail(where, std::string("missing array '") + key + "'");
      return nullptr;
    }
    if (!allow_empty && obj[key].empty()) {
      Fail(where, std::string("empty array '") + key + "'");
      return nullptr;
    }
    return &obj[key];
  }

  void HexId(const json& obj, const char* key, size_t len, const std::string& where,
             bool required) {
    if (!obj.contains(key)) {
      if (required) Fail(where, std::string("missing '") + key + "'");
      return;
    }
    const json& v = obj[key];
    if (!v.is_string()) return Fail(where, std::string(key) + " is not a string");
    const std::string s = v.get<std::string>();
    if (!required && s.empty()) return;  // proto3 JSON may carry "" for an unset parent
    if (s.size() != len) {
      return Fail(where, std::string(key) + " has " + std::to_string(s.size()) +
                             " hex digits, expected " + std::to_string(len));
    }
    if (!std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c); })) {
      return Fail(where, std::string(key) + " is not hex (base64 is wrong for OTLP/JSON)");
    }
    if (std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; })) {
      Fail(where, std::string(key) + " is all zero");
    }
  }

  // A uint64/int64 in its JSON string form.
  bool IntString(const json& obj, const char* key, const std::string& where, bool required,
                 int64_t* out = nullptr) {
    if (!obj.contains(key)) {
      if (required) Fail(where, std::string("missing '") + key + "'");
      return false;
    }
    const json& v = obj[key];
    if (!v.is_string()) {
      Fail(where, std::string(key) + " must be a decimal string (64-bit integer)");
      return false;
    }
    const std::string s = v.get<std::string>();
    const size_t digits_from = !s.empty() && s[0] == '-' ? 1 : 0;
    if (s.size() == digits_from ||
        !std::all_of(s.begin() + static_cast<ptrdiff_t>(digits_from), s.end(),
                     [](unsigned char c) { return std::isdigit(c); })) {
      Fail(where, std::string(key) + " is not a decimal integer: " + s);
      return false;
    }
    if (out) *out = std::stoll(s);
    return true;
  }

  void Integer(const json& obj, const char* key, int lo, int hi, const std::string& where,
               bool required) {
    if (!obj.contains(key)) {
      if (required) Fail(where, std::string("missing '") + key + "'");
      return;
    }
    const json& v = obj[key];
    if (!v.is_number_integer()) {
      return Fail(where, std::string(key) + " must be an integer (enums are integers)");
    }
    const int64_t n = v.get<int64_t>();
    if (n < lo || n > hi) Fail(where, std::string(key) + " out of range: " + std::to_string(n));
  }

  void AnyValue(const json& v, const std::string& where) {
    if (!v.is_object() || v.size() != 1) return Fail(where, "AnyValue must have exactly one kind");
    const auto& [kind, val] = *v.items().begin();
    if (kind == "stringValue" && val.is_string()) return;
    if (kind == "boolValue" && val.is_boolean()) return;
    if (kind == "doubleValue" && val.is_number()) return;
    if (kind == "intValue") {
      IntString(v, "intValue", where, true);
      return;
    }
    if (kind == "bytesValue" && val.is_string()) return;
    if ((kind == "arrayValue" || kind == "kvlistValue") && val.is_object()) return;
    Fail(where, "bad AnyValue kind '" + kind + "'");
  }

  void Attributes(const json& obj, const std::string& where) {
    if (!obj.contains("attributes")) return;
    const json* attrs = Array(obj, "attributes", where, true);
    if (!attrs) return;
    for (const auto& kv : *attrs) {
      if (!kv.contains("key") || !kv["key"].is_string() || kv["key"].get<std::string>().empty()) {
        Fail(where, "attribute without a key");
        continue;
      }
      if (!kv.contains("value")) {
        Fail(where, "attribute '" + kv["key"].get<std::string>() + "' without a value");
        continue;
      }
      AnyValue(kv["value"], where + " attribute " + kv["key"].get<std::string>());
    }
  }

  void Resource(const json& r, const std::string& where) {
    if (!r.contains("resource")) return Fail(where, "missing 'resource'");
    const json* attrs = Array(r["resource"], "attributes", where + ".resource");
    if (!attrs) return;
    bool has_name = false;
    for (const auto& kv : *attrs) {
      if (kv.value("key", "") == "service.name" && kv.contains("value") &&
          kv["value"].contains("stringValue")) {
        has_name = true;
      }
    }
    if (!has_name) Fail(where, "resource has no service.name");
    Attributes(r["resource"], where + ".resource");
  }

 private:
  std::vector<std::string>* errors_;
};

void ValidateTraces(const json& body, Checker& c) {
  const json* rs = c.Array(body, "resourceSpans", "body");
  if (!rs) return;
  for (size_t i = 0; i < rs->size(); ++i) {
    const std::string w = "resourceSpans[" + std::to_string(i) + "]";
    c.Resource((*rs)[i], w);
    const json* ss = c.Array((*rs)[i], "scopeSpans", w);
    if (!ss) continue;
    for (const auto& scope : *ss) {
      const json* spans = c.Array(scope, "spans", w + ".scopeSpans");
      if (!spans) continue;
      for (const auto& s : *spans) {
        const std::string sw = w + " span '" + s.value("name", "") + "'";
        c.HexId(s, "traceId", 32, sw, true);
        c.HexId(s, "spanId", 16, sw, true);
        c.HexId(s, "parentSpanId", 16, sw, false);
        if (!s.contains("name") || !s["name"].is_string() || s["name"].get<std::string>().empty()) {
          c.Fail(sw, "missing name");
        }
        c.Integer(s, "kind", 1, 5, sw, true);
        int64_t start = 0, end = 0;
        const bool has_start = c.IntString(s, "startTimeUnixNano", sw, true, &start);
        const bool has_end = c.IntString(s, "endTimeUnixNano", sw, true, &end);
        if (has_start && has_end && end < start) c.Fail(sw, "ends before it starts");
        if (has_start && start < 1000000000000000000LL) c.Fail(sw, "start is not Unix nanoseconds");
        c.Attributes(s, sw);
        if (s.contains("status")) {
          c.Integer(s["status"], "code", 0, 2, sw + ".status", false);
          if (s["status"].contains("message") && !s["status"]["message"].is_string()) {
            c.Fail(sw, "status.message is not a string");
          }
        }
      }
    }
  }
}

void ValidateLogs(const json& body, Checker& c) {
  const json* rl = c.Array(body, "resourceLogs", "body");
  if (!rl) return;
  for (size_t i = 0; i < rl->size(); ++i) {
    const std::string w = "resourceLogs[" + std::to_string(i) + "]";
    c.Resource((*rl)[i], w);
    const json* sl = c.Array((*rl)[i], "scopeLogs", w);
    if (!sl) continue;
    for (const auto& scope : *sl) {
      const json* recs = c.Array(scope, "logRecords", w + ".scopeLogs");
      if (!recs) continue;
      for (const auto& r : *recs) {
        const std::string lw = w + " logRecord";
        c.IntString(r, "timeUnixNano", lw, true);
        c.IntString(r, "observedTimeUnixNano", lw, false);
        c.Integer(r, "severityNumber", 1, 24, lw, true);
        if (!r.contains("body")) {
          c.Fail(lw, "missing body");
        } else {
          c.AnyValue(r["body"], lw + ".body");
        }
        c.HexId(r, "traceId", 32, lw, false);
        c.HexId(r, "spanId", 16, lw, false);
        if (r.contains("traceId") != r.contains("spanId")) c.Fail(lw, "traceId without spanId");
        c.Attributes(r, lw);
      }
    }
  }
}

void ValidateMetrics(const json& body, Checker& c) {
  const json* rm = c.Array(body, "resourceMetrics", "body");
  if (!rm) return;
  for (size_t i = 0; i < rm->size(); ++i) {
    const std::string w = "resourceMetrics[" + std::to_string(i) + "]";
    c.Resource((*rm)[i], w);
    const json* sm = c.Array((*rm)[i], "scopeMetrics", w);
    if (!sm) continue;
    for (const auto& scope : *sm) {
      const json* metrics = c.Array(scope, "metrics", w + ".scopeMetrics", true);
      if (!metrics) continue;
      for (const auto& m : *metrics) {
        const std::string mw = w + " metric '" + m.value("name", "") + "'";
        if (m.value("name", "").empty()) c.Fail(mw, "missing name");
        int kinds = 0;
        for (const char* k : {"gauge", "sum", "histogram"}) kinds += m.contains(k) ? 1 : 0;
        if (kinds != 1) {
          c.Fail(mw, "must have exactly one of gauge, sum, histogram");
          continue;
        }
        const char* kind = m.contains("gauge") ? "gauge" : m.contains("sum") ? "sum" : "histogram";
        const json& data = m[kind];
        if (std::string(kind) != "gauge") c.Integer(data, "aggregationTemporality", 1, 2, mw, true);
        if (std::string(kind) == "sum" &&
            (!data.contains("isMonotonic") || !data["isMonotonic"].is_boolean())) {
          c.Fail(mw, "sum without a boolean isMonotonic");
        }
        const json* points = c.Array(data, "dataPoints", mw);
        if (!points) continue;
        for (const auto& p : *points) {
          c.IntString(p, "timeUnixNano", mw, true);
          c.IntString(p, "startTimeUnixNano", mw, false);
          c.Attributes(p, mw);
          if (std::string(kind) == "histogram") {
            c.IntString(p, "count", mw, true);
            const json* counts = c.Array(p, "bucketCounts", mw);
            const json* bounds = c.Array(p, "explicitBounds", mw, true);
            if (counts && bounds && counts->size() != bounds->size() + 1) {
              c.Fail(mw, "bucketCounts must have one more entry than explicitBounds");
            }
            if (counts) {
              for (const auto& n : *counts) {
                if (!n.is_string()) c.Fail(mw, "bucketCounts entries must be decimal strings");
              }
            }
          } else {
            const bool as_int = p.contains("asInt");
            const bool as_double = p.contains("asDouble") && p["asDouble"].is_number();
            if (as_int) c.IntString(p, "asInt", mw, true);
            if (as_int == as_double)
              c.Fail(mw, "a data point needs exactly one of asInt, asDouble");
          }
        }
      }
    }
  }
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::vector<std::string> ValidateOtlpBody(const std::string& path, const std::string& body) {
  std::vector<std::string> errors;
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded()) return {"body is not JSON"};
  Checker c(&errors);
  if (path == "/v1/traces") {
    ValidateTraces(j, c);
  } else if (path == "/v1/logs") {
    ValidateLogs(j, c);
  } else if (path == "/v1/metrics") {
    ValidateMetrics(j, c);
  } else {
    errors.push_back("unknown OTLP path " + path);
  }
  return errors;
}

std::string ReceivedSpan::Attr(const std::string& key) const {
  auto it = attributes.find(key);
  if (it == attributes.end()) return "";
  const json& v = it->second;
  if (v.contains("stringValue")) return v["stringValue"].get<std::string>();
  if (v.contains("intValue")) {
    return v["intValue"].is_string() ? v["intValue"].get<std::string>() : v["intValue"].dump();
  }
  if (v.contains("boolValue")) return v["boolValue"].get<bool>() ? "true" : "false";
  if (v.contains("doubleValue")) return v["doubleValue"].dump();
  return v.dump();
}

core::Result<std::unique_ptr<OtlpReceiver>> OtlpReceiver::Start() {
  auto server = net::testing::ScriptedServer::Start();
  if (!server.ok()) return server.status();
  (*server)->SetDefaultResponse(
      ScriptedResponse(200).Header("Content-Type", "application/json").Write("{}"));
  return std::unique_ptr<OtlpReceiver>(new OtlpReceiver(std::move(server).value()));
}

OtlpReceiver::OtlpReceiver(std::unique_ptr<net::testing::ScriptedServer> server)
    : server_(std::move(server)) {}

std::string OtlpReceiver::endpoint() const { return server_->base_url(); }

void OtlpReceiver::FailNext(int status, int count, const std::string& retry_after) {
  for (int i = 0; i < count; ++i) {
    ScriptedResponse r(status);
    r.Header("Content-Type", "application/json");
    if (!retry_after.empty()) r.Header("Retry-After", retry_after);
    r.Write(R"({"code":14,"message":"unavailable"})");
    server_->Enqueue(std::move(r));
  }
}

void OtlpReceiver::HangNext(int count) {
  for (int i = 0; i < count; ++i) {
    server_->Enqueue(ScriptedResponse(200).BeforeHead({ScriptedStep{ScriptedStep::Kind::kHang}}));
  }
}

size_t OtlpReceiver::RequestCount(const std::string& path) const {
  size_t n = 0;
  for (const auto& r : server_->requests()) n += PathOf(r.target) == path ? 1 : 0;
  return n;
}

std::vector<nlohmann::json> OtlpReceiver::Bodies(const std::string& path) const {
  std::vector<json> out;
  for (const auto& r : server_->requests()) {
    if (PathOf(r.target) != path) continue;
    json j = json::parse(r.body, nullptr, false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}

std::vector<ReceivedSpan> OtlpReceiver::Spans() const {
  std::vector<ReceivedSpan> out;
  for (const json& body : Bodies("/v1/traces")) {
    for (const auto& rs : body.value("resourceSpans", json::array())) {
      std::map<std::string, std::string> resource;
      for (const auto& kv :
           rs.value("resource", json::object()).value("attributes", json::array())) {
        if (kv.contains("value") && kv["value"].contains("stringValue")) {
          resource[kv.value("key", "")] = kv["value"]["stringValue"].get<std::string>();
        }
      }
      for (const auto& ss : rs.value("scopeSpans", json::array())) {
        for (const auto& s : ss.value("spans", json::array())) {
          ReceivedSpan r;
          r.trace_id = Lower(s.value("traceId", ""));
          r.span_id = Lower(s.value("spanId", ""));
          r.parent_span_id = Lower(s.value("parentSpanId", ""));
          r.name = s.value("name", "");
          r.kind = s.value("kind", 0);
          if (s.contains("status")) {
            r.status_code = s["status"].value("code", 0);
            r.status_message = s["status"].value("message", "");
          }
          try {
            r.start_ns = std::stoll(s.value("startTimeUnixNano", "0"));
            r.end_ns = std::stoll(s.value("endTimeUnixNano", "0"));
          } catch (const std::exception&) {
          }
          for (const auto& kv : s.value("attributes", json::array())) {
            r.attributes[kv.value("key", "")] = kv.value("value", json::object());
          }
          r.resource = resource;
          out.push_back(std::move(r));
        }
      }
    }
  }
  return out;
}

std::vector<ReceivedLog> OtlpReceiver::Logs() const {
  std::vector<ReceivedLog> out;
  for (const json& body : Bodies("/v1/logs")) {
    for (const auto& rl : body.value("resourceLogs", json::array())) {
      for (const auto& sl : rl.value("scopeLogs", json::array())) {
        for (const auto& l : sl.value("logRecords", json::array())) {
          ReceivedLog r;
          r.trace_id = Lower(l.value("traceId", ""));
          r.span_id = Lower(l.value("spanId", ""));
          r.severity = l.value("severityNumber", 0);
          r.body = l.value("body", json::object()).value("stringValue", "");
          for (const auto& kv : l.value("attributes", json::array())) {
            if (kv.contains("value") && kv["value"].contains("stringValue")) {
              r.attributes[kv.value("key", "")] = kv["value"]["stringValue"].get<std::string>();
            }
          }
          out.push_back(std::move(r));
        }
      }
    }
  }
  return out;
}

std::vector<std::string> OtlpReceiver::MetricNames() const {
  std::set<std::string> names;
  for (const json& body : Bodies("/v1/metrics")) {
    for (const auto& rm : body.value("resourceMetrics", json::array())) {
      for (const auto& sm : rm.value("scopeMetrics", json::array())) {
        for (const auto& m : sm.value("metrics", json::array())) names.insert(m.value("name", ""));
      }
    }
  }
  return {names.begin(), names.end()};
}

std::vector<std::string> OtlpReceiver::Errors() const {
  std::vector<std::string> out;
  for (const auto& r : server_->requests()) {
    const std::string path = PathOf(r.target);
    if (r.method != "POST") out.push_back(path + ": method " + r.method + ", expected POST");
    if (r.Header("Content-Type").rfind("application/json", 0) != 0) {
      out.push_back(path + ": Content-Type '" + r.Header("Content-Type") + "'");
    }
    for (auto& e : ValidateOtlpBody(path, r.body)) out.push_back(path + ": " + e);
  }
  return out;
}

std::vector<std::string> OtlpReceiver::DanglingParents() const {
  const auto spans = Spans();
  std::set<std::pair<std::string, std::string>> ids;
  for (const auto& s : spans) ids.insert({s.trace_id, s.span_id});
  std::vector<std::string> out;
  for (const auto& s : spans) {
    if (!s.parent_span_id.empty() && !ids.count({s.trace_id, s.parent_span_id})) {
      out.push_back(s.name + ": parent " + s.parent_span_id);
    }
  }
  return out;
}

bool OtlpReceiver::WaitUntil(const std::function<bool()>& done,
                             std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const size_t seen = server_->request_count();
    if (done()) return true;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    // Wakes on the next request (or at the deadline) and looks again.
    server_->WaitForRequests(seen + 1,
                             std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
  }
}

}  // namespace artagent::platform::testing
