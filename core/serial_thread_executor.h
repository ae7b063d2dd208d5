#pragma once
// SerialThreadExecutor: a core::Executor on a thread of its own with the real clock, for work that
// has no strand to run on (start-up secret resolution, the CLI) and for tests that drive real
// sockets. Posted functions run in order; timers fire at their due time. Destroying it drops what
// is still queued and joins the thread (or detaches it when the last owner lets go from inside a
// task, so the loop ends when that task returns).

#include <functional>
#include <memory>
#include <string>

#include "core/executor.h"

namespace artagent::core {

class SerialThreadExecutor final : public Executor {
 public:
  // `name` names the thread (at most 15 characters are kept).
  static std::shared_ptr<SerialThreadExecutor> Create(std::string name = "serial");
  ~SerialThreadExecutor() override;

  void Post(std::function<void()> fn) override;
  std::unique_ptr<Timer> RunAfter(Duration delay, std::function<void()> fn) override;
  TimePoint Now() const override { return Clock::now(); }

  // Runs `fn` on the executor and waits for it. Never call it from the executor's own thread.
  void RunSync(std::function<void()> fn);
  bool RunningInThisThread() const;

  struct State;

 private:
  explicit SerialThreadExecutor(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace artagent::core
