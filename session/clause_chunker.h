#pragma once
// ClauseChunker: cuts a stream of text deltas (from a model) into clauses that are worth sending to
// TTS on their own. The first clause of a response is released as early as possible (first audio
// sooner); later ones are longer (better prosody, fewer synthesis calls).

#include <string>
#include <string_view>
#include <vector>

namespace artagent::session {

struct ChunkerOptions {
  size_t first_min_chars = 12;  // a comma may end the first clause once it is this long
  size_t min_chars = 40;        // ... and later clauses once they are this long
  size_t max_chars = 220;       // cut at the last space beyond this, punctuation or not
};

class ClauseChunker {
 public:
  explicit ClauseChunker(ChunkerOptions options = {});

  // Appends `delta` and moves every complete clause to `out` (trimmed, never empty).
  void Push(std::string_view delta, std::vector<std::string>* out);
  // End of the response: whatever is left becomes the last clause.
  void Flush(std::vector<std::string>* out);
  void Reset();

 private:
  void Emit(size_t end, std::vector<std::string>* out);
  bool IsSentenceEnd(size_t i) const;

  ChunkerOptions options_;
  std::string pending_;
  size_t scanned_ = 0;
  size_t emitted_ = 0;  // clauses released since Reset()
};

}  // namespace artagent::session
