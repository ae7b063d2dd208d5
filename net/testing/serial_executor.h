#pragma once
// Tests of code that talks to real sockets run on core::SerialThreadExecutor (a real-thread,
// real-clock executor) rather than a FakeExecutor that would need polling.

#include "core/serial_thread_executor.h"

namespace artagent::net::testing {

using SerialThreadExecutor = core::SerialThreadExecutor;

}  // namespace artagent::net::testing
