#pragma once
// SerialThreadExecutor: a core::Executor backed by one std::thread and a real clock, for tests that
// drive real sockets (where a FakeExecutor would need polling). Posted functions run in order;
// timers fire at their due time. Destroying it drops what is still queued and joins the thread.

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "core/executor.h"

namespace artagent::net::testing {

class SerialThreadExecutor final : public core::Executor {
 public:
  static std::shared_ptr<SerialThreadExecutor> Create();
  ~SerialThreadExecutor() override;

  void Post(std::function<void()> fn) override;
  std::unique_ptr<core::Timer> RunAfter(core::Duration delay, std::function<void()> fn) override;
  core::TimePoint Now() const override { return core::Clock::now(); }

  // Runs `fn` on the executor and waits for it (not from the executor's own thread).
  void RunSync(std::function<void()> fn);
  bool RunningInThisThread() const { return std::this_thread::get_id() == thread_.get_id(); }

  struct State;

 private:
  SerialThreadExecutor();
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace artagent::net::testing
