#pragma once
// Speech providers by name. The server owns one SpeechProviders, registers what it links in at
// start-up (explicitly: no static initialisers; see speech/local/register.h) and then creates
// engines by the names its configuration uses ("pocketsphinx", "flite", "webrtc", ...).
//
// Thread-safe. A factory runs on the caller's thread and may block (loading models): create engines
// at start-up or on the compute pool. Registering a name twice replaces the earlier factory.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "speech/stt.h"
#include "speech/tts.h"
#include "speech/vad.h"

namespace artagent::speech {

class SpeechProviders {
 public:
  using SttFactory = std::function<core::Result<std::unique_ptr<SttEngine>>()>;
  using TtsFactory = std::function<core::Result<std::unique_ptr<TtsEngine>>()>;
  using VadFactory = std::function<core::Result<std::unique_ptr<Vad>>(const VadOptions&)>;

  void RegisterStt(std::string name, SttFactory factory);
  void RegisterTts(std::string name, TtsFactory factory);
  void RegisterVad(std::string name, VadFactory factory);

  // kNotFound (naming the registered providers) for an unknown name; otherwise whatever the
  // factory returns.
  core::Result<std::unique_ptr<SttEngine>> CreateStt(std::string_view name) const;
  core::Result<std::unique_ptr<TtsEngine>> CreateTts(std::string_view name) const;
  core::Result<std::unique_ptr<Vad>> CreateVad(std::string_view name,
                                               const VadOptions& options) const;

  // Registered names, sorted.
  std::vector<std::string> SttNames() const;
  std::vector<std::string> TtsNames() const;
  std::vector<std::string> VadNames() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, SttFactory, std::less<>> stt_;
  std::map<std::string, TtsFactory, std::less<>> tts_;
  std::map<std::string, VadFactory, std::less<>> vad_;
};

}  // namespace artagent::speech
