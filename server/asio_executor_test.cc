#include "server/asio_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>

namespace artagent::server {
namespace {

using namespace std::chrono_literals;

// An io_context run by two threads for the duration of a test.
class IoThreads {
 public:
  IoThreads() : work_(boost::asio::make_work_guard(io_)) {
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~IoThreads() {
    work_.reset();
    io_.stop();
    for (auto& t : threads_) t.join();
  }
  boost::asio::io_context& io() { return io_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
};

TEST(StrandExecutorTest, PostRunsInOrderAndSerially) {
  IoThreads threads;
  StrandExecutor executor(threads.io());
  std::vector<int> order;  // only touched on the strand
  std::atomic<int> running{0};
  std::atomic<bool> overlapped{false};
  std::promise<void> done;
  for (int i = 0; i < 1000; ++i) {
    executor.Post([&, i] {
      if (running.fetch_add(1) != 0) overlapped = true;
      EXPECT_TRUE(executor.RunningInThisThread());
      order.push_back(i);
      running.fetch_sub(1);
      if (i == 999) done.set_value();
    });
  }
  ASSERT_EQ(done.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(overlapped);
  ASSERT_EQ(order.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(order[i], i);
}

TEST(StrandExecutorTest, ExceptionInTaskDoesNotEscape) {
  IoThreads threads;
  StrandExecutor executor(threads.io());
  std::promise<void> after;
  executor.Post([] { throw std::runtime_error("boom"); });
  executor.Post([&] { after.set_value(); });
  EXPECT_EQ(after.get_future().wait_for(10s), std::future_status::ready);
}

TEST(StrandExecutorTest, RunAfterFires) {
  IoThreads threads;
  StrandExecutor executor(threads.io());
  std::promise<bool> fired;
  const core::TimePoint start = executor.Now();
  auto timer = executor.RunAfter(std::chrono::milliseconds(5), [&] {
    fired.set_value(executor.RunningInThisThread() && executor.Now() >= start + 5ms);
  });
  auto future = fired.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(future.get());
}

TEST(StrandExecutorTest, CancelOnStrandWinsOverAnExpiredTimer) {
  IoThreads threads;
  StrandExecutor executor(threads.io());
  std::atomic<bool> ran{false};
  std::promise<void> done;
  executor.Post([&] {
    // The timer expires while this task holds the strand: its completion is queued behind us.
    auto timer = executor.RunAfter(core::Duration::zero(), [&] { ran = true; });
    std::this_thread::sleep_for(20ms);
    timer->Cancel();
    executor.Post([&] { done.set_value(); });
  });
  ASSERT_EQ(done.get_future().wait_for(10s), std::future_status::ready);
  // Anything the timer could still run would be queued before this.
  std::promise<void> drained;
  executor.Post([&] { drained.set_value(); });
  ASSERT_EQ(drained.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(ran);
}

TEST(StrandExecutorTest, DestroyingTheHandleCancels) {
  IoThreads threads;
  StrandExecutor executor(threads.io());
  std::atomic<bool> ran{false};
  {
    auto timer = executor.RunAfter(std::chrono::milliseconds(50), [&] { ran = true; });
  }
  std::promise<void> fired;
  auto later = executor.RunAfter(std::chrono::milliseconds(100), [&] { fired.set_value(); });
  ASSERT_EQ(fired.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace artagent::server
