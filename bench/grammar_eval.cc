// Does the flow model understand the caller? Language model vs per-node grammar, measured on the
// shipped three-agent insurance scenario (agents/insurance: auth, fnol, policy).
//
// Caller answers for each node that waits for speech are synthesised with four flite voices, sent
// through the browser path's rates (24 kHz, then the engine's streaming 24 -> 16 kHz resampler),
// recognised by pocketsphinx (a) with the language model and (b) with the node's grammar
// (FlowModel::ExpectedGrammar(), language-model fallback on rejection), and fed to the flow model.
// An utterance counts as understood when the dialogue takes the expected step: the node reached,
// the slot value stored, the answer's reply said. Each case is also checked with its exact text
// (no recognition) so that a flow-model miss is not blamed on the recogniser.
//
//   build-bench/bench/artagent_grammar_eval [agents_dir]

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/agent_config.h"
#include "agent/flow/flow_model.h"
#include "agent/memory.h"
#include "audio/resampler.h"
#include "core/fake_executor.h"
#include "speech/local/flite_tts.h"
#include "speech/local/pocketsphinx_stt.h"

namespace {

using namespace artagent;

// Tuesday: "yesterday" is 2026-11-23, "last friday" 2026-11-20.
constexpr agent::CalendarDate kToday{2026, 11, 24};

// A scripted input on the way to the node under test: caller text, keypad entry or tool output.
struct Input {
  enum Kind { kText, kDtmf, kTool } kind;
  std::string value;
};
Input Text(std::string s) { return {Input::kText, std::move(s)}; }
Input Key(std::string s) { return {Input::kDtmf, std::move(s)}; }
Input Tool(std::string s) { return {Input::kTool, std::move(s)}; }

const std::string kVerified =
    R"({"verified": true, "customer_id": "C1001", "caller_name": "Sarah Johnson",
        "first_name": "Sarah", "policy_number": "40213587", "policy_type": "auto",
        "policy_status": "active"})";
const std::string kPolicy =
    R"({"found": true, "policy_number": "40213587", "type": "auto", "status": "active",
        "coverage_summary": "liability, collision and comprehensive", "deductible": 500,
        "deductible_text": "500 dollars", "renewal_date": "2027-03-01"})";

// The ways to the nodes that wait for speech.
const std::vector<Input> kToConfirm = {Text("four zero two one three five eight seven")};
const std::vector<Input> kToChooseMethod = {Key("40213587#"), Text("yes")};
const std::vector<Input> kToDob = {Key("40213587#"), Text("yes"), Key("1"), Text("sarah johnson")};
const std::vector<Input> kToPin = {Key("40213587#"), Text("yes"), Key("2")};
const std::vector<Input> kToWhatNext = {Key("40213587#"), Text("yes"), Key("2"), Key("4821#"),
                                        Tool(kVerified)};
const std::vector<Input> kToInjuries = {Text("yesterday"), Text("on main street"),
                                        Text("a tree fell on my car")};
const std::vector<Input> kToDrivable = {Text("yesterday"), Text("on main street"),
                                        Text("a tree fell on my car"), Text("no")};
const std::vector<Input> kToReview = {Text("yesterday"), Text("on main street"),
                                      Text("a tree fell on my car"), Text("no"), Text("yes")};
const std::vector<Input> kToPolicyAsk = {Tool(kPolicy)};

struct Case {
  std::string kind;   // digits | date | yes-no | keywords (the node's grammar)
  std::string agent;  // whose FlowModel runs
  std::vector<Input> setup;
  std::string say;                // what the caller says at the node (synthesised, recognised)
  std::vector<std::string> then;  // text answers after it (the confirmation of a heard number)
  std::string expect_node;        // where the dialogue must be afterwards
  std::string slot, value;        // a slot that must hold this value (text of its JSON), if any
  std::string expect_said;        // a part of the agent's reply to `say`, if any
};

