#pragma once
// Time and execution, as seen by code below the server: the session engine, speech and agents
// never touch Asio. They get an Executor (a serial queue with timers: in production an Asio strand,
// in tests a FakeExecutor advanced by hand) and a ComputePool for CPU-heavy work.

#include <chrono>
#include <functional>
#include <memory>

namespace artagent::core {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = std::chrono::microseconds;
using std::chrono::milliseconds;

// Milliseconds between two time points, as a double (for metrics and logs).
inline double MillisBetween(TimePoint from, TimePoint to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// A pending timer. Cancel() is idempotent; destroying the handle cancels the timer. After Cancel()
// returns on the owning executor the callback is guaranteed not to run.
class Timer {
 public:
  virtual ~Timer() = default;
  virtual void Cancel() = 0;
};

// A serial executor: functions posted to it run one at a time, in order, never concurrently.
// All methods may be called from any thread; callbacks run on the executor.
class Executor {
 public:
  virtual ~Executor() = default;
  virtual void Post(std::function<void()> fn) = 0;
  // Runs `fn` on this executor once `delay` has passed (delay <= 0: as soon as possible).
  virtual std::unique_ptr<Timer> RunAfter(Duration delay, std::function<void()> fn) = 0;
  virtual TimePoint Now() const = 0;
};

// A bounded pool of worker threads for blocking or CPU-heavy jobs (decoding, synthesis, SQLite).
// Jobs never run on an I/O thread. Results go back to their owner by posting to its Executor.
class ComputePool {
 public:
  virtual ~ComputePool() = default;
  // Queues `job`. Returns false (and drops the job) when the queue is full: the caller decides
  // whether that is an error or back-pressure.
  virtual bool TrySubmit(std::function<void()> job) = 0;
  // Jobs waiting, not yet started. Used for admission control (refuse new sessions when high).
  virtual size_t QueueDepth() const = 0;
};

}  // namespace artagent::core
