#include "agent/flow/grammar.h"

#include <gtest/gtest.h>

namespace artagent::agent {
namespace {

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(GrammarTest, KeywordAnswersInsideCarrierPhrases) {
  FlowNode n;
  n.id = "intent";
  n.answers = {{"claim", {"claim", "file a claim", "Accident!"}, "", "x"},
               {"policy", {"policy"}, "", "x"}};
  std::string g = NodeGrammar(n);
  EXPECT_TRUE(Has(g, "#JSGF V1.0;"));
  EXPECT_TRUE(Has(g, "public <utterance> = <carrier>* (accident | claim | file a claim | policy) "
                     "<carrier>*;"))
      << g;
  EXPECT_TRUE(Has(g, "<carrier> = a | about"));
}

TEST(GrammarTest, SlotsAndOpenNodes) {
  FlowNode digits;
  digits.slot = FlowSlot{"policy_number", SlotSpec{"digits", 4, 10}};
  EXPECT_TRUE(Has(NodeGrammar(digits), "(double | eight | five | four | nine | oh | one"));
  FlowNode yes_no;
  yes_no.answers = {{"yes", {"yes"}, "", "a"}, {"no", {"no"}, "", "b"}};
  EXPECT_TRUE(Has(NodeGrammar(yes_no), "correct"));
  EXPECT_FALSE(Has(NodeGrammar(digits), " to |")) << "digit homophones are not carrier words";
  FlowNode text;
  text.slot = FlowSlot{"reason", SlotSpec{"text", 1, 100}};
  EXPECT_EQ(NodeGrammar(text), "");
  FlowNode pass;
  pass.next = "x";
  EXPECT_EQ(NodeGrammar(pass), "");
}

}  // namespace
}  // namespace artagent::agent