// One answer per line or two, as a table.
// clang-format off
const std::vector<Case> kCases = {
    // auth ask_policy: eight digits; confirmed with a typed "yes" to store the number.
    {"digits", "auth_agent", {}, "four zero two one three five eight seven", {"yes"},
     "choose_method", "policy_number", "40213587", ""},
    {"digits", "auth_agent", {}, "My policy number is four zero two one three five eight seven.",
     {"yes"}, "choose_method", "policy_number", "40213587", ""},
    {"digits", "auth_agent", {}, "It's seven three oh five two two nine one.", {"yes"},
     "choose_method", "policy_number", "73052291", ""},
    {"digits", "auth_agent", {}, "uh, one nine six eight zero four four two", {"yes"},
     "choose_method", "policy_number", "19680442", ""},
    {"digits", "auth_agent", {}, "five five four zero, three one seven two", {"yes"},
     "choose_method", "policy_number", "55403172", ""},
    // auth ask_policy, confirming the number heard.
    {"yes-no", "auth_agent", kToConfirm, "Yes.", {}, "choose_method", "policy_number", "40213587",
     ""},
    {"yes-no", "auth_agent", kToConfirm, "Yes, that's correct.", {}, "choose_method",
     "policy_number", "40213587", ""},
    {"yes-no", "auth_agent", kToConfirm, "Yeah, that's right.", {}, "choose_method",
     "policy_number", "40213587", ""},
    {"yes-no", "auth_agent", kToConfirm, "No.", {}, "ask_policy", "", "", "Let's try that again"},
    {"yes-no", "auth_agent", kToConfirm, "No, that's not right.", {}, "ask_policy", "", "",
     "Let's try that again"},
    // auth choose_method.
    {"keywords", "auth_agent", kToChooseMethod, "My date of birth.", {}, "ask_name", "", "", ""},
    {"keywords", "auth_agent", kToChooseMethod, "I'll use my birthday.", {}, "ask_name", "", "",
     ""},
    {"keywords", "auth_agent", kToChooseMethod, "The PIN please.", {}, "ask_pin", "", "", ""},
    {"keywords", "auth_agent", kToChooseMethod, "I'd rather use my pin code.", {}, "ask_pin", "",
     "", ""},
    // auth ask_dob.
    {"date", "auth_agent", kToDob, "march fourteenth nineteen eighty five", {}, "verify_dob",
     "date_of_birth", "1985-03-14", ""},
    {"date", "auth_agent", kToDob, "the fourteenth of march nineteen eighty five", {},
     "verify_dob", "date_of_birth", "1985-03-14", ""},
    {"date", "auth_agent", kToDob, "I was born on november second nineteen seventy eight", {},
     "verify_dob", "date_of_birth", "1978-11-02", ""},
    {"date", "auth_agent", kToDob, "June twenty fifth, nineteen ninety two.", {}, "verify_dob",
     "date_of_birth", "1992-06-25", ""},
    // auth ask_pin.
    {"digits", "auth_agent", kToPin, "four eight two one", {}, "verify_pin", "pin", "4821", ""},
    {"digits", "auth_agent", kToPin, "my pin is nine two six three", {}, "verify_pin", "pin",
     "9263", ""},
    // auth what_next.
    {"keywords", "auth_agent", kToWhatNext, "I want to file a claim.", {}, "to_claims", "", "",
     ""},
    {"keywords", "auth_agent", kToWhatNext, "I had an accident with my car.", {}, "to_claims", "",
     "", ""},
    {"keywords", "auth_agent", kToWhatNext, "Somebody damaged my car last night.", {},
     "to_claims", "", "", ""},
    {"keywords", "auth_agent", kToWhatNext, "I have a question about my policy.", {},
     "to_policy", "", "", ""},
    {"keywords", "auth_agent", kToWhatNext, "What is my deductible?", {}, "to_policy", "", "", ""},
    // fnol incident_date.
    {"date", "fnol_agent", {}, "yesterday", {}, "location", "incident_date", "2026-11-23", ""},
    {"date", "fnol_agent", {}, "It happened last friday.", {}, "location", "incident_date",
     "2026-11-20", ""},
    {"date", "fnol_agent", {}, "november twentieth", {}, "location", "incident_date",
     "2026-11-20", ""},
    {"date", "fnol_agent", {}, "two days ago", {}, "location", "incident_date", "2026-11-22", ""},
    // fnol injuries, drivable, review.
    {"yes-no", "fnol_agent", kToInjuries, "No, nobody was hurt.", {}, "drivable", "injuries",
     "no", ""},
    {"yes-no", "fnol_agent", kToInjuries, "Yes.", {}, "drivable", "injuries", "yes", ""},
    {"yes-no", "fnol_agent", kToDrivable, "Yes, it still drives.", {}, "review",
     "vehicle_drivable", "yes", ""},
    {"yes-no", "fnol_agent", kToDrivable, "No.", {}, "review", "vehicle_drivable", "no", ""},
    {"yes-no", "fnol_agent", kToReview, "Yes, go ahead.", {}, "file_claim", "", "", ""},
    {"yes-no", "fnol_agent", kToReview, "No, that's wrong.", {}, "incident_date", "", "",
     "Let's go through it again"},
    // policy ask.
    {"keywords", "policy_agent", kToPolicyAsk, "What does my policy cover?", {}, "more", "", "",
     "Your policy covers"},
    {"keywords", "policy_agent", kToPolicyAsk, "What's my deductible?", {}, "more", "", "",
     "Your deductible is"},
    {"keywords", "policy_agent", kToPolicyAsk, "Is my policy still active?", {}, "more", "", "",
     "renews on"},
    {"keywords", "policy_agent", kToPolicyAsk, "When does it renew?", {}, "more", "", "",
     "renews on"},
};
// clang-format on

