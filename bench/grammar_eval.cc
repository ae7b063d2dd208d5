// Does the flow model understand the caller? Language model vs per-node grammar, measured.
// Caller answers for each node of the shipped insurance flow are synthesised with four flite
// voices, sent through the browser path's rates (24 kHz, then the engine's streaming 24 -> 16 kHz
// resampler), recognised by pocketsphinx (a) with the language model and (b) with the node's grammar
// (language-model fallback on rejection), and fed to the flow model; an utterance counts as
// understood when the dialogue takes the expected step (intent, digits, yes/no).
//
//   build/bench/artagent_grammar_eval [agents_dir]

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "agent/flow/flow_model.h"
#include "agent/flow/grammar.h"
#include "audio/resampler.h"
#include "core/fake_executor.h"
#include "speech/local/flite_tts.h"
#include "speech/local/pocketsphinx_stt.h"

namespace {

using namespace artagent;

struct Case {
  std::vector<std::string> setup;  // caller turns that lead to the node
  std::string say;
  std::string expect_node;  // where the dialogue must be afterwards
  std::string expect_slot;  // policy_number value, if any
  std::string expect_said;  // a part of the agent's reply, if any
};

const std::vector<Case> kCases = {
    {{}, "I want to file a claim.", "policy_number", "", "file a claim"},
    {{}, "I want to file a claim for my car.", "policy_number", "", "file a claim"},
    {{}, "I had an accident with my car.", "policy_number", "", "file a claim"},
    {{}, "My car was stolen last night.", "policy_number", "", "file a claim"},
    {{}, "I have a question about my policy.", "policy_number", "", "your policy"},
    {{}, "What is my deductible?", "policy_number", "", "your policy"},
    {{"claim"}, "four five six seven", "confirm_policy", "4567", ""},
    {{"claim"}, "My policy number is one two three four five.", "confirm_policy", "12345", ""},
    {{"claim"}, "It's nine eight seven six.", "confirm_policy", "9876", ""},
    {{"claim"}, "three oh four nine two", "confirm_policy", "30492", ""},
    {{"claim"}, "eight two two one", "confirm_policy", "8221", ""},
    {{"claim", "4567"}, "Yes.", "verified", "", ""},
    {{"claim", "4567"}, "Yes, that's correct.", "verified", "", ""},
    {{"claim", "4567"}, "No, that's wrong.", "policy_number", "", ""},
    {{"claim", "4567"}, "No.", "policy_number", "", ""},
    {{"claim", "4567"}, "Yeah, that's right.", "verified", "", ""},
};

std::string Recognise(speech::SttStream& stt, const audio::Samples& pcm, const std::string& jsgf,
                      double* cpu_ms) {
  if (jsgf.empty()) {
    stt.UseLanguageModel();
  } else if (auto st = stt.UseGrammar(jsgf, true); !st.ok()) {
    std::fprintf(stderr, "grammar refused: %s\n", st.ToString().c_str());
    stt.UseLanguageModel();
  }
  auto t0 = std::chrono::steady_clock::now();
  (void)stt.StartUtterance();
  for (size_t off = 0; off < pcm.size(); off += 320) {
    (void)stt.Feed(std::span<const int16_t>(pcm.data() + off, std::min<size_t>(320, pcm.size() - off)));
  }
  auto r = stt.EndUtterance();
  *cpu_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return r.ok() ? r->text : "";
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "agents";
  auto scenario = agent::LoadScenario(dir, "insurance");
  if (!scenario.ok()) {
    std::fprintf(stderr, "%s\n", scenario.status().ToString().c_str());
    return 1;
  }
  agent::AgentConfig with_grammar = *scenario->StartAgent();
  with_grammar.grammar_recognition = true;
  auto tts = speech::CreateFliteEngine();
  auto engine = speech::CreatePocketsphinxEngine(speech::PocketsphinxOptions{});
  if (!tts.ok() || !engine.ok()) {
    std::fprintf(stderr, "speech engines unavailable\n");
    return 1;
  }
  auto stream = (*engine)->NewStream(speech::SttOptions{});
  if (!stream.ok()) return 1;
  core::FakeExecutor ex;
  int understood[2] = {0, 0}, total = 0;
  double cpu_ms[2] = {0, 0}, audio_ms = 0;
  std::printf("%-6s %-46s %-34s %s\n", "voice", "caller said", "language model", "grammar");
  for (const char* voice : {"slt", "kal16", "rms", "awb"}) {
    for (const auto& c : kCases) {
      audio::Samples pcm;
      int rate = 16000;
      (void)(*tts)->Synthesize({c.say, voice, 1.0}, [&](std::span<const int16_t> s, int r) {
        pcm.insert(pcm.end(), s.begin(), s.end());
        rate = r;
        return true;
      });
      pcm = audio::ResampleAll(pcm, rate, 24000);
      {
        auto rs = audio::Resampler::Create(24000, 16000);
        audio::Samples out;
        (*rs)->Process(pcm, &out);
        pcm = out;
      }
      audio::Samples padded(4800, 0);  // 300 ms of silence around the answer, as a caller pauses
      padded.insert(padded.end(), pcm.begin(), pcm.end());
      padded.insert(padded.end(), 4800, 0);
      audio_ms += padded.size() / 16.0;
      ++total;
      std::string heard[2];
      for (int mode = 0; mode < 2; ++mode) {
        agent::FlowModel model(mode ? &with_grammar : scenario->StartAgent(), &ex);
        model.Greet();
        for (const auto& s : c.setup) {
          model.Advance(s == "claim" ? "i want to file a claim" : "four five six seven");
        }
        heard[mode] = Recognise(**stream, padded, model.ExpectedGrammar(), &cpu_ms[mode]);
        std::string reply = model.Advance(heard[mode]);
        bool ok = model.current_node() == c.expect_node &&
                  (c.expect_slot.empty() || model.slots().count("policy_number") &&
                                                model.slots().at("policy_number") == c.expect_slot) &&
                  (c.expect_said.empty() || reply.find(c.expect_said) != std::string::npos);
        understood[mode] += ok;
        heard[mode] = (ok ? "+ " : "- ") + heard[mode];
      }
      std::printf("%-6s %-46s %-34s %s\n", voice, c.say.c_str(), heard[0].substr(0, 34).c_str(),
                  heard[1].c_str());
    }
  }
  std::printf("\nunderstood: language model %d/%d (%.0f %%), grammar %d/%d (%.0f %%)\n",
              understood[0], total, 100.0 * understood[0] / total, understood[1], total,
              100.0 * understood[1] / total);
  std::printf("decoding CPU per second of audio: language model %.1f ms, grammar %.1f ms\n",
              1000 * cpu_ms[0] / audio_ms, 1000 * cpu_ms[1] / audio_ms);
  return 0;
}
