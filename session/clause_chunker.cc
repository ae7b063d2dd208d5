#include "session/clause_chunker.h"

#include <array>
#include <cctype>

namespace artagent::session {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

// Words whose trailing period does not end a sentence.
constexpr std::array<std::string_view, 12> kAbbreviations = {
    "mr", "mrs", "ms", "dr", "st", "vs", "etc", "e.g", "i.e", "no", "jr", "sr"};

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

ClauseChunker::ClauseChunker(ChunkerOptions options) : options_(options) {}

void ClauseChunker::Reset() {
  pending_.clear();
  scanned_ = 0;
  emitted_ = 0;
}

bool ClauseChunker::IsSentenceEnd(size_t i) const {
  const char c = pending_[i];
  if (c == '!' || c == '?') return true;
  if (c != '.') return false;
  // "3.5" is not an end; "Mr." and "e.g." are not either.
  size_t w = i;
  while (w > 0 && !IsSpace(pending_[w - 1])) --w;
  std::string word;
  for (size_t k = w; k < i; ++k) word += static_cast<char>(std::tolower(pending_[k]));
  for (auto a : kAbbreviations) {
    if (word == a) return false;
  }
  if (word.size() == 1 && std::isalpha(static_cast<unsigned char>(word[0])) &&
      std::isupper(static_cast<unsigned char>(pending_[w]))) {
    return false;  // an initial: "J. Smith"
  }
  return true;
}

void ClauseChunker::Emit(size_t end, std::vector<std::string>* out) {
  std::string clause = Trim(std::string_view(pending_).substr(0, end));
  pending_.erase(0, end);
  scanned_ = 0;
  if (!clause.empty()) {
    out->push_back(std::move(clause));
    ++emitted_;
  }
}

void ClauseChunker::Push(std::string_view delta, std::vector<std::string>* out) {
  pending_.append(delta);
  // A boundary is only certain once the character after the punctuation is seen (it must be a
  // space), so the last character is never decided here.
  for (size_t i = scanned_; i + 1 < pending_.size(); ++i) {
    const char c = pending_[i];
    const bool next_space = IsSpace(pending_[i + 1]);
    const size_t len = i + 1;
    const size_t min_len = emitted_ == 0 ? options_.first_min_chars : options_.min_chars;
    bool cut = false;
    if (c == '\n') {
      cut = true;
    } else if (next_space && IsSentenceEnd(i)) {
      cut = len >= 2;
    } else if (next_space && (c == ',' || c == ';' || c == ':')) {
      cut = len >= min_len;
    } else if (len >= options_.max_chars && IsSpace(c)) {
      cut = true;
    }
    if (cut) {
      Emit(len, out);
      i = static_cast<size_t>(-1);  // restart the scan on what is left
      continue;
    }
    scanned_ = i + 1;
  }
}

void ClauseChunker::Flush(std::vector<std::string>* out) {
  if (!pending_.empty()) Emit(pending_.size(), out);
  scanned_ = 0;
}

}  // namespace artagent::session
