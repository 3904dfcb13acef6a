// logreg/detail/thread_pool.hpp - a tiny fork-join pool for splitting a batch across threads.
//
// run() executes up to size() tasks, task 0 on the calling thread; inside a run the tasks
// can wait for each other at barrier(). Tasks are a plain function pointer and a context
// pointer, so dispatching a step does not allocate. Each task writes its own partial result;
// they are combined in task order, which keeps results bitwise reproducible for a fixed
// thread count.
//
// A training step lasts tens of microseconds, and on this kind of machine every cache line
// that moves between cores costs a few hundred nanoseconds. So the fast path of a step is two
// atomic words and nothing else: the caller publishes `start_` (a run number and the number of
// tasks in one word; the workers, spinning on it, start), each participating worker decrements
// `pending_` (the caller, spinning on it, returns). A worker not needed in a run learns that
// from the same word and touches nothing else, so it can lag behind without racing the caller.
// Only a thread that has spun for spin_time without news sleeps on a condition variable, and
// the other side takes the mutex only when it knows that someone sleeps: a mutex and a notify on
// every step would cost more than a small step's arithmetic (BM_TwoThreadStep measures it).
// Between epochs the workers sleep.
#pragma once

#include <algorithm>
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
    explicit ThreadPool(int threads) : size_(std::clamp(threads, 1, 0xffff)) {  // the task count takes 16 bits
        errors_.resize(static_cast<std::size_t>(size_));
        for (int t = 1; t < size_; ++t) workers_.emplace_back([this, t] { work(t); });
    }

    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    ~ThreadPool() {
        stopping_.store(true, std::memory_order_relaxed);
        start_workers(size_);  // every worker sees the stop (published by the same release)
        for (auto& w : workers_) w.join();
    }

    int size() const { return size_; }

    /// Runs fn(context, t) for t in [0, tasks) (all size() threads by default) and waits for
    /// all; rethrows the first task's exception. One task runs on the caller alone.
    void run(Task fn, void* context, int tasks = 0) {
        tasks = (tasks < 1 || tasks > size_) ? size_ : tasks;
        if (tasks == 1) {
            tasks_ = 1;  // barrier() is then a no-op
            fn(context, 0);
            return;
        }
        // Plain writes, published by the release in start_workers(). Only the participating
        // workers of a run read them, and each finished with them before it decremented pending_.
        task_ = fn;
        context_ = context;
        tasks_ = tasks;
        pending_.store(tasks - 1, std::memory_order_relaxed);
        start_workers(tasks);
        try {
            fn(context, 0);
        } catch (...) {
            errors_[0] = std::current_exception();
        }
        const auto finished = [this] { return pending_.load(std::memory_order_seq_cst) == 0; };
        if (!spin_until(finished)) sleep_until(finished, caller_sleepers_, done_);
        for (auto& e : errors_)
            if (e) {
                std::exception_ptr first = e;
                for (auto& clear : errors_) clear = nullptr;
                std::rethrow_exception(first);
            }
    }

    /// Called by every task of the current run(): returns once all of them have called it.
    /// Every task must reach every barrier: a task that may throw has to catch, arrive, and
    /// rethrow afterwards (see BatchGradient). Spins first (a barrier inside a step is passed
    /// within microseconds), then sleeps.
    void barrier() {
        if (tasks_ == 1) return;
        const unsigned long long phase = barrier_phase_.load(std::memory_order_acquire);
        if (barrier_arrived_.fetch_add(1, std::memory_order_acq_rel) == tasks_ - 1) {
            // Last to arrive: reset for the next barrier before releasing anyone (nobody can
            // arrive at the next one until the phase changes).
            barrier_arrived_.store(0, std::memory_order_relaxed);
            barrier_phase_.fetch_add(1, std::memory_order_seq_cst);
            wake_sleepers(barrier_sleepers_, barrier_cv_);
            return;
        }
        const auto passed = [&] { return barrier_phase_.load(std::memory_order_seq_cst) != phase; };
        if (!spin_until(passed)) sleep_until(passed, barrier_sleepers_, barrier_cv_);
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

    /// Sleeps on `cv` until `ready`. `sleepers` is raised first; that, the waker's change, its
    /// check of `sleepers` and the loads in `ready` are all sequentially consistent, so either
    /// the waker sees the sleeper or the sleeper sees the change, and the mutex closes the gap
    /// between the sleeper's last check and its wait.
    template <typename Ready>
    void sleep_until(Ready ready, std::atomic<int>& sleepers, std::condition_variable& cv) {
        std::unique_lock<std::mutex> lock(mutex_);
        sleepers.fetch_add(1, std::memory_order_seq_cst);
        cv.wait(lock, ready);
        sleepers.fetch_sub(1, std::memory_order_relaxed);
    }

    /// Called after a sequentially consistent change that sleepers wait for.
    void wake_sleepers(std::atomic<int>& sleepers, std::condition_variable& cv) {
        if (sleepers.load(std::memory_order_seq_cst) == 0) return;  // the fast path: everyone spins
        { std::lock_guard<std::mutex> lock(mutex_); }               // a sleeper is either waiting or sees the change
        cv.notify_all();
    }

    /// Starts run number ++runs_ with `tasks` tasks: both in one word, so that a worker reads
    /// them together (publishes task_, context_, tasks_ and stopping_).
    void start_workers(int tasks) {
        ++runs_;
        start_.store(runs_ << 16 | static_cast<unsigned long long>(tasks), std::memory_order_seq_cst);
        wake_sleepers(worker_sleepers_, wake_);
    }

    static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();  // lets a sibling hyper-thread run while we spin
#endif
    }

    void work(int t) {
        unsigned long long seen = 0, now = 0;
        for (;;) {
            const auto started = [&] {
                now = start_.load(std::memory_order_seq_cst);
                return now != seen;
            };
            if (!spin_until(started)) sleep_until(started, worker_sleepers_, wake_);
            seen = now;                                          // one load gives the run and its task count together
            if (t >= static_cast<int>(seen & 0xffff)) continue;  // not needed in this run: touch nothing
            if (stopping_.load(std::memory_order_relaxed)) return;
            try {
                task_(context_, t);
            } catch (...) {
                errors_[static_cast<std::size_t>(t)] = std::current_exception();
            }
            if (pending_.fetch_sub(1, std::memory_order_seq_cst) == 1) wake_sleepers(caller_sleepers_, done_);
        }
    }

    /// How long a thread spins before it sleeps: longer than one step at batch 64, so an idle
    /// machine never pays a condition-variable wake-up between steps (a much shorter spin made
    /// 2-thread MNIST epochs several times slower; a much longer one gains nothing). On
    /// oversubscribed cores a spin can burn its whole length: see docs/performance.md.
    static constexpr std::chrono::microseconds spin_time{50};

    int size_;
    std::vector<std::thread> workers_;
    std::vector<std::exception_ptr> errors_;
    Task task_ = nullptr;
    void* context_ = nullptr;
    int tasks_ = 1;                // tasks of the current run(), for barrier()
    unsigned long long runs_ = 0;  // runs started (written by the caller only)
    std::atomic<bool> stopping_{false};
    // Each counter on its own cache line: they are written by different threads.
    alignas(64) std::atomic<unsigned long long> start_{0};  // runs_ << 16 | tasks of the run
    alignas(64) std::atomic<int> pending_{0};
    alignas(64) std::atomic<int> barrier_arrived_{0};
    alignas(64) std::atomic<unsigned long long> barrier_phase_{0};
    alignas(64) std::atomic<int> worker_sleepers_{0}, caller_sleepers_{0}, barrier_sleepers_{0};
    std::mutex mutex_;
    std::condition_variable wake_, done_, barrier_cv_;
};

}  // namespace logreg::detail
