#include "agent/flow/flow_model.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "core/fake_executor.h"

namespace artagent::agent {
namespace {

std::string SourceDir() {
  const char* d = std::getenv("ARTAGENT_SOURCE_DIR");
  return d ? d : ".";
}

class FlowModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = LoadScenario(SourceDir() + "/agents", "insurance");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    scenario_ = std::move(s).value();
    model_ = std::make_unique<FlowModel>(scenario_.StartAgent(), &ex_);
  }
  core::FakeExecutor ex_;
  ScenarioConfig scenario_;
  std::unique_ptr<FlowModel> model_;
};

TEST_F(FlowModelTest, InsuranceDialogueCollectsAndConfirmsThePolicyNumber) {
  std::string g = model_->Greet();
  EXPECT_NE(g.find("Contoso Insurance"), std::string::npos);
  EXPECT_NE(g.find("How can I help"), std::string::npos);

  std::string r = model_->Advance("i want to file a claim");
  EXPECT_NE(r.find("file a claim"), std::string::npos);
  EXPECT_NE(r.find("policy number"), std::string::npos);
  EXPECT_EQ(model_->current_node(), "policy_number");

  r = model_->Advance("i'm not sure");
  EXPECT_EQ(model_->current_node(), "policy_number");  // re-prompt, stays
  EXPECT_NE(r.find("digits"), std::string::npos);

  r = model_->Advance("four five six seven");
  EXPECT_EQ(model_->slots().at("policy_number"), "4567");
  EXPECT_NE(r.find("4, 5, 6, 7"), std::string::npos);

  r = model_->Advance("no");
  EXPECT_EQ(model_->current_node(), "policy_number");
  r = model_->Advance("one two three four five");
  r = model_->Advance("yes that's right");
  EXPECT_EQ(model_->current_node(), "verified");
  EXPECT_NE(r.find("1, 2, 3, 4, 5 is verified"), std::string::npos);
}

TEST_F(FlowModelTest, UnrecognisedIntentIsRepromptedNotGuessed) {
  model_->Greet();
  std::string r = model_->Advance("purple elephants");
  EXPECT_EQ(model_->current_node(), "intent");
  EXPECT_NE(r.find("Sorry"), std::string::npos);
}

TEST_F(FlowModelTest, StreamsTheReplyAsDeltasThroughTheExecutor) {
  std::string text;
  bool done = false;
  session::ResponseCallbacks cb;
  cb.on_text = [&](std::string_view d) { text += d; };
  cb.on_done = [&](const core::Status& s) { done = s.ok(); };
  session::ResponseRequest req;
  req.greeting = true;
  auto stream = model_->Respond(req, cb);
  EXPECT_TRUE(text.empty());  // nothing inline
  ex_.RunPending();
  EXPECT_TRUE(done);
  EXPECT_EQ(text, model_->Greet());
}

TEST_F(FlowModelTest, CancelStopsTheStream) {
  std::string text;
  bool done = false;
  session::ResponseCallbacks cb;
  cb.on_text = [&](std::string_view d) { text += d; };
  cb.on_done = [&](const core::Status&) { done = true; };
  session::ResponseRequest req;
  req.greeting = true;
  auto stream = model_->Respond(req, cb);
  stream->Cancel();
  ex_.RunPending();
  EXPECT_TRUE(text.empty());
  EXPECT_FALSE(done);
}

}  // namespace
}  // namespace artagent::agent
