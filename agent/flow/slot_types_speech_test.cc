// Slot grammars with the real recognizer: answers synthesised with flite, recognised by
// pocketsphinx in grammar mode with SlotGrammar(), parsed with ParseSlot(). A separate test binary
// so that the agent module's unit tests do not need the speech engines.

#include <gtest/gtest.h>

#include "agent/flow/slot_types.h"
#include "speech/local/flite_tts.h"
#include "speech/local/pocketsphinx_stt.h"
#include "speech/local/speech_test_util.h"

namespace artagent::agent {
namespace {

constexpr CalendarDate kToday{2025, 6, 18};

class SlotSpeechTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto flite = speech::CreateFliteEngine();
    ASSERT_TRUE(flite.ok()) << flite.status().ToString();
    flite_ = std::move(flite).value().release();
    speech::PocketsphinxOptions options;
    options.pool_size = 1;
    auto engine = speech::CreatePocketsphinxEngine(options);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(engine).value().release();
    // One stream for all answers, as in a call: its cepstral mean adapts from answer to answer.
    auto stream = engine_->NewStream({});
    ASSERT_TRUE(stream.ok()) << stream.status().ToString();
    stream_ = std::move(stream).value().release();
    // The caller's first turn, in language-model mode: the stream's cepstral mean moves from the
    // engine's priming voice (slt) to this caller's (kal16), as it does in a call before the first
    // slot question. Without it the first short answer of a fresh stream may be rejected.
    Recognise(
        speech::test_audio::Synthesize(*flite_, "hello i would like to file a claim", "kal16"));
  }
  static void TearDownTestSuite() {
    delete stream_;
    stream_ = nullptr;
    delete engine_;
    delete flite_;
    engine_ = nullptr;
    flite_ = nullptr;
  }

  // `text` spoken by flite (kal16: deterministic, local-speech-stack.md §2b) and recognised with
  // the slot's grammar.
  static std::string Hear(const SlotSpec& spec, const std::string& text) {
    speech::SttStream& stt = *stream_;
    const std::string grammar = SlotGrammar(spec);
    core::Status use = stt.UseGrammar(grammar, false);
    EXPECT_TRUE(use.ok()) << use.ToString() << "\n" << grammar;
    return Recognise(speech::test_audio::Synthesize(*flite_, text, "kal16"));
  }

  static std::string Recognise(const speech::test_audio::Audio& audio) {
    speech::SttStream& stt = *stream_;
    EXPECT_EQ(audio.sample_rate, 16000);
    EXPECT_TRUE(stt.StartUtterance().ok());
    for (size_t i = 0; i < audio.samples.size(); i += 320) {
      auto partial =
          stt.Feed({audio.samples.data() + i, std::min<size_t>(320, audio.samples.size() - i)});
      EXPECT_TRUE(partial.ok());
    }
    auto result = stt.EndUtterance();
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    return result.ok() ? result->text : "";
  }

  // Each answer, said and recognised, parses to its value.
  static void ExpectUnderstood(const SlotSpec& spec,
                               const std::vector<std::pair<std::string, nlohmann::json>>& cases) {
    for (const auto& [said, value] : cases) {
      const std::string heard = Hear(spec, said);
      SlotParse parse = ParseSlot(spec, heard, kToday);
      EXPECT_TRUE(parse.value.has_value())
          << "said \"" << said << "\", heard \"" << heard << "\": " << parse.problem;
      if (parse.value) {
        EXPECT_EQ(parse.value->value, value)
            << "said \"" << said << "\", heard \"" << heard << "\"";
      }
    }
  }

  static speech::TtsEngine* flite_;
  static speech::SttEngine* engine_;
  static speech::SttStream* stream_;
};

speech::TtsEngine* SlotSpeechTest::flite_ = nullptr;
speech::SttEngine* SlotSpeechTest::engine_ = nullptr;
speech::SttStream* SlotSpeechTest::stream_ = nullptr;

SlotSpec Spec(const std::string& type) {
  SlotSpec spec;
  spec.type = type;
  spec.max_length = 12;
  return spec;
}

TEST_F(SlotSpeechTest, Digits) {
  ExpectUnderstood(Spec("digits"), {{"my policy number is four five six seven", "4567"},
                                    {"two zero one nine eight", "20198"},
                                    {"eight eight one two", "8812"}});
}

TEST_F(SlotSpeechTest, Numbers) {
  ExpectUnderstood(Spec("number"), {{"about twenty five hundred dollars", 2500},
                                    {"two thousand five hundred and twelve", 2512},
                                    {"three point five", 3.5}});
}

TEST_F(SlotSpeechTest, Dates) {
  ExpectUnderstood(Spec("date"),
                   {{"march third nineteen eighty five", "1985-03-03"},
                    {"it was last tuesday", "2025-06-17"},
                    {"the twenty first of december two thousand three", "2003-12-21"}});
}

TEST_F(SlotSpeechTest, YesNo) {
  ExpectUnderstood(Spec("yes_no"), {{"yes that's right", true}, {"no it's not", false}});
}

TEST_F(SlotSpeechTest, Enumeration) {
  SlotSpec spec = Spec("enumeration");
  spec.choices = {
      {"collision", {"crash", "accident"}}, {"theft", {"stolen"}}, {"auto_glass", {"windshield"}}};
  ExpectUnderstood(spec, {{"i had an accident", "collision"},
                          {"my car was stolen", "theft"},
                          {"the windshield please", "auto_glass"},
                          {"i think it was a crash", "collision"},
                          {"collision", "collision"},
                          {"auto glass", "auto_glass"},
                          {"it was stolen", "theft"}});
}

// What the agent reads back (SlotValue::spoken), said by flite, is understood as the same value:
// the read-back forms suit flite's text normalisation.
TEST_F(SlotSpeechTest, ReadBackIsUnderstood) {
  for (const auto& [type, said] : std::vector<std::pair<std::string, std::string>>{
           {"date", "march third nineteen eighty five"},
           {"date", "december twenty first two thousand three"},
           {"number", "twenty five hundred"},
           {"number", "three point five"}}) {
    const SlotSpec spec = Spec(type);
    SlotParse first = ParseSlot(spec, said, kToday);
    ASSERT_TRUE(first.value.has_value()) << said << ": " << first.problem;
    const std::string heard = Hear(spec, first.value->spoken);
    SlotParse again = ParseSlot(spec, heard, kToday);
    ASSERT_TRUE(again.value.has_value())
        << "read back \"" << first.value->spoken << "\", heard \"" << heard << "\"";
    EXPECT_EQ(again.value->value, first.value->value)
        << "read back \"" << first.value->spoken << "\", heard \"" << heard << "\"";
  }
}

}  // namespace
}  // namespace artagent::agent
