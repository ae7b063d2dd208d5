#pragma once
// StrandExecutor: the production core::Executor, a serial queue on an Asio strand of the server's
// io_context. Every WebSocket connection gets one (WebSocketConnection::executor()); sessions
// created for a connection live on it.

#include <functional>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include "core/executor.h"

namespace artagent::server {

using IoStrand = boost::asio::strand<boost::asio::io_context::executor_type>;

class StrandExecutor final : public core::Executor {
 public:
  explicit StrandExecutor(IoStrand strand) : strand_(std::move(strand)) {}
  // A new strand on `io_context`.
  explicit StrandExecutor(boost::asio::io_context& io_context);

  // Runs `fn` on the strand, after everything posted before it. An exception escaping `fn` is
  // logged and swallowed so that it never unwinds an I/O thread.
  void Post(std::function<void()> fn) override;
  // A steady_timer on the strand. Cancel() (or destroying the handle) from the strand guarantees
  // that `fn` does not run, even if the timer already expired and its completion is queued; from
  // another thread the cancellation takes effect before `fn` is next looked at on the strand.
  // Timers and the executor must not outlive the io_context.
  std::unique_ptr<core::Timer> RunAfter(core::Duration delay, std::function<void()> fn) override;
  core::TimePoint Now() const override { return core::Clock::now(); }

  const IoStrand& strand() const { return strand_; }
  // True when called from a function running on this strand.
  bool RunningInThisThread() const { return strand_.running_in_this_thread(); }

 private:
  IoStrand strand_;
};

}  // namespace artagent::server
