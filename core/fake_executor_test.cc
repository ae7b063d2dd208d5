#include "core/fake_executor.h"

#include <gtest/gtest.h>

#include <vector>

namespace artagent::core {
namespace {

TEST(FakeExecutorTest, RunsTimersInDueOrderWithTime) {
  FakeExecutor ex;
  std::vector<int> order;
  TimePoint start = ex.Now();
  auto t2 = ex.RunAfter(milliseconds(20), [&] { order.push_back(2); });
  auto t1 = ex.RunAfter(milliseconds(10), [&] {
    order.push_back(1);
    EXPECT_EQ(ex.Now() - start, milliseconds(10));
  });
  ex.AdvanceBy(milliseconds(15));
  EXPECT_EQ(order, (std::vector<int>{1}));
  ex.AdvanceBy(milliseconds(15));
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(ex.Now() - start, milliseconds(30));
}

TEST(FakeExecutorTest, CancelledTimerNeverRuns) {
  FakeExecutor ex;
  bool ran = false;
  auto t = ex.RunAfter(milliseconds(5), [&] { ran = true; });
  t->Cancel();
  ex.AdvanceBy(milliseconds(10));
  EXPECT_FALSE(ran);
  {
    auto dropped = ex.RunAfter(milliseconds(5), [&] { ran = true; });
  }
  ex.AdvanceBy(milliseconds(10));
  EXPECT_FALSE(ran);
  EXPECT_EQ(ex.PendingTimers(), 0u);
}

TEST(FakeExecutorTest, PostedWorkRunsInOrder) {
  FakeExecutor ex;
  std::vector<int> order;
  ex.Post([&] {
    order.push_back(1);
    ex.Post([&] { order.push_back(3); });
  });
  ex.TrySubmit([&] { order.push_back(2); });
  EXPECT_EQ(ex.RunPending(), 3u);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

}  // namespace
}  // namespace artagent::core