const char* const kKinds[] = {"digits", "date", "yes-no", "keywords"};

double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

struct Heard {
  std::string text;
  bool from_grammar = false;
};

Heard Recognise(speech::SttStream& stt, const audio::Samples& pcm, const std::string& jsgf,
                double* cpu_ms) {
  if (jsgf.empty()) {
    stt.UseLanguageModel();
  } else if (auto st = stt.UseGrammar(jsgf, true); !st.ok()) {
    std::fprintf(stderr, "grammar refused: %s\n", st.ToString().c_str());
    stt.UseLanguageModel();
  }
  const double t0 = ThreadCpuMs();
  (void)stt.StartUtterance();
  for (size_t off = 0; off < pcm.size(); off += 320) {
    (void)stt.Feed(
        std::span<const int16_t>(pcm.data() + off, std::min<size_t>(320, pcm.size() - off)));
  }
  auto r = stt.EndUtterance();
  *cpu_ms += ThreadCpuMs() - t0;
  if (!r.ok()) return {};
  return {r->text, r->from_grammar};
}

// One dialogue: the agent's flow model with its own memory, brought to the node under test.
struct Dialogue {
  agent::Memory memory;
  std::unique_ptr<agent::FlowModel> model;

  Dialogue(const agent::ScenarioConfig& scenario, const std::string& agent_name,
           const std::vector<Input>& setup) {
    memory.SetTemplateVars(scenario.template_vars);
    if (agent_name != scenario.start_agent) {  // arrived by hand-off: the caller is verified
      memory.Set("policy_number", "digits", "40213587", "auth_agent");
      memory.Set("first_name", "text", "Sarah", "auth_agent");
      memory.Set("caller_name", "text", "Sarah Johnson", "auth_agent");
    }
    model = std::make_unique<agent::FlowModel>(&scenario, scenario.Find(agent_name), &memory,
                                               std::make_shared<core::FakeExecutor>());
    model->SetToday(kToday);
    model->Start();
    for (const auto& in : setup) {
      if (in.kind == Input::kTool) {
        model->ToolResult(in.value);
      } else {
        model->Hear(in.value, in.kind == Input::kDtmf);
      }
    }
  }

  // Feeds the caller's words and any scripted answers after them; true if the dialogue took the
  // case's step.
  bool Answer(const Case& c, const std::string& heard) {
    const std::string reply = model->Hear(heard, false).text;
    for (const auto& t : c.then) model->Hear(t, false);
    if (model->current_node() != c.expect_node) return false;
    if (!c.slot.empty()) {
      const nlohmann::json* v = memory.Find(c.slot);
      if (!v || agent::ValueText(*v) != c.value) return false;
    }
    return c.expect_said.empty() || reply.find(c.expect_said) != std::string::npos;
  }
};

audio::Samples BrowserPathAudio(speech::TtsEngine& tts, const std::string& text,
                                const char* voice) {
  audio::Samples pcm;
  int rate = 16000;
  (void)tts.Synthesize({text, voice, 1.0}, [&](std::span<const int16_t> s, int r) {
    pcm.insert(pcm.end(), s.begin(), s.end());
    rate = r;
    return true;
  });
  pcm = audio::ResampleAll(pcm, rate, 24000);  // the browser sends 24 kHz
  auto rs = audio::Resampler::Create(24000, 16000);
  audio::Samples out;
  (*rs)->Process(pcm, &out);
  audio::Samples padded(4800, 0);  // 300 ms of silence around the answer, as a caller pauses
  padded.insert(padded.end(), out.begin(), out.end());
  padded.insert(padded.end(), 4800, 0);
  return padded;
}

