#include "net/testing/serial_executor.h"

#include <algorithm>
#include <future>
#include <utility>

namespace artagent::net::testing {

struct SerialThreadExecutor::State {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;
  std::multimap<core::TimePoint, std::pair<uint64_t, std::function<void()>>> timers;
  uint64_t next_timer_id = 1;
  bool stopping = false;

  void Loop() {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      if (stopping) return;
      std::function<void()> fn;
      if (!queue.empty()) {
        fn = std::move(queue.front());
        queue.pop_front();
      } else if (!timers.empty() && timers.begin()->first <= core::Clock::now()) {
        fn = std::move(timers.begin()->second.second);
        timers.erase(timers.begin());
      } else if (!timers.empty()) {
        cv.wait_until(lock, timers.begin()->first);
        continue;
      } else {
        cv.wait(lock);
        continue;
      }
      lock.unlock();
      fn();
      fn = nullptr;  // captures die outside the lock
      lock.lock();
    }
  }
};

namespace {

class ThreadTimer final : public core::Timer {
 public:
  ThreadTimer(std::weak_ptr<SerialThreadExecutor::State> state, core::TimePoint due, uint64_t id)
      : state_(std::move(state)), due_(due), id_(id) {}
  ~ThreadTimer() override { Cancel(); }

  void Cancel() override {
    auto state = state_.lock();
    state_.reset();
    if (!state) return;
    std::function<void()> dropped;
    std::lock_guard<std::mutex> lock(state->mu);
    auto [begin, end] = state->timers.equal_range(due_);
    for (auto it = begin; it != end; ++it) {
      if (it->second.first == id_) {
        dropped = std::move(it->second.second);
        state->timers.erase(it);
        break;
      }
    }
  }

 private:
  std::weak_ptr<SerialThreadExecutor::State> state_;
  core::TimePoint due_;
  uint64_t id_;
};

}  // namespace

std::shared_ptr<SerialThreadExecutor> SerialThreadExecutor::Create() {
  return std::shared_ptr<SerialThreadExecutor>(new SerialThreadExecutor());
}

SerialThreadExecutor::SerialThreadExecutor() : state_(std::make_shared<State>()) {
  thread_ = std::thread([state = state_] { state->Loop(); });
}

SerialThreadExecutor::~SerialThreadExecutor() {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stopping = true;
  }
  state_->cv.notify_all();
  if (RunningInThisThread()) {
    thread_.detach();
  } else {
    thread_.join();
  }
}

void SerialThreadExecutor::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->queue.push_back(std::move(fn));
  }
  state_->cv.notify_all();
}

std::unique_ptr<core::Timer> SerialThreadExecutor::RunAfter(core::Duration delay,
                                                            std::function<void()> fn) {
  const core::TimePoint due = core::Clock::now() + std::max(delay, core::Duration::zero());
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    id = state_->next_timer_id++;
    state_->timers.emplace(due, std::make_pair(id, std::move(fn)));
  }
  state_->cv.notify_all();
  return std::make_unique<ThreadTimer>(state_, due, id);
}

void SerialThreadExecutor::RunSync(std::function<void()> fn) {
  std::promise<void> done;
  Post([&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace artagent::net::testing
