// logreg/distributed/mpi.hpp - synchronous data-parallel SGD over MPI (CMake target logreg::mpi).
//
// Every rank trains on its own shard; each global step sums the ranks' gradients and loss sums
// with ONE in-place MPI_Allreduce on a preallocated buffer, then every rank applies the same
// update, so all ranks hold bitwise identical weights after every step. The core headers stay
// MPI-free: the only hooks are the batch source and the reduction of the trainer's epoch driver
// (logreg/batch_source.hpp, logreg/reduction.hpp). See docs/scaling.md.
//
// Failure handling: the communicator is a duplicate with MPI_ERRORS_RETURN (an MPI error becomes a
// CommunicationError naming the call), and every collective runs non-blocking under a watchdog:
// if it has not completed after `timeout_seconds` (a rank died or hangs), it throws instead of
// waiting forever. Programs should then call abort(), which ends every rank (MPI_Abort).
#pragma once

#include <logreg/distributed/shard.hpp>
#include <logreg/evaluate.hpp>
#include <logreg/kernel_isa.hpp>
#include <logreg/train.hpp>

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace logreg::distributed {

/// An MPI call failed, or a collective did not complete within the watchdog's timeout.
class CommunicationError : public Error {
public:
    using Error::Error;
};

namespace detail {

using logreg::detail::cat;

template <typename T>
MPI_Datatype mpi_type() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, long long>,
                  "logreg::distributed: only float, double and long long travel over MPI");
    if constexpr (std::is_same_v<T, float>)
        return MPI_FLOAT;
    else if constexpr (std::is_same_v<T, double>)
        return MPI_DOUBLE;
    else
        return MPI_LONG_LONG;
}

inline std::string mpi_error_string(int code) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, text, &len);
    return std::string(text, static_cast<std::size_t>(len));
}

}  // namespace detail

/// Initialises MPI if nobody has yet and finalises it on destruction if it did (RAII).
class Environment {
public:
    Environment() {
        int initialized = 0;
        MPI_Initialized(&initialized);
        if (!initialized) {
            int provided = 0;
            // FUNNELED: our worker threads never call MPI; only the training thread does.
            MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
            owns_ = true;
        }
    }
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;
    ~Environment() {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (owns_ && !finalized) MPI_Finalize();
    }

private:
    bool owns_ = false;
};

/// A duplicate of an MPI communicator with errors returned (not fatal) and watched collectives.
class Communicator {
public:
    /// Longest timeout accepted (about 11.6 days): the deadline is kept in the steady clock's
    /// nanoseconds, where 1e10 s would overflow and expire at once.
    static constexpr double max_timeout_seconds = 1e6;

    /// `timeout_seconds`: how long a collective may take before the peers are presumed dead,
    /// in (0, max_timeout_seconds].
    explicit Communicator(MPI_Comm comm = MPI_COMM_WORLD, double timeout_seconds = 300.0) : timeout_(timeout_seconds) {
        if (!(timeout_seconds > 0) || !(timeout_seconds <= max_timeout_seconds))
            throw InvalidParameter(detail::cat("Communicator: timeout_seconds is ", timeout_seconds,
                                               "; it must be in (0, ", max_timeout_seconds, "]"));
        check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
        check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
        check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
        check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
    }
    Communicator(const Communicator&) = delete;
    Communicator& operator=(const Communicator&) = delete;
    ~Communicator() {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (!finalized && comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
    }

    int rank() const { return rank_; }
    int size() const { return size_; }
    /// Rank 0 alone writes models, reports and logs.
    bool is_root() const { return rank_ == 0; }
    MPI_Comm get() const { return comm_; }
    double timeout_seconds() const { return timeout_; }

    /// In-place elementwise sum over all ranks of data[0..n); `what` names it in errors.
    template <typename T>
    void allreduce_sum(T* data, Index n, const char* what) {
        reduce(data, n, MPI_SUM, what);
    }
    template <typename T>
    void allreduce_max(T* data, Index n, const char* what) {
        reduce(data, n, MPI_MAX, what);
    }

    /// Every rank's value, in rank order.
    std::vector<long long> allgather(long long value, const char* what) {
        std::vector<long long> all(static_cast<std::size_t>(size_));
        MPI_Request request = MPI_REQUEST_NULL;
        check(MPI_Iallgather(&value, 1, MPI_LONG_LONG, all.data(), 1, MPI_LONG_LONG, comm_, &request),
              "MPI_Iallgather");
        wait(request, what);
        return all;
    }

    void barrier(const char* what = "barrier") {
        MPI_Request request = MPI_REQUEST_NULL;
        check(MPI_Ibarrier(comm_, &request), "MPI_Ibarrier");
        wait(request, what);
    }

    /// Ends every rank of the job (MPI_Abort): the way out after an error on one rank.
    [[noreturn]] void abort(int code) const {
        MPI_Abort(comm_, code);
        std::abort();  // MPI_Abort does not return; keeps [[noreturn]] honest if it did
    }

private:
    template <typename T>
    void reduce(T* data, Index n, MPI_Op op, const char* what) {
        if (n < 0 || n > std::numeric_limits<int>::max())
            throw InvalidParameter(detail::cat("allreduce of ", what, ": ", n, " elements do not fit an int count"));
        MPI_Request request = MPI_REQUEST_NULL;
        check(MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(n), detail::mpi_type<T>(), op, comm_, &request),
              "MPI_Iallreduce");
        wait(request, what);
    }

