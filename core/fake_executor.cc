#include "core/fake_executor.h"

#include <mutex>

namespace artagent::core {

struct FakeExecutor::State {
  // Post() may come from any thread (as on a real strand: e.g. a store's writer thread); the rest
  // runs on the test's thread only.
  std::mutex posted_mu;
  std::deque<std::function<void()>> posted;
  // due time + sequence -> callback; the sequence keeps FIFO order among equal due times.
  std::map<std::pair<TimePoint, uint64_t>, std::function<void()>> timers;
  uint64_t next_seq = 0;
};

namespace {
class FakeTimer : public Timer {
 public:
  FakeTimer(std::weak_ptr<FakeExecutor::State> state, std::pair<TimePoint, uint64_t> key)
      : state_(std::move(state)), key_(key) {}
  ~FakeTimer() override { Cancel(); }
  void Cancel() override {
    if (auto s = state_.lock()) s->timers.erase(key_);
    state_.reset();
  }

 private:
  std::weak_ptr<FakeExecutor::State> state_;
  std::pair<TimePoint, uint64_t> key_;
};
}  // namespace

FakeExecutor::FakeExecutor()
    : state_(std::make_shared<State>()), now_(TimePoint{} + std::chrono::hours(1)) {}
FakeExecutor::~FakeExecutor() = default;

void FakeExecutor::Post(std::function<void()> fn) {
  std::lock_guard lock(state_->posted_mu);
  state_->posted.push_back(std::move(fn));
}

std::unique_ptr<Timer> FakeExecutor::RunAfter(Duration delay, std::function<void()> fn) {
  if (delay < Duration::zero()) delay = Duration::zero();
  auto key = std::make_pair(now_ + delay, state_->next_seq++);
  state_->timers.emplace(key, std::move(fn));
  return std::make_unique<FakeTimer>(state_, key);
}

bool FakeExecutor::TrySubmit(std::function<void()> job) {
  std::lock_guard lock(state_->posted_mu);
  state_->posted.push_back(std::move(job));
  return true;
}

size_t FakeExecutor::RunPending() {
  size_t ran = 0;
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard lock(state_->posted_mu);
      if (!state_->posted.empty()) {
        fn = std::move(state_->posted.front());
        state_->posted.pop_front();
      }
    }
    if (fn) {
      fn();
      ++ran;
      continue;
    }
    auto it = state_->timers.begin();
    if (it != state_->timers.end() && it->first.first <= now_) {
      auto fn = std::move(it->second);
      state_->timers.erase(it);
      fn();
      ++ran;
      continue;
    }
    return ran;
  }
}

void FakeExecutor::AdvanceBy(Duration d) {
  const TimePoint end = now_ + d;
  RunPending();
  for (;;) {
    auto it = state_->timers.begin();
    if (it == state_->timers.end() || it->first.first > end) break;
    now_ = std::max(now_, it->first.first);
    RunPending();
  }
  now_ = end;
  RunPending();
}

size_t FakeExecutor::PendingTimers() const { return state_->timers.size(); }

}  // namespace artagent::core
