#pragma once
// What the caller heard of an agent reply. The reply's audio is a sequence of clauses, each with
// its span of samples; when playback stops early (barge-in, truncation) the history keeps the
// clauses heard in full and, of the clause cut short, the share of its words matching the share
// of its audio that was played.

#include <cstdint>
#include <string>
#include <vector>

namespace artagent::session {

struct ClauseSpan {
  std::string text;
  int64_t start = 0;  // samples at the item's rate
  int64_t end = 0;
};

struct ItemAudio {
  std::vector<ClauseSpan> spans;
  int64_t total = 0;  // samples sent
  int sample_rate = 24000;
  std::string full_text;
};

// The first round-down(fraction * words) words of `text`.
std::string HeardPrefix(const std::string& text, double fraction);
// The text heard when playback stopped after `heard_samples`.
std::string TextHeard(const ItemAudio& audio, int64_t heard_samples);

}  // namespace artagent::session