    // The watchdog: poll the request; past the deadline the peers are presumed dead or stuck.
    // Polling with yield for the first 50 ms keeps the latency of a healthy step low (a step takes
    // well under that) while letting other ranks on the same core run; after that we sleep, so a
    // rank waiting for a slow or dead peer does not burn a core.
    void wait(MPI_Request& request, const char* what) {
        using Clock = std::chrono::steady_clock;
        const auto start = Clock::now();
        const auto deadline =
            start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_));
        for (long polls = 0;; ++polls) {
            int done = 0;
            check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
            if (done) return;
            const auto now = Clock::now();
            if (now > deadline)
                throw CommunicationError(detail::cat(
                    "rank ", rank_, " of ", size_, ": the collective '", what, "' did not complete within ", timeout_,
                    " s; another rank has probably died or hangs (aborting instead of waiting forever)"));
            if (now - start < std::chrono::milliseconds(50))
                std::this_thread::yield();
            else
                std::this_thread::sleep_for(std::chrono::microseconds(polls < 100000 ? 100 : 1000));
        }
    }

    void check(int rc, const char* call) const {
        if (rc != MPI_SUCCESS)
            throw CommunicationError(
                detail::cat("rank ", rank_, ": ", call, " failed: ", detail::mpi_error_string(rc)));
    }

    MPI_Comm comm_ = MPI_COMM_NULL;
    int rank_ = 0;
    int size_ = 1;
    double timeout_ = 300.0;
};

/// The MPI reduction of the epoch driver (logreg/reduction.hpp): packs W, b, the loss sums and
/// the ranks' stop requests into one preallocated buffer and sums it over the ranks with a single
/// in-place allreduce per step (no allocation).
template <typename Scalar>
class GradientAllreduce {
public:
    static constexpr bool combines = true;

    GradientAllreduce(Communicator& comm, Index classes, Index features)
        : comm_(&comm),
          weights_(classes * features),
          buffer_(static_cast<std::size_t>(classes * features + classes + 6)) {}

    /// Scalars sent per step: classes x features + classes + 6.
    Index size() const { return static_cast<Index>(buffer_.size()); }

    void reduce(Gradient<Scalar>& g, LossSums& sums, StopRequest& stop) {
        Scalar* p = buffer_.data();
        const Index c = g.bias.size();
        std::copy(g.weight.data(), g.weight.data() + weights_, p);
        std::copy(g.bias.data(), g.bias.data() + c, p + weights_);
        // The sums travel as Scalar too (one datatype, one call); each is split into a high and a low
        // part so that float keeps about 14 significant digits of the double. The stop requests
        // travel as counts of ranks asking for each kind.
        Scalar* s = p + weights_ + c;
        split(sums.loss_sum, s[0], s[1]);
        split(sums.weight_sum, s[2], s[3]);
        s[4] = stop == StopRequest::interrupt ? Scalar(1) : Scalar(0);
        s[5] = stop == StopRequest::callback ? Scalar(1) : Scalar(0);
        comm_->allreduce_sum(p, size(), "gradient");
        std::copy(p, p + weights_, g.weight.data());
        std::copy(p + weights_, p + weights_ + c, g.bias.data());
        sums.loss_sum = static_cast<double>(s[0]) + static_cast<double>(s[1]);
        sums.weight_sum = static_cast<double>(s[2]) + static_cast<double>(s[3]);
        stop = s[5] > 0 ? StopRequest::callback : s[4] > 0 ? StopRequest::interrupt : StopRequest::none;
    }

