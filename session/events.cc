#include "session/events.h"

#include <cmath>

namespace artagent::session {

nlohmann::json LatencyJson(const TurnMetrics& m) {
  nlohmann::json j = nlohmann::json::object();
  auto put = [&](const char* key, double ms) {
    if (ms >= 0) j[key] = std::round(ms * 10) / 10;
  };
  put("endpointing", m.endpointing_ms);
  put("stt_final", m.stt_final_ms);
  put("model_first_token", m.model_first_token_ms);
  put("first_clause", m.first_clause_ms);
  put("tts_first_audio", m.tts_first_audio_ms);
  put("first_audio_sent", m.first_audio_sent_ms);
  put("voice_to_voice", m.voice_to_voice_ms);
  put("barge_in_stop", m.barge_in_stop_ms);
  return j;
}

}  // namespace artagent::session
