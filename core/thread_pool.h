#pragma once
// ThreadPool: the production ComputePool, a fixed set of std::threads and a bounded FIFO queue.

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/executor.h"

namespace artagent::core {

class ThreadPool : public ComputePool {
 public:
  // `threads` workers (>= 1), at most `max_queue` waiting jobs.
  ThreadPool(size_t threads, size_t max_queue, std::string name = "compute");
  ~ThreadPool() override;  // finishes queued jobs, then joins

  bool TrySubmit(std::function<void()> job) override;
  size_t QueueDepth() const override;
  size_t thread_count() const { return workers_.size(); }

  // Stops accepting jobs, runs the ones queued, joins the threads. Idempotent.
  void Shutdown();

 private:
  void Run();

  const size_t max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace artagent::core
