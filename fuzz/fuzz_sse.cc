// SseParser fed the same bytes twice: once whole and once cut at split points taken from the input
// itself. The two runs must emit the same events (splitting anywhere is the parser's contract).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "net/sse.h"

using artagent::net::SseEvent;
using artagent::net::SseParser;

namespace {

struct Run {
  std::vector<SseEvent> events;
  bool failed = false;
  int64_t retry_ms = -1;
};

Run Feed(std::string_view bytes, const std::vector<size_t>& cuts, size_t max_bytes) {
  Run run;
  SseParser parser(max_bytes);
  size_t pos = 0;
  auto push = [&](std::string_view piece) {
    auto status = parser.Push(piece, [&](SseEvent event) { run.events.push_back(std::move(event)); });
    if (!status.ok()) run.failed = true;
  };
  for (size_t cut : cuts) {
    if (cut < pos || cut > bytes.size()) continue;
    push(bytes.substr(pos, cut - pos));
    pos = cut;
  }
  push(bytes.substr(pos));
  run.retry_ms = parser.retry_ms();
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // First byte: the cut seed; the rest is the stream.
  const uint8_t seed = data[0];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<size_t> cuts;
  size_t step = 1 + seed % 7;
  for (size_t at = step; at < bytes.size(); at += step) {
    cuts.push_back(at);
    step = 1 + (step * 5 + static_cast<uint8_t>(bytes[at])) % 11;
  }
  // A small bound as well as the default, so the kResourceExhausted path is reached.
  for (size_t max_bytes : {SseParser::kDefaultMaxEventBytes, size_t{64}}) {
    Run whole = Feed(bytes, {}, max_bytes);
    Run split = Feed(bytes, cuts, max_bytes);
    if (whole.failed != split.failed) continue;  // the bound may trip at a different place
    if (whole.failed) continue;
    if (whole.events.size() != split.events.size() || whole.retry_ms != split.retry_ms) {
      std::abort();
    }
    for (size_t i = 0; i < whole.events.size(); ++i) {
      const SseEvent& a = whole.events[i];
      const SseEvent& b = split.events[i];
      if (a.event != b.event || a.data != b.data || a.id != b.id) std::abort();
    }
  }
  return 0;
}
