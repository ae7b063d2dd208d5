#include "speech/local/pocketsphinx_stt.h"

#include <pocketsphinx.h>
#include <sphinxbase/ckd_alloc.h>
#include <sphinxbase/cmn.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/jsgf.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <set>
#include <sstream>
#include <utility>

#include "core/log.h"
#include "speech/local/flite_tts.h"

namespace artagent::speech {
namespace {

constexpr char kGrammarSearch[] = "artagent_grammar";
constexpr char kPrimingText[] = "thank you for calling, how can i help you today";
// Audio kept for the language-model re-decode of a rejected grammar utterance: 30 s (960 KB).
// Longer utterances are not answers to a prompt; their fallback is skipped.
constexpr size_t kMaxFallbackSamples = 30 * 16000;
// Feed() decodes in 20 ms steps so partials are as fresh as the audio.
constexpr size_t kChunkSamples = 320;

void SilenceLibraryLogOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (!core::LogEnabled(core::LogLevel::kDebug)) {
      err_set_logfp(nullptr);
    }
  });
}

bool IsFillerOrSilence(std::string_view word) {
  return word.empty() || word.front() == '<' || word.front() == '[' || word.starts_with("++");
}

// sphinxbase's JSGF scanner ECHOes to stdout whatever it cannot tokenise between declarations
// (a server's stdout may carry JSON lines), and it even accepts a grammar followed by such junk.
// This mirrors its top-level rules: whitespace, comments, "#JSGF", "grammar", "import", "public"
// and <rulename> start a declaration, which runs to ';' (quoted strings and {tags} may hold one).
// Returns the offset of the first character it would echo, or npos.
size_t FindJsgfJunk(std::string_view s) {
  size_t i = 0;
  bool in_declaration = false;
  while (i < s.size()) {
    std::string_view rest = s.substr(i);
    if (std::isspace(static_cast<unsigned char>(s[i]))) {
      ++i;
    } else if (rest.starts_with("//")) {
      i = s.find('\n', i);
    } else if (rest.starts_with("/*")) {
      size_t end = s.find("*/", i + 2);
      i = end == std::string_view::npos ? end : end + 2;
    } else if (in_declaration) {
      if (s[i] == ';') {
        in_declaration = false;
        ++i;
      } else if (s[i] == '"' || s[i] == '{') {
        char close = s[i] == '"' ? '"' : '}';
        for (++i; i < s.size() && s[i] != close; ++i) {
          i += s[i] == '\\' ? 1 : 0;
        }
        i = i < s.size() ? i + 1 : std::string_view::npos;
      } else {
        ++i;
      }
    } else if (s[i] == '<') {
      size_t end = s.find('>', i);
      if (end == std::string_view::npos) {
        return i;
      }
      in_declaration = true;
      i = end + 1;
    } else {
      bool keyword = false;
      for (std::string_view word : {"#JSGF", "grammar", "import", "public"}) {
        if (rest.starts_with(word)) {
          keyword = true;
          i += word.size();
          break;
        }
      }
      if (!keyword) {
        return i;
      }
      in_declaration = true;
    }
  }
  return std::string_view::npos;
}

// One pocketsphinx decoder with the language model search (created by ps_init) and, when a
// grammar is installed, a JSGF search under kGrammarSearch.
class Decoder {
 public:
  static core::Result<std::unique_ptr<Decoder>> Create(const PocketsphinxOptions& o) {
    const char* fast = o.low_latency ? "no" : "yes";
    cmd_ln_t* config = cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", o.hmm_dir.c_str(), "-dict",
                                   o.dict_path.c_str(), "-lm", o.lm_path.c_str(), "-fwdflat", fast,
                                   "-bestpath", fast, static_cast<const char*>(nullptr));
    if (config == nullptr) {
      return core::InternalError("pocketsphinx rejected its configuration");
    }
    ps_decoder_t* ps = ps_init(config);
    cmd_ln_free_r(config);  // the decoder holds its own reference
    if (ps == nullptr) {
      return core::InternalError("pocketsphinx could not load the model in " + o.hmm_dir);
    }
    return std::unique_ptr<Decoder>(new Decoder(ps));
  }

  ~Decoder() { ps_free(ps_); }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  ps_decoder_t* ps() { return ps_; }
  const char* lm_search() const { return lm_search_.c_str(); }

  std::vector<mfcc_t> GetCmn() {
    cmn_t* cmn = ps_get_feat(ps_)->cmn_struct;
    std::vector<mfcc_t> mean(static_cast<size_t>(cmn->veclen));
    cmn_live_get(cmn, mean.data());
    return mean;
  }
  void SetCmn(const std::vector<mfcc_t>& mean) {
    cmn_t* cmn = ps_get_feat(ps_)->cmn_struct;
    if (mean.size() == static_cast<size_t>(cmn->veclen)) {
      cmn_live_set(cmn, mean.data());
    }
  }

  // Replacing a search that is active leaves pocketsphinx pointing at freed memory, so the LM
  // search is made active first.
  bool InstallGrammar(fsg_model_t* fsg) {
    ps_set_search(ps_, lm_search());
    return ps_set_fsg(ps_, kGrammarSearch, fsg) == 0;
  }
  void RemoveGrammar() {
    ps_set_search(ps_, lm_search());
    ps_unset_search(ps_, kGrammarSearch);
  }

 private:
  explicit Decoder(ps_decoder_t* ps) : ps_(ps), lm_search_(ps_get_search(ps)) {}

  ps_decoder_t* ps_;
  std::string lm_search_;
};

