#include "server/asio_executor.h"

#include <atomic>
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/log.h"

namespace artagent::server {
namespace {

namespace asio = boost::asio;

void RunGuarded(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    core::LogError("executor", "task threw: {}", e.what());
  } catch (...) {
    core::LogError("executor", "task threw a non-standard exception");
  }
}

// Shared by the handle and the pending wait. `timer` and `fn` are touched only on the strand;
// `cancelled` may be set from any thread and is checked on the strand before `fn` runs.
struct TimerState {
  explicit TimerState(const IoStrand& strand) : timer(strand) {}
  asio::steady_timer timer;
  std::function<void()> fn;
  std::atomic<bool> cancelled{false};
};

class StrandTimer final : public core::Timer {
 public:
  StrandTimer(IoStrand strand, std::shared_ptr<TimerState> state)
      : strand_(std::move(strand)), state_(std::move(state)) {}
  ~StrandTimer() override { Cancel(); }

  void Cancel() override {
    if (!state_) return;
    std::shared_ptr<TimerState> state = std::move(state_);
    state->cancelled.store(true, std::memory_order_release);
    auto stop = [state] {
      state->timer.cancel();
      state->fn = nullptr;  // drop captures (often shared_ptrs) now, not when the wait completes
    };
    if (strand_.running_in_this_thread()) {
      stop();
    } else {
      asio::post(strand_, std::move(stop));
    }
  }

 private:
  IoStrand strand_;
  std::shared_ptr<TimerState> state_;
};

}  // namespace

StrandExecutor::StrandExecutor(asio::io_context& io_context)
    : strand_(asio::make_strand(io_context)) {}

void StrandExecutor::Post(std::function<void()> fn) {
  asio::post(strand_, [fn = std::move(fn)] { RunGuarded(fn); });
}

std::unique_ptr<core::Timer> StrandExecutor::RunAfter(core::Duration delay,
                                                      std::function<void()> fn) {
  auto state = std::make_shared<TimerState>(strand_);
  state->fn = std::move(fn);
  // Arm on the strand so that the timer object is never touched by two threads at once.
  asio::dispatch(strand_, [state, delay] {
    if (state->cancelled.load(std::memory_order_acquire)) return;
    state->timer.expires_after(delay.count() > 0 ? delay : core::Duration::zero());
    state->timer.async_wait([state](const boost::system::error_code& ec) {
      std::function<void()> fn = std::move(state->fn);
      state->fn = nullptr;
      if (ec || state->cancelled.load(std::memory_order_acquire) || !fn) return;
      RunGuarded(fn);
    });
  });
  return std::make_unique<StrandTimer>(strand_, std::move(state));
}

}  // namespace artagent::server
