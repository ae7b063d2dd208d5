#include "agent/tools/tool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <string>

#include "core/fake_executor.h"
#include "core/thread_pool.h"

namespace artagent::agent {
namespace {

using core::StatusCode;
using nlohmann::json;

ToolSpec Spec(std::string name) {
  ToolSpec spec;
  spec.name = std::move(name);
  spec.description = "test tool";
  spec.parameters = json{{"type", "object"}, {"properties", json::object()}};
  return spec;
}

std::unique_ptr<Tool> Echo(std::string name, core::ComputePool* pool) {
  return MakeFunctionTool(
      Spec(std::move(name)),
      [](const json& args, const ToolContext&) -> core::Result<json> { return args; }, pool);
}

class RefusingPool : public core::ComputePool {
 public:
  bool TrySubmit(std::function<void()>) override { return false; }
  size_t QueueDepth() const override { return 0; }
};

TEST(ToolRegistryTest, RegistersAndFindsByName) {
  core::FakeExecutor pool;
  ToolRegistry registry;
  ASSERT_TRUE(registry.Register(Echo("lookup_policy", &pool)).ok());
  ASSERT_TRUE(registry.Register(Echo("A-1", &pool)).ok());
  const Tool* tool = registry.Find("lookup_policy");
  ASSERT_NE(tool, nullptr);
  EXPECT_EQ(tool->spec().name, "lookup_policy");
  EXPECT_EQ(registry.Find("lookup"), nullptr);
  EXPECT_EQ(registry.Names(), (std::vector<std::string>{"A-1", "lookup_policy"}));
}

TEST(ToolRegistryTest, RefusesDuplicates) {
  core::FakeExecutor pool;
  ToolRegistry registry;
  ASSERT_TRUE(registry.Register(Echo("get_policy", &pool)).ok());
  core::Status again = registry.Register(Echo("get_policy", &pool));
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(again.message().find("get_policy"), std::string::npos);
  EXPECT_EQ(registry.Names().size(), 1u);
}

TEST(ToolRegistryTest, RefusesNamesAModelCannotCall) {
  core::FakeExecutor pool;
  ToolRegistry registry;
  const std::vector<std::string> bad_names = {"",       "get policy", "get.policy",
                                              "tool/x", "naïve",      std::string(65, 'a')};
  for (const std::string& bad : bad_names) {
    core::Status status = registry.Register(Echo(bad, &pool));
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << "'" << bad << "'";
  }
  EXPECT_EQ(registry.Register(nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry.Register(Echo(std::string(64, 'a'), &pool)).ok());
  EXPECT_EQ(registry.Names().size(), 1u);
}

TEST(FunctionToolTest, KeepsSpecAndSettings) {
  core::FakeExecutor pool;
  auto tool = MakeFunctionTool(
      Spec("t"), [](const json&, const ToolContext&) -> core::Result<json> { return json{}; },
      &pool, /*idempotent=*/true, std::chrono::milliseconds(2500));
  EXPECT_EQ(tool->spec().name, "t");
  EXPECT_EQ(tool->spec().description, "test tool");
  EXPECT_TRUE(tool->idempotent());
  EXPECT_EQ(tool->timeout(), std::chrono::milliseconds(2500));
  auto plain = Echo("u", &pool);
  EXPECT_FALSE(plain->idempotent());
  EXPECT_EQ(plain->timeout(), std::chrono::seconds(10));
}

// Runs `tool` on a real pool and waits for `done`; fails the test if done runs more than once.
struct Outcome {
  ToolResult result;
  int calls = 0;
};

Outcome InvokeOnPool(ToolFunction fn, const json& args, const ToolContext& context) {
  std::atomic<int> calls{0};
  std::promise<ToolResult> promise;
  {
    core::ThreadPool pool(2, 8, "tooltest");
    auto tool = MakeFunctionTool(Spec("t"), std::move(fn), &pool);
    auto run = tool->Invoke(args, context, [&](ToolResult result) {
      if (calls.fetch_add(1) == 0) promise.set_value(std::move(result));
    });
    EXPECT_NE(run, nullptr);
    pool.Shutdown();  // every job has run: a second `done` would have been counted
  }
  Outcome outcome;
  outcome.calls = calls.load();
  outcome.result = promise.get_future().get();
  return outcome;
}

TEST(FunctionToolTest, ReturnsTheFunctionsOutputOnThePool) {
  std::thread::id caller = std::this_thread::get_id();
  std::thread::id ran_on;
  ToolContext context;
  context.session_id = "sess_1";
  context.agent = "claims";
  Outcome out = InvokeOnPool(
      [&](const json& args, const ToolContext& ctx) -> core::Result<json> {
        ran_on = std::this_thread::get_id();
        return json{{"sum", args.at("a").get<int>() + args.at("b").get<int>()},
                    {"session", ctx.session_id},
                    {"agent", ctx.agent}};
      },
      json{{"a", 2}, {"b", 3}}, context);
  EXPECT_EQ(out.calls, 1);
  ASSERT_TRUE(out.result.status.ok()) << out.result.status.ToString();
  EXPECT_EQ(out.result.output, (json{{"sum", 5}, {"session", "sess_1"}, {"agent", "claims"}}));
  EXPECT_NE(ran_on, caller);
}

TEST(FunctionToolTest, PassesTheFunctionsErrorThrough) {
  Outcome out = InvokeOnPool(
      [](const json&, const ToolContext&) -> core::Result<json> {
        return core::InvalidArgumentError("policy_number must have 8 digits");
      },
      json::object(), {});
  EXPECT_EQ(out.calls, 1);
  EXPECT_EQ(out.result.status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(out.result.status.message(), "policy_number must have 8 digits");
  EXPECT_EQ(out.result.output.value("error", ""), "policy_number must have 8 digits");
}

TEST(FunctionToolTest, TurnsAnExceptionIntoAnInternalError) {
  Outcome out = InvokeOnPool(
      [](const json& args, const ToolContext&) -> core::Result<json> {
        // json::at throws for a missing key: the kind of bug the wrapper must contain.
        return json{{"x", args.at("missing")}};
      },
      json::object(), {});
  EXPECT_EQ(out.calls, 1);
  EXPECT_EQ(out.result.status.code(), StatusCode::kInternal);
  EXPECT_NE(out.result.status.message().find("'t'"), std::string::npos);

  Outcome other = InvokeOnPool(
      [](const json&, const ToolContext&) -> core::Result<json> { throw 42; }, json::object(), {});
  EXPECT_EQ(other.calls, 1);
  EXPECT_EQ(other.result.status.code(), StatusCode::kInternal);
}

TEST(FunctionToolTest, FullPoolFailsAtOnceWithoutRunningTheFunction) {
  RefusingPool pool;
  bool ran = false;
  auto tool = MakeFunctionTool(
      Spec("t"),
      [&](const json&, const ToolContext&) -> core::Result<json> {
        ran = true;
        return json{};
      },
      &pool);
  int calls = 0;
  ToolResult got;
  auto run = tool->Invoke(json::object(), {}, [&](ToolResult r) {
    ++calls;
    got = std::move(r);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(ran);
  EXPECT_EQ(got.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(got.status.message(), "tool queue full");
}

TEST(FunctionToolTest, CancelledBeforeItRunsNeitherRunsNorReports) {
  core::FakeExecutor pool;
  bool ran = false;
  auto tool = MakeFunctionTool(
      Spec("t"),
      [&](const json&, const ToolContext&) -> core::Result<json> {
        ran = true;
        return json{};
      },
      &pool);
  int calls = 0;
  auto run = tool->Invoke(json::object(), {}, [&](ToolResult) { ++calls; });
  run->Cancel();
  pool.RunPending();
  EXPECT_FALSE(ran);
  EXPECT_EQ(calls, 0);

  // The same tool still works for the next call.
  auto next = tool->Invoke(json::object(), {}, [&](ToolResult) { ++calls; });
  pool.RunPending();
  EXPECT_TRUE(ran);
  EXPECT_EQ(calls, 1);
}

TEST(FunctionToolTest, ArgumentsAreCopiedBeforeTheJobRuns) {
  core::FakeExecutor pool;
  auto tool = Echo("t", &pool);
  ToolResult got;
  {
    json args{{"policy_number", "12345678"}};
    ToolContext context;
    context.session_id = "s";
    auto run = tool->Invoke(args, context, [&](ToolResult r) { got = std::move(r); });
  }  // args, context and the run handle are gone; the queued job still has its copies
  pool.RunPending();
  ASSERT_TRUE(got.status.ok());
  EXPECT_EQ(got.output, (json{{"policy_number", "12345678"}}));
}

}  // namespace
}  // namespace artagent::agent