// Idle decoders and the primed cepstral mean. Shared by the engine and its streams, so a stream
// may outlive the engine.
class DecoderPool {
 public:
  explicit DecoderPool(PocketsphinxOptions options) : options_(std::move(options)) {}

  const PocketsphinxOptions& options() const { return options_; }

  // Decodes the priming clip once and keeps the CMN it leaves; fills the pool.
  core::Status Prime(const std::vector<int16_t>& clip) {
    ARTAGENT_ASSIGN_OR_RETURN(std::unique_ptr<Decoder> decoder, Decoder::Create(options_));
    ps_decoder_t* ps = decoder->ps();
    if (ps_start_utt(ps) < 0 || ps_process_raw(ps, clip.data(), clip.size(), FALSE, FALSE) < 0 ||
        ps_end_utt(ps) < 0) {
      return core::InternalError("pocketsphinx failed to decode the priming clip");
    }
    primed_cmn_ = decoder->GetCmn();
    std::vector<std::unique_ptr<Decoder>> warm;
    if (options_.pool_size > 0) {
      warm.push_back(std::move(decoder));
    }
    while (static_cast<int>(warm.size()) < options_.pool_size) {
      ARTAGENT_ASSIGN_OR_RETURN(std::unique_ptr<Decoder> more, NewDecoder());
      warm.push_back(std::move(more));
    }
    std::lock_guard<std::mutex> lock(mu_);
    idle_ = std::move(warm);
    return core::OkStatus();
  }

  core::Result<std::unique_ptr<Decoder>> Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        std::unique_ptr<Decoder> decoder = std::move(idle_.back());
        idle_.pop_back();
        return decoder;
      }
    }
    return NewDecoder();  // outside the lock: 0.2 s
  }

  void Release(std::unique_ptr<Decoder> decoder) {
    decoder->RemoveGrammar();
    decoder->SetCmn(primed_cmn_);
    std::lock_guard<std::mutex> lock(mu_);
    if (static_cast<int>(idle_.size()) < options_.pool_size) {
      idle_.push_back(std::move(decoder));
    }
  }

 private:
  core::Result<std::unique_ptr<Decoder>> NewDecoder() {
    ARTAGENT_ASSIGN_OR_RETURN(std::unique_ptr<Decoder> decoder, Decoder::Create(options_));
    decoder->SetCmn(primed_cmn_);  // same effect as decoding the priming clip, for free
    return decoder;
  }

  const PocketsphinxOptions options_;
  std::vector<mfcc_t> primed_cmn_;  // written once by Prime(), read-only afterwards
  std::mutex mu_;
  std::vector<std::unique_ptr<Decoder>> idle_;
};

struct FsgDeleter {
  void operator()(fsg_model_t* fsg) const { fsg_model_free(fsg); }
};
using FsgPtr = std::unique_ptr<fsg_model_t, FsgDeleter>;

struct JsgfDeleter {
  void operator()(jsgf_t* jsgf) const { jsgf_grammar_free(jsgf); }
};

class PocketsphinxStream final : public SttStream {
 public:
  PocketsphinxStream(std::shared_ptr<DecoderPool> pool, std::unique_ptr<Decoder> decoder)
      : pool_(std::move(pool)), decoder_(std::move(decoder)) {}