    StopRequest agree(StopRequest local) {
        long long code = static_cast<long long>(local);
        comm_->allreduce_max(&code, 1, "stop request");
        return static_cast<StopRequest>(code);
    }

private:
    static void split(double v, Scalar& hi, Scalar& lo) {
        hi = static_cast<Scalar>(v);
        lo = static_cast<Scalar>(v - static_cast<double>(hi));
    }

    Communicator* comm_;
    Index weights_;
    std::vector<Scalar> buffer_;
};

/// The batch source of one rank (logreg/batch_source.hpp): its shard's rows in the order of
/// shard_order() and, at each global step, the local share of the global batch that BatchPlan
/// gives this rank (possibly none). `shard_rows`: every rank's shard size, in rank order.
template <typename Feature>
class ShardBatches {
public:
    using feature_type = Feature;

    ShardBatches(const Dataset<Feature>& shard, std::vector<Index> shard_rows, int rank, Index features, Index classes)
        : shard_(&shard), shard_rows_(std::move(shard_rows)), rank_(rank), features_(features), classes_(classes) {}

    Index num_features() const { return features_; }
    Index num_classes() const { return classes_; }
    Index max_batch_rows(Index batch_size) const { return std::min(batch_size, shard_->size()); }

    Index begin_epoch(const EpochInfo& info) {
        order_ = shard_order(shard_->size(), info.seed, info.epoch, rank_, info.shuffle);
        plan_.emplace(shard_rows_, info.batch_size);
        done_ = 0;
        return plan_->steps();
    }

    void seek(Index batch) {
        for (Index b = 0; b < batch; ++b) done_ += plan_->next()[static_cast<std::size_t>(rank_)];
    }

    BatchView<Feature> next_batch() {
        const std::vector<Index>& counts = plan_->next();
        const Index count = counts.empty() ? 0 : counts[static_cast<std::size_t>(rank_)];
        // The next step's rows, as far as this rank can tell (a prefetch hint only).
        const Index next = std::min(count, order_.size() - done_ - count);
        BatchView<Feature> view{&shard_->features(),
                                &shard_->labels(),
                                &shard_->sample_weights(),
                                order_.data() + done_,
                                count,
                                order_.data() + done_ + count,
                                next};
        done_ += count;
        return view;
    }

private:
    const Dataset<Feature>* shard_;
    std::vector<Index> shard_rows_;
    int rank_;
    Index features_, classes_;
    IndexVector order_;
    std::optional<BatchPlan> plan_;
    Index done_ = 0;
};

/// Largest difference of any weight between ranks (0 when they agree bitwise, as they must).
template <typename Scalar>
double weight_divergence(Communicator& comm, const LinearSoftmax<Scalar>& model) {
    std::vector<double> hi, lo;
    for (Index i = 0; i < model.weight().size(); ++i) hi.push_back(static_cast<double>(model.weight().data()[i]));
    for (Index i = 0; i < model.bias().size(); ++i) hi.push_back(static_cast<double>(model.bias()[i]));
    lo = hi;
    for (double& v : lo) v = -v;
    comm.allreduce_max(hi.data(), static_cast<Index>(hi.size()), "weight check (max)");
    comm.allreduce_max(lo.data(), static_cast<Index>(lo.size()), "weight check (min)");
    double worst = 0;
    for (std::size_t i = 0; i < hi.size(); ++i) worst = std::max(worst, hi[i] + lo[i]);
    return worst;
}

