#include "agent/memory.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "agent/flow/slots.h"

namespace artagent::agent {
namespace {

std::string Trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

const nlohmann::json* Walk(const nlohmann::json* at, const std::string& rest) {
  size_t pos = 0;
  while (at && pos < rest.size()) {
    size_t dot = rest.find('.', pos);
    std::string key = rest.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    pos = dot == std::string::npos ? rest.size() : dot + 1;
    if (at->is_object()) {
      auto it = at->find(key);
      at = it == at->end() ? nullptr : &*it;
    } else if (at->is_array() && !key.empty() && std::all_of(key.begin(), key.end(), ::isdigit)) {
      size_t i = std::stoul(key);
      at = i < at->size() ? &(*at)[i] : nullptr;
    } else {
      at = nullptr;
    }
  }
  return at;
}

std::string Ordinal(int d) {
  const char* suffix = "th";
  if (d % 100 < 11 || d % 100 > 13) {
    if (d % 10 == 1) suffix = "st";
    if (d % 10 == 2) suffix = "nd";
    if (d % 10 == 3) suffix = "rd";
  }
  return std::to_string(d) + suffix;
}

// "1985-03-03" -> "March 3rd, 1985"; anything else unchanged.
std::string SpeakDate(const std::string& iso) {
  static const char* kMonths[] = {"January",   "February", "March",    "April",
                                  "May",       "June",     "July",     "August",
                                  "September", "October",  "November", "December"};
  int y = 0, m = 0, d = 0;
  if (std::sscanf(iso.c_str(), "%d-%d-%d", &y, &m, &d) != 3 || m < 1 || m > 12 || d < 1 || d > 31) {
    return iso;
  }
  return std::string(kMonths[m - 1]) + " " + Ordinal(d) + ", " + std::to_string(y);
}

}  // namespace

std::string ValueText(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d == static_cast<double>(static_cast<int64_t>(d))) {
      return std::to_string(static_cast<int64_t>(d));
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", d);
    return buf;
  }
  if (v.is_null()) return "";
  return v.dump();
}

void Memory::Set(const std::string& name, const std::string& type, nlohmann::json value,
                 const std::string& agent, std::string spoken) {
  Slot& s = slots_[name];
  s.type = type;
  s.value = std::move(value);
  s.spoken = std::move(spoken);
  updates_.push_back({name, type, s.value.dump(), agent});
}

const nlohmann::json* Memory::Find(const std::string& path) const {
  size_t dot = path.find('.');
  std::string head = path.substr(0, dot);
  auto it = slots_.find(head);
  if (it == slots_.end()) return nullptr;
  if (dot == std::string::npos) return &it->second.value;
  return Walk(&it->second.value, path.substr(dot + 1));
}

nlohmann::json Memory::Values() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, s] : slots_) out[name] = s.value;
  return out;
}

std::vector<session::SlotInfo> Memory::TakeUpdates() {
  std::vector<session::SlotInfo> out;
  out.swap(updates_);
  return out;
}

std::string Memory::Render(const std::string& templ, const nlohmann::json* result) const {
  std::string out;
  size_t i = 0;
  while (i < templ.size()) {
    size_t open = templ.find("{{", i);
    size_t close = open == std::string::npos ? open : templ.find("}}", open + 2);
    if (close == std::string::npos) {
      out += templ.substr(i);
      break;
    }
    out += templ.substr(i, open - i);
    std::string expr = templ.substr(open + 2, close - open - 2);
    std::string filter;
    if (auto bar = expr.find('|'); bar != std::string::npos) {
      filter = Trim(expr.substr(bar + 1));
      expr = expr.substr(0, bar);
    }
    expr = Trim(expr);
    std::string text;
    if (const nlohmann::json* v = Lookup(expr, result)) {
      text = ValueText(*v);
    } else if (auto var = vars_.find(expr); var != vars_.end()) {
      text = var->second;
    }
    if (filter == "digits") {
      text = SpellDigits(text);
    } else if (filter == "spoken") {
      auto s = slots_.find(expr);
      if (s != slots_.end() && !s->second.spoken.empty()) text = s->second.spoken;
    } else if (filter == "date") {
      text = SpeakDate(text);
    } else if (filter == "upper") {
      std::transform(text.begin(), text.end(), text.begin(), ::toupper);
    } else if (filter == "lower") {
      std::transform(text.begin(), text.end(), text.begin(), ::tolower);
    }
    out += text;
    i = close + 2;
  }
  return out;
}

const nlohmann::json* Memory::Lookup(const std::string& path, const nlohmann::json* result) const {
  if (result && path == "result") return result;
  if (result && path.rfind("result.", 0) == 0) return Walk(result, path.substr(7));
  return Find(path);
}

nlohmann::json Memory::Value(const std::string& templ, const nlohmann::json* result) const {
  const bool single =
      templ.size() > 4 && templ.rfind("{{", 0) == 0 && templ.find("}}") == templ.size() - 2 &&
      templ.find("{{", 2) == std::string::npos && templ.find('|') == std::string::npos;
  if (single) {
    if (const nlohmann::json* v = Lookup(Trim(templ.substr(2, templ.size() - 4)), result))
      return *v;
  }
  return Render(templ, result);
}

bool EvalCondition(const std::string& when_in, const nlohmann::json& result, bool tool_ok,
                   const Memory& memory) {
  std::string when = Trim(when_in);
  if (when.empty()) return true;
  if (when == "ok") return tool_ok;
  if (when == "error") return !tool_ok;
  auto lookup = [&](const std::string& path) -> const nlohmann::json* {
    if (const nlohmann::json* v = Walk(&result, path)) return v;
    return memory.Find(path);
  };
  for (const char* op : {"==", "!="}) {
    size_t at = when.find(op);
    if (at == std::string::npos) continue;
    std::string path = Trim(when.substr(0, at));
    std::string literal = Trim(when.substr(at + 2));
    if (literal.size() >= 2 && (literal.front() == '\'' || literal.front() == '"')) {
      literal = literal.substr(1, literal.size() - 2);
    }
    const nlohmann::json* v = lookup(path);
    bool equal = false;
    if (v) {
      nlohmann::json parsed = nlohmann::json::parse(literal, nullptr, false);
      equal = (!parsed.is_discarded() && *v == parsed) || ValueText(*v) == literal;
    }
    return op[0] == '=' ? equal : !equal;
  }
  bool negate = when[0] == '!';
  const nlohmann::json* v = lookup(Trim(negate ? when.substr(1) : when));
  bool truthy = v && !v->is_null() && !(v->is_boolean() && !v->get<bool>()) &&
                !(v->is_string() && v->get<std::string>().empty()) &&
                !(v->is_number() && v->get<double>() == 0);
  return negate ? !truthy : truthy;
}

}  // namespace artagent::agent
