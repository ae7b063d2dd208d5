#pragma once
// FakeExecutor: a deterministic Executor + ComputePool for tests and benchmarks. Time only moves
// when the test calls AdvanceBy(); posted functions and compute jobs run inside RunPending() /
// AdvanceBy(), on the calling thread, in order. Post() may be called from any thread (as on a real
// strand); everything else belongs to the test's thread.

#include <deque>
#include <map>
#include <memory>

#include "core/executor.h"

namespace artagent::core {

class FakeExecutor : public Executor, public ComputePool {
 public:
  FakeExecutor();
  ~FakeExecutor() override;

  void Post(std::function<void()> fn) override;
  std::unique_ptr<Timer> RunAfter(Duration delay, std::function<void()> fn) override;
  TimePoint Now() const override { return now_; }

  bool TrySubmit(std::function<void()> job) override;
  size_t QueueDepth() const override { return 0; }

  // Runs posted functions and compute jobs until none is left (timers that are due included).
  // Returns how many ran.
  size_t RunPending();
  // Moves time forward in order, firing each timer at its due time and running what it posts.
  void AdvanceBy(Duration d);
  // Number of armed timers (for assertions that nothing is left scheduled).
  size_t PendingTimers() const;

  struct State;  // opaque; shared with the timer handles

 private:
  std::shared_ptr<State> state_;
  TimePoint now_;
};

}  // namespace artagent::core
