#include "session/heard_text.h"

#include <sstream>

namespace artagent::session {

std::string HeardPrefix(const std::string& text, double fraction) {
  if (fraction >= 1.0) return text;
  if (fraction <= 0.0) return {};
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  const size_t keep = static_cast<size_t>(static_cast<double>(words.size()) * fraction);
  std::string out;
  for (size_t i = 0; i < keep; ++i) {
    if (i) out += ' ';
    out += words[i];
  }
  return out;
}

std::string TextHeard(const ItemAudio& audio, int64_t heard_samples) {
  std::string out;
  for (const auto& s : audio.spans) {
    std::string part;
    if (s.end <= heard_samples) {
      part = s.text;
    } else if (s.start < heard_samples && s.end > s.start) {
      part = HeardPrefix(s.text, static_cast<double>(heard_samples - s.start) /
                                     static_cast<double>(s.end - s.start));
    }
    if (part.empty()) continue;
    if (!out.empty()) out += ' ';
    out += part;
  }
  return out;
}

}  // namespace artagent::session