  ~PocketsphinxStream() override {
    CancelUtterance();
    pool_->Release(std::move(decoder_));
  }

  core::Status StartUtterance() override {
    CancelUtterance();
    ps_decoder_t* ps = decoder_->ps();
    if (grammar_mode_) {
      if (pending_fsg_ != nullptr) {
        if (!decoder_->InstallGrammar(pending_fsg_.get())) {
          return core::InternalError("pocketsphinx refused the grammar");
        }
        pending_fsg_.reset();
      }
    }
    const char* search = grammar_mode_ ? kGrammarSearch : decoder_->lm_search();
    if (ps_set_search(ps, search) < 0) {
      return core::InternalError(std::string("pocketsphinx has no search ") + search);
    }
    if (ps_start_utt(ps) < 0) {
      return core::InternalError("ps_start_utt failed");
    }
    audio_.clear();
    audio_overflow_ = false;
    in_utterance_ = true;
    return core::OkStatus();
  }

  core::Result<std::string> Feed(std::span<const int16_t> pcm) override {
    if (!in_utterance_) {
      return core::FailedPreconditionError("Feed() outside an utterance: call StartUtterance()");
    }
    if (grammar_mode_ && fallback_to_lm_ && !audio_overflow_) {
      if (audio_.size() + pcm.size() <= kMaxFallbackSamples) {
        audio_.insert(audio_.end(), pcm.begin(), pcm.end());
      } else {
        audio_overflow_ = true;
        audio_.clear();
      }
    }
    ps_decoder_t* ps = decoder_->ps();
    for (size_t i = 0; i < pcm.size(); i += kChunkSamples) {
      size_t n = std::min(kChunkSamples, pcm.size() - i);
      if (ps_process_raw(ps, pcm.data() + i, n, FALSE, FALSE) < 0) {
        return core::InternalError("ps_process_raw failed");
      }
    }
    int32 score = 0;
    const char* hyp = ps_get_hyp(ps, &score);
    return NormalizePocketsphinxText(hyp != nullptr ? hyp : "");
  }

  core::Result<SttResult> EndUtterance() override {
    if (!in_utterance_) {
      return core::FailedPreconditionError("EndUtterance() without StartUtterance()");
    }
    in_utterance_ = false;
    ps_decoder_t* ps = decoder_->ps();
    if (ps_end_utt(ps) < 0) {
      return core::InternalError("ps_end_utt failed");
    }
    Hypothesis hyp = CurrentHypothesis();
    SttResult result;
    if (!grammar_mode_) {
      result.confidence = hyp.text.empty() ? 0.0 : LmConfidence(hyp.score_per_frame);
      result.text = std::move(hyp.text);
      return result;
    }
    const PocketsphinxOptions& o = pool_->options();
    result.from_grammar = true;
    result.confidence = hyp.text.empty() ? 0.0
                                         : Logistic(hyp.score_per_frame, o.grammar_reject_score,
                                                    o.grammar_score_scale);
    if (result.confidence >= 0.5) {
      result.text = std::move(hyp.text);
      return result;
    }
    core::LogDebug("stt", "grammar rejected \"{}\" (score {:.1f}/frame, confidence {:.2f})",
                   hyp.text, hyp.score_per_frame, result.confidence);
    if (!fallback_to_lm_ || audio_.empty() || audio_overflow_) {
      return result;  // empty text, low confidence
    }
    return DecodeAgainWithLanguageModel();
  }

  void CancelUtterance() override {
    if (in_utterance_) {
      ps_end_utt(decoder_->ps());
      in_utterance_ = false;
    }
    audio_.clear();
  }

  core::Status UseGrammar(const std::string& jsgf, bool fallback_to_lm) override {
    if (grammar_mode_ && jsgf == grammar_text_) {
      fallback_to_lm_ = fallback_to_lm;
      return core::OkStatus();
    }
    ARTAGENT_ASSIGN_OR_RETURN(FsgPtr fsg, BuildGrammar(jsgf));
    pending_fsg_ = std::move(fsg);
    grammar_text_ = jsgf;
    grammar_mode_ = true;
    fallback_to_lm_ = fallback_to_lm;
    return core::OkStatus();
  }

  void UseLanguageModel() override { grammar_mode_ = false; }

