#pragma once
// SseParser: an incremental Server-Sent Events parser (the WHATWG "event stream" grammar), for
// streaming APIs such as chat completions. Bytes go in as they arrive, split anywhere (inside a
// field name, between "\r" and "\n", inside a UTF-8 sequence); complete events come out.
//
// Rules followed: lines end with "\r\n", "\n" or "\r"; a blank line dispatches the event; "data"
// lines are joined with "\n"; lines starting with ':' are comments; "field: value" loses one
// leading space of the value; a line without ':' is a field with an empty value; unknown fields
// are ignored; a leading UTF-8 BOM is skipped; an event with no data line is not dispatched.
// "id" persists across events (the last event id); "retry" sets retry_ms().
//
// Not thread-safe: one parser per stream.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace artagent::net {

struct SseEvent {
  std::string event = "message";  // the "event" field, "message" when absent
  std::string data;               // "data" lines joined with "\n"
  std::string id;                 // the last event id seen so far in the stream
};

class SseParser {
 public:
  static constexpr size_t kDefaultMaxEventBytes = 1 << 20;

  // `max_event_bytes` bounds one event's pending size (data, event name and the current line).
  explicit SseParser(size_t max_event_bytes = kDefaultMaxEventBytes);

  // Feeds `bytes`; calls `on_event` for each event completed by them, in order. Returns
  // kResourceExhausted ("SSE event exceeds N bytes") when an event grows past the bound; the parser
  // is then failed: later calls return the same error and emit nothing. `on_event` may be empty.
  core::Status Push(std::string_view bytes, const std::function<void(SseEvent event)>& on_event);

  // The last "retry" field value (milliseconds), -1 when none was seen.
  int64_t retry_ms() const { return retry_ms_; }
  // Bytes of an event that has started but not been dispatched (a stream that ends here cut it).
  bool HasPartialEvent() const { return !line_.empty() || has_data_ || !event_.empty(); }

 private:
  // Handles one complete line; true when it completed an event, moved into `out`.
  bool ProcessLine(SseEvent* out);
  bool ProcessField(std::string_view line, SseEvent* out);
  bool OverLimit() const { return line_.size() + data_.size() + event_.size() > max_event_bytes_; }

  size_t max_event_bytes_;
  core::Status failure_;
  std::string line_;       // the line being assembled
  std::string data_;       // data lines of the current event, each followed by "\n"
  bool has_data_ = false;  // a data line was seen (data may still be empty)
  std::string event_;      // the current event's type
  std::string last_id_;
  int64_t retry_ms_ = -1;
  bool after_cr_ = false;  // the previous byte ended a line with '\r': skip a following '\n'
  size_t bom_seen_ = 0;    // leading BOM bytes matched so far (3 = done or not present)
};

}  // namespace artagent::net