struct Tally {
  int understood[2] = {0, 0};
  int total = 0;
  int grammar_kept = 0;  // grammar mode: the grammar's own hypothesis (not rejected to the LM)
  double cpu_ms[2] = {0, 0};
  double audio_ms = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "agents";
  auto loaded = agent::LoadScenario(dir, "insurance");
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.status().ToString().c_str());
    return 1;
  }
  const agent::ScenarioConfig& lm_scenario = *loaded;
  agent::ScenarioConfig grammar_scenario = *loaded;
  for (auto& [name, a] : grammar_scenario.agents) a.grammar_recognition = true;
  const agent::ScenarioConfig* scenarios[2] = {&lm_scenario, &grammar_scenario};

  // The flow model itself, on the exact words: a case it misses is not the recogniser's fault.
  int text_ok = 0;
  for (const auto& c : kCases) {
    Dialogue d(lm_scenario, c.agent, c.setup);
    if (d.Answer(c, c.say)) {
      ++text_ok;
    } else {
      std::printf("flow model misses the exact text: [%s] \"%s\" (now at %s)\n", c.agent.c_str(),
                  c.say.c_str(), d.model->current_node().c_str());
    }
  }
  std::printf("exact text understood: %d/%zu\n\n", text_ok, kCases.size());

  auto tts = speech::CreateFliteEngine();
  auto engine = speech::CreatePocketsphinxEngine(speech::PocketsphinxOptions{});
  if (!tts.ok() || !engine.ok()) {
    std::fprintf(stderr, "speech engines unavailable\n");
    return 1;
  }
  auto stream = (*engine)->NewStream(speech::SttOptions{});
  if (!stream.ok()) return 1;

  std::map<std::string, Tally> by_kind;
  Tally all;
  std::printf("%-5s %-8s %-44s %-36s %s\n", "voice", "kind", "caller said", "language model",
              "grammar (* = LM fallback)");
  for (const char* voice : {"slt", "kal16", "rms", "awb"}) {
    for (const auto& c : kCases) {
      const audio::Samples pcm = BrowserPathAudio(**tts, c.say, voice);
      Tally& kind = by_kind[c.kind];
      std::string shown[2];
      for (int mode = 0; mode < 2; ++mode) {
        Dialogue d(*scenarios[mode], c.agent, c.setup);
        double cpu = 0;
        Heard heard = Recognise(**stream, pcm, d.model->ExpectedGrammar(), &cpu);
        const bool ok = d.Answer(c, heard.text);
        for (Tally* t : {&all, &kind}) {
          t->understood[mode] += ok;
          t->cpu_ms[mode] += cpu;
          if (mode == 1) t->grammar_kept += heard.from_grammar;
        }
        shown[mode] = std::string(ok ? "+ " : "- ") +
                      (mode == 1 && !heard.from_grammar ? "*" : "") + heard.text;
      }
      for (Tally* t : {&all, &kind}) {
        ++t->total;
        t->audio_ms += pcm.size() / 16.0;
      }
      std::printf("%-5s %-8s %-44s %-36s %s\n", voice, c.kind.c_str(), c.say.substr(0, 44).c_str(),
                  shown[0].substr(0, 36).c_str(), shown[1].c_str());
    }
  }

  auto row = [](const char* name, const Tally& t) {
    std::printf("%-9s %3d/%-3d (%3.0f %%)  %3d/%-3d (%3.0f %%)  %5.1f ms  %5.1f ms  %3d/%d\n", name,
                t.understood[0], t.total, 100.0 * t.understood[0] / t.total, t.understood[1],
                t.total, 100.0 * t.understood[1] / t.total, 1000 * t.cpu_ms[0] / t.audio_ms,
                1000 * t.cpu_ms[1] / t.audio_ms, t.grammar_kept, t.total);
  };
  std::printf("\n%-9s %-18s %-18s %-9s %-9s %s\n", "node", "LM understood", "grammar understood",
              "LM CPU/s", "gr CPU/s", "grammar kept (not rejected)");
  for (const char* k : kKinds) {
    if (by_kind.count(k)) row(k, by_kind[k]);
  }
  row("all", all);
  std::printf("(CPU/s: decoding thread CPU time per second of audio, 300 ms silence included)\n");
  return 0;
}