/// Loss and accuracy over the union of the ranks' validation shards (every rank gets the result).
template <typename Scalar, typename Feature, typename Loss = CrossEntropy<Scalar>>
Evaluation evaluate_sharded(Communicator& comm, const LinearSoftmax<Scalar>& model, const Dataset<Feature>& shard,
                            const Preprocessor<Scalar>& pre, const Loss& loss = Loss()) {
    double sums[3] = {0, 0, 0};  // loss sum, correct, rows
    if (!shard.empty()) {
        const Evaluation local = evaluate(model, shard, pre, loss);
        const auto n = static_cast<double>(shard.size());
        sums[0] = local.loss * n;
        sums[1] = std::round(local.accuracy * n);
        sums[2] = n;
    }
    comm.allreduce_sum(sums, 3, "validation sums");
    Evaluation ev;
    ev.loss = sums[2] > 0 ? sums[0] / sums[2] : std::numeric_limits<double>::quiet_NaN();
    ev.accuracy = sums[2] > 0 ? sums[1] / sums[2] : 0.0;
    return ev;
}

/// Throws InvalidParameter, on every rank, unless every rank runs the same kernel set
/// (logreg::kernel_isa()). Each rank applies the update itself, and the sets round differently
/// (plain SGD's step, for one, is a fused multiply-add with AVX2 and AVX-512 only), so ranks on
/// different sets would not keep bitwise identical weights. fit_sharded() calls it.
inline void check_same_kernel_set(Communicator& comm) {
    const std::vector<long long> sets = comm.allgather(static_cast<long long>(kernel_isa()), "kernel sets");
    for (std::size_t r = 1; r < sets.size(); ++r)
        if (sets[r] != sets[0])
            throw InvalidParameter(detail::cat(
                "distributed training: rank 0 runs the ", isa_name(static_cast<Isa>(sets[0])), " kernels and rank ", r,
                " the ", isa_name(static_cast<Isa>(sets[r])),
                " kernels; every rank must run the same set for the ranks to keep identical weights (set LOGREG_ISA "
                "to the same set on every rank, e.g. the best one all of them have)"));
}

/// Synchronous data-parallel training: trainer.options().epochs epochs over the ranks' shards,
/// with the trainer's epoch driver (callbacks, divergence checks, early stopping, interruption
/// and resume as in one process; set the same callbacks on every rank).
///
/// Call on every rank with its own shard (e.g. the rows shard_range() gives it). The batch size in
/// the trainer's options is the GLOBAL batch B; batches follow the scheme of shard.hpp, so the
/// result equals single-process training on the same batches up to summation order. `val` (this
/// rank's validation rows, may be empty) is evaluated after each epoch over all ranks, so every
/// rank takes the same early-stopping decision. Sample weights are supported. A stop requested on
/// any rank (a callback returning false, the stop flag) stops every rank after the same batch.
/// Returns the same report on every rank.
template <typename Scalar, typename Optimizer, typename Loss, typename Feature>
TrainReport fit_sharded(Trainer<Scalar, Optimizer, Loss>& trainer, const Dataset<Feature>& shard,
                        const Preprocessor<Scalar>& pre, Communicator& comm, const Dataset<Feature>* val = nullptr) {
    check_same_kernel_set(comm);
    const std::vector<long long> sizes = comm.allgather(static_cast<long long>(shard.size()), "shard sizes");
    std::vector<Index> shard_rows(sizes.begin(), sizes.end());
    Index total = 0;
    for (Index n : shard_rows) total += n;
    if (total == 0) throw DataError("fit_sharded: every shard is empty");
    const LinearSoftmax<Scalar>& model = trainer.model();
    // An empty shard has no shape of its own: it takes the model's.
    ShardBatches<Feature> source(shard, std::move(shard_rows), comm.rank(),
                                 shard.empty() ? model.num_features() : shard.num_features(),
                                 shard.empty() ? model.num_classes() : shard.num_classes());
    typename Trainer<Scalar, Optimizer, Loss>::Validator validate;
    if (val)
        validate = [&](const LinearSoftmax<Scalar>& m) { return evaluate_sharded(comm, m, *val, pre, trainer.loss()); };
    GradientAllreduce<Scalar> reduction(comm, model.num_classes(), model.num_features());
    return trainer.fit(source, pre, validate, reduction);
}

}  // namespace logreg::distributed
