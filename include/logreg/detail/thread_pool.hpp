// logreg/detail/thread_pool.hpp - a tiny fork-join pool for splitting a batch across threads.
//
// The trainer runs `threads` tasks per step, task 0 on the calling thread. Tasks
// are a plain function pointer and a context pointer, so dispatching a step does
// not allocate. Each task writes its own partial result; the caller reduces them
// in task order, which keeps results bitwise reproducible for a fixed thread count.
//
// A training step lasts tens of microseconds, about as long as waking a sleeping thread
// through a condition variable. So both sides first spin for a short while on atomics
// (the workers waiting for the next step, the caller waiting for the workers) and only
// then sleep on the mutex and condition variables; between epochs the workers sleep.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace logreg::detail {

class ThreadPool {
public:
    using Task = void (*)(void* context, int task);

    /// A pool whose run() uses `threads` tasks: threads - 1 workers plus the caller.
    explicit ThreadPool(int threads) : size_(threads < 1 ? 1 : threads) {
        errors_.resize(static_cast<std::size_t>(size_));
        for (int t = 1; t < size_; ++t) workers_.emplace_back([this, t] { work(t); });
    }

    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    ~ThreadPool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_.store(true, std::memory_order_relaxed);
            generation_.fetch_add(1, std::memory_order_release);
        }
        wake_.notify_all();
        for (auto& w : workers_) w.join();
    }

    int size() const { return size_; }

    /// Runs fn(context, t) for t in [0, size()) and waits for all; rethrows the first task's exception.
    void run(Task fn, void* context) {
        if (size_ == 1) {
            fn(context, 0);
            return;
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            task_ = fn;
            context_ = context;
            pending_.store(size_ - 1, std::memory_order_relaxed);
            generation_.fetch_add(1, std::memory_order_release);  // publishes task_ and context_
        }
        wake_.notify_all();
        try {
            fn(context, 0);
        } catch (...) {
            errors_[0] = std::current_exception();
        }
        if (!spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; })) {
            std::unique_lock<std::mutex> lock(mutex_);
            done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
        }
        for (auto& e : errors_)
            if (e) {
                std::exception_ptr first = e;
                for (auto& clear : errors_) clear = nullptr;
                std::rethrow_exception(first);
            }
    }

private:
    /// Spins (pausing the core) for up to about spin_time until `ready`; true if it became true.
    /// Not std::this_thread::yield(): on a busy machine a yielding thread can lose its core for
    /// a whole scheduler time slice, far longer than a step.
    template <typename Ready>
    static bool spin_until(Ready ready) {
        const auto until = std::chrono::steady_clock::now() + spin_time;
        for (int i = 0;; ++i) {
            if (ready()) return true;
            if ((i & 15) == 15 && std::chrono::steady_clock::now() > until) return false;
            cpu_relax();
        }
    }

    static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();  // lets a sibling hyper-thread run while we spin
#endif
    }

    void work(int t) {
        unsigned long long seen = 0;
        for (;;) {
            const auto started = [&] { return generation_.load(std::memory_order_acquire) != seen; };
            if (!spin_until(started)) {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, started);
            }
            seen = generation_.load(std::memory_order_acquire);
            if (stopping_.load(std::memory_order_relaxed)) return;
            Task fn;
            void* context;
            {
                // task_ and context_ are written under the mutex; reading them under it too
                // keeps the pool simple to reason about (and TSan quiet).
                std::lock_guard<std::mutex> lock(mutex_);
                fn = task_;
                context = context_;
            }
            try {
                fn(context, t);
            } catch (...) {
                errors_[static_cast<std::size_t>(t)] = std::current_exception();
            }
            if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                // The caller may be asleep: notify under the mutex so the wake-up cannot be lost
                // between its check of pending_ and its wait.
                std::lock_guard<std::mutex> lock(mutex_);
                done_.notify_one();
            }
        }
    }

    /// How long a thread spins before it sleeps: longer than one step at batch 64 (~40 us), so an
    /// idle machine never pays a condition-variable wake-up between steps (2 threads, batch 64:
    /// 121 ms/epoch with 5 us, 34 ms with 50 us, 37 ms with 200 us on MNIST, -march=native).
    /// On oversubscribed cores a spin can burn its whole length: see docs/performance.md.
    static constexpr std::chrono::microseconds spin_time{50};

    int size_;
    std::vector<std::thread> workers_;
    std::vector<std::exception_ptr> errors_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    Task task_ = nullptr;
    void* context_ = nullptr;
    std::atomic<int> pending_{0};
    std::atomic<unsigned long long> generation_{0};
    std::atomic<bool> stopping_{false};
};

}  // namespace logreg::detail
