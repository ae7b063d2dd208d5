#include "core/serial_thread_executor.h"

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace artagent::core {

struct SerialThreadExecutor::State {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::function<void()>> queue;
  std::multimap<TimePoint, std::pair<uint64_t, std::function<void()>>> timers;
  uint64_t next_timer = 1;
  bool stopping = false;
  std::thread thread;

  void Run() {
    std::unique_lock<std::mutex> lock(mu);
    while (!stopping) {
      std::function<void()> fn;
      if (!queue.empty()) {
        fn = std::move(queue.front());
        queue.pop_front();
      } else if (!timers.empty() && timers.begin()->first <= Clock::now()) {
        fn = std::move(timers.begin()->second.second);
        timers.erase(timers.begin());
      } else {
        if (timers.empty()) {
          cv.wait(lock);
        } else {
          cv.wait_until(lock, timers.begin()->first);
        }
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

class ThreadTimer final : public Timer {
 public:
  ThreadTimer(std::weak_ptr<SerialThreadExecutor::State> state, TimePoint due, uint64_t id)
      : state_(std::move(state)), due_(due), id_(id) {}
  ~ThreadTimer() override { Cancel(); }
  void Cancel() override {
    auto state = state_.lock();
    state_.reset();
    if (!state) return;
    std::function<void()> dropped;  // destroyed after the lock is released
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
  TimePoint due_;
  uint64_t id_;
};

}  // namespace

std::shared_ptr<SerialThreadExecutor> SerialThreadExecutor::Create(std::string name) {
  auto state = std::make_shared<State>();
  // The thread holds the state too: a detached loop (see the destructor) still has it.
  state->thread = std::thread([state, name = std::move(name)] {
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    state->Run();
  });
  return std::shared_ptr<SerialThreadExecutor>(new SerialThreadExecutor(std::move(state)));
}

SerialThreadExecutor::SerialThreadExecutor(std::shared_ptr<State> state)
    : state_(std::move(state)) {}

SerialThreadExecutor::~SerialThreadExecutor() {
  std::deque<std::function<void()>> queue;
  std::multimap<TimePoint, std::pair<uint64_t, std::function<void()>>> timers;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stopping = true;
    queue.swap(state_->queue);
    timers.swap(state_->timers);
  }
  state_->cv.notify_all();
  if (RunningInThisThread()) {
    state_->thread.detach();
  } else {
    state_->thread.join();
  }
}

void SerialThreadExecutor::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->stopping) return;
    state_->queue.push_back(std::move(fn));
  }
  state_->cv.notify_one();
}

std::unique_ptr<Timer> SerialThreadExecutor::RunAfter(Duration delay, std::function<void()> fn) {
  const TimePoint due = Clock::now() + std::max(delay, Duration::zero());
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    id = state_->next_timer++;
    if (!state_->stopping) state_->timers.emplace(due, std::make_pair(id, std::move(fn)));
  }
  state_->cv.notify_one();
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

bool SerialThreadExecutor::RunningInThisThread() const {
  return state_->thread.get_id() == std::this_thread::get_id();
}

}  // namespace artagent::core