 private:
  // Centre of the LM-mode confidence, a rough one: it only goes low for poor acoustic matches
  // (noise, mumbling). LM paths score lower per frame than grammar paths (their scores include the
  // lexical-tree look-ahead): -22 .. -39 measured on the flite sentences and the packaged human
  // recordings, right or wrong alike; posterior probabilities would need the lattice pass that
  // low_latency turns off.
  static constexpr double kLmCentre = -45.0;

  struct Hypothesis {
    std::string text;
    double score_per_frame = 0.0;  // mean acoustic score per frame of the words, <= 0
  };

  static double Logistic(double x, double centre, double scale) {
    return 1.0 / (1.0 + std::exp((centre - x) / scale));
  }
  static double LmConfidence(double score_per_frame) {
    return Logistic(score_per_frame, kLmCentre, 4.0);
  }

  Hypothesis CurrentHypothesis() {
    ps_decoder_t* ps = decoder_->ps();
    Hypothesis hyp;
    int32 score = 0;
    const char* text = ps_get_hyp(ps, &score);
    hyp.text = NormalizePocketsphinxText(text != nullptr ? text : "");
    int64_t ascr_sum = 0;
    int64_t frames = 0;
    for (ps_seg_t* seg = ps_seg_iter(ps); seg != nullptr; seg = ps_seg_next(seg)) {
      if (IsFillerOrSilence(ps_seg_word(seg))) {
        continue;
      }
      int32 ascr = 0, lscr = 0, lback = 0;
      ps_seg_prob(seg, &ascr, &lscr, &lback);
      int start = 0, end = 0;
      ps_seg_frames(seg, &start, &end);
      ascr_sum += ascr;
      frames += end - start + 1;
    }
    hyp.score_per_frame = frames > 0 ? static_cast<double>(ascr_sum) / frames : 0.0;
    return hyp;
  }

  // The grammar pass already updated the live CMN with this utterance; the second pass must not
  // count it twice.
  core::Result<SttResult> DecodeAgainWithLanguageModel() {
    ps_decoder_t* ps = decoder_->ps();
    std::vector<mfcc_t> cmn = decoder_->GetCmn();
    ps_set_search(ps, decoder_->lm_search());
    bool ok = ps_start_utt(ps) >= 0;
    for (size_t i = 0; ok && i < audio_.size(); i += kChunkSamples) {
      size_t n = std::min(kChunkSamples, audio_.size() - i);
      ok = ps_process_raw(ps, audio_.data() + i, n, FALSE, FALSE) >= 0;
    }
    ok = ps_end_utt(ps) >= 0 && ok;
    decoder_->SetCmn(cmn);
    audio_.clear();
    if (!ok) {
      return core::InternalError("pocketsphinx failed to re-decode the utterance");
    }
    Hypothesis hyp = CurrentHypothesis();
    SttResult result;
    result.text = std::move(hyp.text);
    result.confidence = result.text.empty() ? 0.0 : LmConfidence(hyp.score_per_frame);
    result.from_grammar = false;
    return result;
  }

  core::Result<FsgPtr> BuildGrammar(const std::string& text) {
    if (size_t junk = FindJsgfJunk(text); junk != std::string::npos) {
      return core::InvalidArgumentError("the JSGF grammar does not parse: unexpected \"" +
                                        text.substr(junk, 20) + "\" at offset " +
                                        std::to_string(junk));
    }
    std::unique_ptr<jsgf_t, JsgfDeleter> jsgf(jsgf_parse_string(text.c_str(), nullptr));
    if (jsgf == nullptr) {
      return core::InvalidArgumentError("the JSGF grammar does not parse");
    }
    jsgf_rule_t* rule = jsgf_get_public_rule(jsgf.get());
    if (rule == nullptr) {
      return core::InvalidArgumentError("the JSGF grammar has no public rule");
    }
    ps_decoder_t* ps = decoder_->ps();
    float32 lw = cmd_ln_float32_r(ps_get_config(ps), "-lw");
    FsgPtr fsg(jsgf_build_fsg(jsgf.get(), rule, ps_get_logmath(ps), lw));
    if (fsg == nullptr) {
      return core::InvalidArgumentError("the JSGF grammar's public rule cannot be compiled");
    }
    std::set<std::string> missing;
    for (int32 wid = 0; wid < fsg_model_n_word(fsg.get()); ++wid) {
      const char* word = fsg_model_word_str(fsg.get(), wid);
      char* phones = ps_lookup_word(ps, word);
      if (phones == nullptr) {
        missing.insert(word);
      }
      ckd_free(phones);
    }
    if (!missing.empty()) {
      std::string list;
      for (const std::string& word : missing) {
        list += (list.empty() ? "" : ", ") + ("'" + word + "'");
      }
      return core::InvalidArgumentError("grammar words not in the pronunciation dictionary: " +
                                        list + " (words are lower case; spell numbers out)");
    }
    return fsg;
  }

