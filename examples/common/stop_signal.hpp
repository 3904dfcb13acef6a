// examples/common/stop_signal.hpp - Ctrl-C (SIGINT) and SIGTERM as a request to stop training
// after the current batch, so that the programs can save a checkpoint and exit with 130.
#pragma once

#include <atomic>
#include <csignal>

namespace examples {

/// Set by SIGINT/SIGTERM; the trainer checks it after each batch (Callbacks::stop, LBFGS's stop
/// flag). A lock-free atomic store is async-signal-safe.
inline std::atomic<bool> stop_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the stop flag must be usable from a signal handler");

extern "C" inline void on_stop_signal(int) {
    stop_requested.store(true);
}

/// SA_RESETHAND: a second Ctrl-C kills the program at once.
inline void install_stop_handler() {
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = static_cast<int>(SA_RESETHAND);  // an unsigned constant on Linux
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace examples
