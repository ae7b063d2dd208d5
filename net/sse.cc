#include "net/sse.h"

#include <charconv>
#include <utility>

namespace artagent::net {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

}  // namespace

SseParser::SseParser(size_t max_event_bytes) : max_event_bytes_(max_event_bytes) {}

core::Status SseParser::Push(std::string_view bytes,
                             const std::function<void(SseEvent event)>& on_event) {
  if (!failure_.ok()) return failure_;
  size_t i = 0;
  // The BOM may itself arrive split across pushes.
  while (bom_seen_ < kBom.size() && i < bytes.size()) {
    if (bytes[i] == kBom[bom_seen_]) {
      ++bom_seen_;
      ++i;
      continue;
    }
    line_.append(kBom.substr(0, bom_seen_));  // not a BOM after all: those bytes are content
    bom_seen_ = kBom.size();
  }
  while (i < bytes.size()) {
    const char c = bytes[i];
    if (after_cr_) {
      after_cr_ = false;
      if (c == '\n') {
        ++i;
        continue;
      }
    }
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      ++i;
      SseEvent event;
      if (ProcessLine(&event) && on_event) on_event(std::move(event));
      continue;
    }
    // Copy the run of ordinary bytes at once.
    size_t end = i;
    while (end < bytes.size() && bytes[end] != '\r' && bytes[end] != '\n') ++end;
    line_.append(bytes.substr(i, end - i));
    i = end;
    if (OverLimit()) break;
  }
  if (OverLimit()) {
    failure_ = core::ResourceExhaustedError("SSE event exceeds " +
                                            std::to_string(max_event_bytes_) + " bytes");
    line_.clear();
    data_.clear();
    event_.clear();
    return failure_;
  }
  return core::OkStatus();
}

bool SseParser::ProcessLine(SseEvent* out) {
  const bool completed = ProcessField(line_, out);
  line_.clear();
  return completed;
}

bool SseParser::ProcessField(std::string_view line, SseEvent* out) {
  if (line.empty()) {
    // Blank line: dispatch.
    if (!has_data_) {
      event_.clear();
      return false;
    }
    if (!data_.empty() && data_.back() == '\n') data_.pop_back();
    out->data = std::move(data_);
    out->event = event_.empty() ? "message" : std::move(event_);
    out->id = last_id_;
    data_.clear();
    event_.clear();
    has_data_ = false;
    return true;
  }
  if (line.front() == ':') return false;  // comment
  std::string_view field = line;
  std::string_view value;
  if (size_t colon = field.find(':'); colon != std::string_view::npos) {
    value = field.substr(colon + 1);
    field = field.substr(0, colon);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    data_.append(value);
    data_.push_back('\n');
    has_data_ = true;
  } else if (field == "event") {
    event_.assign(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) last_id_.assign(value);
  } else if (field == "retry") {
    int64_t ms = 0;
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (ec == std::errc() && ptr == value.data() + value.size() && !value.empty()) retry_ms_ = ms;
  }
  return false;
}

}  // namespace artagent::net
