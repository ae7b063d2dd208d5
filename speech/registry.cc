#include "speech/registry.h"

#include <utility>

namespace artagent::speech {
namespace {

template <typename Map>
std::vector<std::string> Names(const Map& map) {
  std::vector<std::string> names;
  for (const auto& [name, factory] : map) {
    names.push_back(name);
  }
  return names;
}

template <typename Map>
core::Status UnknownProvider(std::string_view kind, std::string_view name, const Map& map) {
  std::string known;
  for (const auto& [known_name, factory] : map) {
    known += (known.empty() ? "" : ", ") + known_name;
  }
  return core::NotFoundError("unknown " + std::string(kind) + " provider '" + std::string(name) +
                             "' (known: " + (known.empty() ? "none registered" : known) + ")");
}

// Copies the factory out under the lock so that a slow factory does not block other lookups.
template <typename Map>
typename Map::mapped_type Find(std::mutex& mu, const Map& map, std::string_view name) {
  std::lock_guard<std::mutex> lock(mu);
  auto it = map.find(name);
  return it == map.end() ? typename Map::mapped_type() : it->second;
}

}  // namespace

void SpeechProviders::RegisterStt(std::string name, SttFactory factory) {
  std::lock_guard<std::mutex> lock(mu_);
  stt_[std::move(name)] = std::move(factory);
}

void SpeechProviders::RegisterTts(std::string name, TtsFactory factory) {
  std::lock_guard<std::mutex> lock(mu_);
  tts_[std::move(name)] = std::move(factory);
}

void SpeechProviders::RegisterVad(std::string name, VadFactory factory) {
  std::lock_guard<std::mutex> lock(mu_);
  vad_[std::move(name)] = std::move(factory);
}

core::Result<std::unique_ptr<SttEngine>> SpeechProviders::CreateStt(std::string_view name) const {
  SttFactory factory = Find(mu_, stt_, name);
  if (!factory) {
    std::lock_guard<std::mutex> lock(mu_);
    return UnknownProvider("stt", name, stt_);
  }
  return factory();
}

core::Result<std::unique_ptr<TtsEngine>> SpeechProviders::CreateTts(std::string_view name) const {
  TtsFactory factory = Find(mu_, tts_, name);
  if (!factory) {
    std::lock_guard<std::mutex> lock(mu_);
    return UnknownProvider("tts", name, tts_);
  }
  return factory();
}

core::Result<std::unique_ptr<Vad>> SpeechProviders::CreateVad(std::string_view name,
                                                              const VadOptions& options) const {
  VadFactory factory = Find(mu_, vad_, name);
  if (!factory) {
    std::lock_guard<std::mutex> lock(mu_);
    return UnknownProvider("vad", name, vad_);
  }
  return factory(options);
}

std::vector<std::string> SpeechProviders::SttNames() const {
  std::lock_guard<std::mutex> lock(mu_);
  return Names(stt_);
}

std::vector<std::string> SpeechProviders::TtsNames() const {
  std::lock_guard<std::mutex> lock(mu_);
  return Names(tts_);
}

std::vector<std::string> SpeechProviders::VadNames() const {
  std::lock_guard<std::mutex> lock(mu_);
  return Names(vad_);
}

}  // namespace artagent::speech