  std::shared_ptr<DecoderPool> pool_;
  std::unique_ptr<Decoder> decoder_;
  bool in_utterance_ = false;
  bool grammar_mode_ = false;
  bool fallback_to_lm_ = false;
  std::string grammar_text_;
  FsgPtr pending_fsg_;           // built by UseGrammar(), installed by the next StartUtterance()
  std::vector<int16_t> audio_;   // the utterance, kept in grammar mode for the LM fallback
  bool audio_overflow_ = false;  // longer than kMaxFallbackSamples: no fallback
};

class PocketsphinxEngine final : public SttEngine {
 public:
  explicit PocketsphinxEngine(std::shared_ptr<DecoderPool> pool) : pool_(std::move(pool)) {}

  std::string name() const override { return "pocketsphinx"; }

  core::Result<std::unique_ptr<SttStream>> NewStream(const SttOptions& options) override {
    std::string lang = options.language;
    std::transform(lang.begin(), lang.end(), lang.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (!lang.empty() && lang != "en" && !lang.starts_with("en-")) {
      return core::InvalidArgumentError("pocketsphinx has an English model only, not '" +
                                        options.language + "'");
    }
    // phrase_hints: the n-gram model cannot be biased cheaply; grammars serve that purpose.
    ARTAGENT_ASSIGN_OR_RETURN(std::unique_ptr<Decoder> decoder, pool_->Acquire());
    return std::unique_ptr<SttStream>(
        std::make_unique<PocketsphinxStream>(pool_, std::move(decoder)));
  }

 private:
  std::shared_ptr<DecoderPool> pool_;
};

core::Result<std::vector<int16_t>> SynthesizePrimingClip() {
  ARTAGENT_ASSIGN_OR_RETURN(std::unique_ptr<TtsEngine> flite, CreateFliteEngine());
  std::vector<int16_t> clip;
  int rate = 0;
  ARTAGENT_RETURN_IF_ERROR(flite->Synthesize({kPrimingText, "slt", 1.0},
                                             [&](std::span<const int16_t> pcm, int sample_rate) {
                                               clip.insert(clip.end(), pcm.begin(), pcm.end());
                                               rate = sample_rate;
                                               return true;
                                             }));
  if (rate != 16000 || clip.empty()) {
    return core::InternalError("flite slt did not produce 16 kHz audio for the priming clip");
  }
  return clip;
}

}  // namespace

std::string NormalizePocketsphinxText(std::string_view hypothesis) {
  std::string out;
  std::istringstream words{std::string(hypothesis)};
  std::string word;
  while (words >> word) {
    if (IsFillerOrSilence(word)) {
      continue;
    }
    if (size_t paren = word.find('(');
        paren != std::string::npos && paren > 0 && word.back() == ')') {
      word.resize(paren);
    }
    std::transform(word.begin(), word.end(), word.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (!out.empty()) {
      out += ' ';
    }
    out += word;
  }
  return out;
}

core::Result<std::unique_ptr<SttEngine>> CreatePocketsphinxEngine(
    const PocketsphinxOptions& options) {
  namespace fs = std::filesystem;
  for (const std::string* path : {&options.hmm_dir, &options.dict_path, &options.lm_path}) {
    std::error_code ec;
    if (!fs::exists(*path, ec)) {
      return core::NotFoundError("pocketsphinx model file " + *path +
                                 " is missing (Debian package pocketsphinx-en-us)");
    }
  }
  if (options.pool_size < 0) {
    return core::InvalidArgumentError("pocketsphinx pool_size must be >= 0");
  }
  SilenceLibraryLogOnce();
  std::vector<int16_t> clip = options.priming_audio;
  if (clip.empty()) {
    ARTAGENT_ASSIGN_OR_RETURN(clip, SynthesizePrimingClip());
  }
  auto pool = std::make_shared<DecoderPool>(options);
  ARTAGENT_RETURN_IF_ERROR(pool->Prime(clip));
  return std::unique_ptr<SttEngine>(std::make_unique<PocketsphinxEngine>(std::move(pool)));
}

}  // namespace artagent::speech
