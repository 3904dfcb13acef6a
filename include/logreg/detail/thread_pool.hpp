// logreg/detail/thread_pool.hpp - a tiny fork-join pool for splitting a batch across threads.
//
// The trainer runs `threads` tasks per step, task 0 on the calling thread. Tasks
// are a plain function pointer and a context pointer, so dispatching a step does
// not allocate. Each task writes its own partial result; the caller reduces them
// in task order, which keeps results bitwise reproducible for a fixed thread count.
#pragma once

#include <atomic>
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
            stopping_ = true;
            ++generation_;
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
            pending_ = size_ - 1;
            ++generation_;
        }
        wake_.notify_all();
        try {
            fn(context, 0);
        } catch (...) {
            errors_[0] = std::current_exception();
        }
        {
            std::unique_lock<std::mutex> lock(mutex_);
            done_.wait(lock, [this] { return pending_ == 0; });
        }
        for (auto& e : errors_)
            if (e) {
                std::exception_ptr first = e;
                for (auto& clear : errors_) clear = nullptr;
                std::rethrow_exception(first);
            }
    }

private:
    void work(int t) {
        unsigned long long seen = 0;
        for (;;) {
            Task fn;
            void* context;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return generation_ != seen; });
                seen = generation_;
                if (stopping_) return;
                fn = task_;
                context = context_;
            }
            try {
                fn(context, t);
            } catch (...) {
                errors_[static_cast<std::size_t>(t)] = std::current_exception();
            }
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (--pending_ == 0) done_.notify_one();
            }
        }
    }

    int size_;
    std::vector<std::thread> workers_;
    std::vector<std::exception_ptr> errors_;
    std::mutex mutex_;
    std::condition_variable wake_, done_;
    Task task_ = nullptr;
    void* context_ = nullptr;
    int pending_ = 0;
    unsigned long long generation_ = 0;
    bool stopping_ = false;
};

}  // namespace logreg::detail
