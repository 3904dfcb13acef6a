// logreg/detail/batch_gradient.hpp - the hot path: gradient of the mean loss over one mini-batch,
// and optionally the optimizer's update, in one parallel pass.
//
// For a batch of row indices into a data set, each thread takes a contiguous slice of the
// batch and walks it in blocks of `block_rows` rows. For every block it
//   1. gathers the rows: with AVX-512, bytes (uint8 features) stay where they are and the kernels
//      convert them in registers (the same arithmetic as Preprocessor, so the same bits); otherwise
//      the rows are preprocessed into a buffer that stays in L2,
//   2. computes the logits with the register-blocked kernel (kernels.hpp; the instruction set's
//      version chosen at run time, logreg/kernel_isa.hpp),
//   3. turns them into the unnormalised gradient of the loss (Loss::accumulate, the one
//      definition of the loss: CrossEntropy or a user's own, see logreg/loss.hpp), and
//   4. adds dZ^T X and colsum(dZ) into the slice's partial gradient (with one thread: straight
//      into the total) while the block is still in cache.
// So the batch is never materialised as floats and X is read from memory once.
// Then the threads wait for each other and each one sums the partial gradients of its own
// share of the parameters (in slice order: bitwise reproducible for a fixed thread count),
// divides by the batch's total weight and, in compute_and_step(), applies the optimizer's update
// to them (any optimizer of logreg/optimizer.hpp, reached through one function pointer).
// The share is a range of classes while there are at least as many classes as threads, and
// otherwise a range of feature columns of every class (plus some biases), so that 16 threads
// on 10 classes all work. Every update rule is elementwise, so both give the same bits as long
// as the optimizer rounds each element the same way wherever it falls (Adam in float does not
// quite: Eigen's vectorised sqrt differs from its scalar one, and which elements are vectorised
// depends on the rows' alignment; with rows of whole 64-byte lines, like MNIST's, it is equal).
// So no thread gathers the whole gradient or writes the whole of W: with 10 classes these 31 KB
// matrices crossing between cores cost more than a step's arithmetic.
// All buffers are sized by reserve() or, the float block, by the first step that converts rows,
// so a steady-state step does not touch the heap.
#pragma once

#include <logreg/cross_entropy.hpp>
#include <logreg/detail/kernels.hpp>
#include <logreg/detail/thread_pool.hpp>
#include <logreg/linear_softmax.hpp>
#include <logreg/optimizer.hpp>
#include <logreg/preprocess.hpp>
#include <logreg/types.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <type_traits>
#include <vector>

namespace logreg::detail {

template <typename Scalar>
class BatchGradient {
public:
    /// Rows per block: dW (10 x 784 floats, 31 KB) is read and written once per block, so a
    /// larger block streams it less often; 64 rows of x (200 KB) still stay in L2 between the
    /// logits and the weight gradient. With 16-row blocks an epoch at batch 64 took about 10%
    /// longer (BM_Epoch_Fast, docs/performance.md).
    static constexpr Index block_rows = 64;

    /// A thread joins a step only if it gets at least this many rows. Whatever the batch,
    /// combining the threads' work moves about C x D numbers between cores per step, while a
    /// thread's arithmetic grows with its rows: measured on MNIST, two threads beat one from 24
    /// rows each and lose below (docs/performance.md). So `threads` is the most a step uses,
    /// like the grain size of PyTorch's parallel_for.
    static constexpr Index min_rows_per_thread = 24;

    /// The threads a step of `count` rows uses, out of `threads`.
    static int threads_for(Index count, int threads) {
        return static_cast<int>(std::clamp<Index>(count / min_rows_per_thread, 1, threads));
    }

    /// Sizes every buffer for batches of up to `max_batch` rows; allocation happens here, and in
    /// the first step that converts rows into a float block (steps that read uint8 rows in place,
    /// KernelSet::bytes_in_kernels, never need that 64 x D block).
    void reserve(Index max_batch, Index features, Index classes, int threads) {
        if (max_batch == max_batch_ && features == features_ && classes == classes_ &&
            static_cast<int>(slices_.size()) == threads)
            return;
        max_batch_ = max_batch;
        features_ = features;
        classes_ = classes;
        slices_.assign(static_cast<std::size_t>(threads), Slice{});
        const Index block = std::min(max_batch, block_rows);  // a step may run on one thread only
        for (auto& s : slices_) {
            s.byte_rows.resize(static_cast<std::size_t>(block));
            s.z.resize(block, classes);
            s.labels.resize(block);
            s.weights.resize(block);
            if (threads > 1) s.grad.resize(classes, features);  // one thread adds into total_ directly
        }
        total_.resize(classes, features);
        finite_.assign(static_cast<std::size_t>(threads), 1);
        if (profiling_) phase_times_.assign(slices_.size(), PhaseTimes{});
    }

    /// Computes the gradient of the mean loss over rows[0..count) into gradient(); returns the loss sums.
    /// `next_rows[0..next_count)` are the rows of the following call, if known: their first
    /// block is prefetched during this one, so no step starts by waiting for memory.
    template <typename Feature, typename Loss>
    LossSums compute(const LinearSoftmax<Scalar>& model, const Loss& loss, const RowMatrix<Feature>& features,
                     const LabelVector& labels, const Vector<double>& weights, const Index* rows, Index count,
                     const Preprocessor<Scalar>& pre, ThreadPool& pool, const Index* next_rows = nullptr,
                     Index next_count = 0) {
        Job<Feature, Loss> job{this, &model, &loss, &features, &labels,   &weights,
                               rows, count,  &pre,  next_rows, next_count};
        job.start(pool);
        return job.total_sums;
    }

    /// compute(), then the optimizer's update of `model` with learning rate `lr`, each thread
    /// updating its own classes (Optimizer::update_rows). Skips the update when the batch's total
    /// weight is zero. On return gradient() is scratch.
    template <typename Optimizer, typename Feature, typename Loss>
    LossSums compute_and_step(LinearSoftmax<Scalar>& model, Optimizer& optimizer, double lr, const Loss& loss,
                              const RowMatrix<Feature>& features, const LabelVector& labels,
                              const Vector<double>& weights, const Index* rows, Index count,
                              const Preprocessor<Scalar>& pre, ThreadPool& pool, const Index* next_rows = nullptr,
                              Index next_count = 0) {
        optimizer.begin_step(model, total_, lr);  // checks; creates its buffers on the first step
        Job<Feature, Loss> job{this, &model, &loss, &features, &labels,   &weights,
                               rows, count,  &pre,  next_rows, next_count};
        job.optimizer = &optimizer;
        job.update_rows = &update_rows_of<Optimizer>;
        if constexpr (has_update_columns<Optimizer, Scalar>::value) job.update_columns = &update_columns_of<Optimizer>;
        job.update_model = &model;
        job.lr = lr;
        std::fill(finite_.begin(), finite_.end(), 1);
        job.start(pool);
        if (job.total_sums.weight_sum > 0) optimizer.end_step();
        return job.total_sums;
    }

    Gradient<Scalar>& gradient() { return total_; }

    /// Seconds each thread spent in each phase of the steps since profiling began (benchmarks).
    struct PhaseTimes {
        double gather = 0, logits = 0, loss = 0, weight_gradient = 0, wait = 0, reduce = 0, update = 0;
    };

    /// Starts (`on`) or stops timing the phases of every step into phase_times(), one entry per
    /// thread, which this resets. Off by default: the clock is then never read.
    void profile_phases(bool on) {
        profiling_ = on;
        phase_times_.assign(on ? slices_.size() : 0, PhaseTimes{});
    }
    const std::vector<PhaseTimes>& phase_times() const { return phase_times_; }

    /// How the combine-and-update phase is shared: by classes, by feature columns, or (auto)
    /// by columns exactly when a step has more threads than classes and the optimizer has
    /// update_columns(). The choices give the same bits (see the top of this file for the one
    /// exception); tests compare them.
    enum class Share { automatic, classes, columns };
    void set_share(Share share) { share_ = share; }

    /// Whether uint8 rows go to the byte kernels as they are or are converted into a copy first:
    /// as the kernel set says (KernelSet::bytes_in_kernels), or forced either way. Both give the
    /// same bits; tests compare them with every set.
    enum class Bytes { automatic, in_kernels, converted };
    void set_bytes(Bytes bytes) { bytes_ = bytes; }

    /// After compute_and_step: true if every parameter the update wrote is finite (checked by
    /// each thread on its classes while they were in cache, instead of another pass over W).
    bool updated_finite() const {
        return std::all_of(finite_.begin(), finite_.end(), [](char f) { return f != 0; });
    }

private:
    struct Slice {
        RowMatrix<Scalar> x, z;                      // x: the block's preprocessed rows, unless...
        std::vector<const std::uint8_t*> byte_rows;  // ... the kernels read the bytes: the block's rows
        LabelVector labels;
        Vector<double> weights;
        Gradient<Scalar> grad;  // this slice's partial sum (unused with one thread)
        LossSums sums;
    };

    // The optimizer's update of a class range or a column block, behind function pointers, so
    // that Job needs no optimizer type.
    using UpdateRows = bool (*)(void* optimizer, LinearSoftmax<Scalar>& model, Gradient<Scalar>& grad, double lr,
                                Index first, Index count, Scalar grad_scale);
    using UpdateColumns = bool (*)(void* optimizer, LinearSoftmax<Scalar>& model, Gradient<Scalar>& grad, double lr,
                                   const ColumnBlock& part, Scalar grad_scale);
    template <typename Optimizer>
    static bool update_rows_of(void* optimizer, LinearSoftmax<Scalar>& model, Gradient<Scalar>& grad, double lr,
                               Index first, Index count, Scalar grad_scale) {
        return static_cast<Optimizer*>(optimizer)->update_rows(model, grad, lr, first, count, grad_scale);
    }
    template <typename Optimizer>
    static bool update_columns_of(void* optimizer, LinearSoftmax<Scalar>& model, Gradient<Scalar>& grad, double lr,
                                  const ColumnBlock& part, Scalar grad_scale) {
        return static_cast<Optimizer*>(optimizer)->update_columns(model, grad, lr, part, grad_scale);
    }

    using Clock = std::chrono::steady_clock;

    /// Adds the time since `since` to `slot` and restarts `since` (when profiling).
    void lap(Clock::time_point& since, double PhaseTimes::*slot, int t) {
        if (!profiling_) return;
        const Clock::time_point now = Clock::now();
        phase_times_[static_cast<std::size_t>(t)].*slot += std::chrono::duration<double>(now - since).count();
        since = now;
    }

    template <typename Feature, typename Loss>
    struct Job {
        BatchGradient* self;
        const LinearSoftmax<Scalar>* model;
        const Loss* loss;
        const RowMatrix<Feature>* features;
        const LabelVector* labels;
        const Vector<double>* weights;
        const Index* rows;
        Index count;
        const Preprocessor<Scalar>* pre;
        const Index* next_rows;
        Index next_count;
        void* optimizer = nullptr;                      // set by compute_and_step: apply the update too
        UpdateRows update_rows = nullptr;               // ... with this function of its type
        UpdateColumns update_columns = nullptr;         // ... and this one, if it has update_columns()
        LinearSoftmax<Scalar>* update_model = nullptr;  // `model`, writable (compute_and_step only)
        double lr = 0;
        LossSums total_sums{};            // written by thread 0
        std::atomic<bool> failed{false};  // a slice threw: the others still pass the barrier
        ThreadPool* pool = nullptr;
        int threads = 1;                                   // the threads this step uses (threads_for)
        const kernels::KernelSet<Scalar>* kset = nullptr;  // chosen once per step, by the caller's thread
        bool bytes_in_kernels = false;                     // uint8 rows read in place (else converted into s.x)

        void start(ThreadPool& p) {
            pool = &p;
            threads = std::min(threads_for(count, static_cast<int>(self->slices_.size())), p.size());
            kset = &kernels::active<Scalar>();
            if constexpr (std::is_same_v<Feature, std::uint8_t>)
                bytes_in_kernels =
                    self->bytes_ == Bytes::automatic ? kset->bytes_in_kernels : self->bytes_ == Bytes::in_kernels;
            if (!bytes_in_kernels) self->reserve_float_blocks();
            p.run(&Job::run, this, threads);
        }

        static void run(void* context, int t) { static_cast<Job*>(context)->step(t); }

        /// True if this step shares the combine-and-update phase by feature columns.
        bool by_columns() const {
            if (self->share_ != Share::automatic)
                return self->share_ == Share::columns && (update_columns || !optimizer);
            return threads > self->total_.bias.size() && (update_columns || !optimizer);
        }

        void step(int t) {
            Clock::time_point since = self->profiling_ ? Clock::now() : Clock::time_point{};
            if (threads == 1) {  // straight into the total: nothing to combine
                slice(t, self->total_, since);
                finish(t, 0, self->total_.bias.size(), since);
                return;
            }
            // A slice that throws must still reach the barrier, or the others would wait forever;
            // its exception is rethrown afterwards (the pool passes it to the caller).
            std::exception_ptr error;
            try {
                slice(t, self->slices_[static_cast<std::size_t>(t)].grad, since);
            } catch (...) {
                error = std::current_exception();
                failed.store(true, std::memory_order_relaxed);
            }
            pool->barrier();
            self->lap(since, &PhaseTimes::wait, t);
            if (error) std::rethrow_exception(error);
            if (failed.load(std::memory_order_relaxed)) return;
            const Index classes = self->total_.bias.size(), d = self->total_.weight.cols();
            if (by_columns()) {
                // Columns in whole cache lines (16 floats), so no two threads write one line.
                constexpr Index line = 64 / static_cast<Index>(sizeof(Scalar));
                Index l0, nl, b0, nb;
                split((d + line - 1) / line, threads, t, l0, nl);
                split(classes, threads, t, b0, nb);
                const Index j0 = std::min(d, l0 * line), nj = std::min(d, (l0 + nl) * line) - j0;
                sum_partials(0, classes, j0, nj, b0, nb);
                self->lap(since, &PhaseTimes::reduce, t);
                finish_columns(t, ColumnBlock{j0, nj, b0, nb}, since);
            } else {
                Index c0, nc;  // this thread's classes, which it combines and updates
                split(classes, threads, t, c0, nc);
                sum_partials(c0, nc, 0, d, c0, nc);
                self->lap(since, &PhaseTimes::reduce, t);
                finish(t, c0, nc, since);
            }
        }

        /// total = the slices' partial gradients summed in slice order, over W's block
        /// [c0, c0 + nc) x [j0, j0 + nj) and b's entries [b0, b0 + nb).
        void sum_partials(Index c0, Index nc, Index j0, Index nj, Index b0, Index nb) {
            auto w = self->total_.weight.block(c0, j0, nc, nj);
            auto b = self->total_.bias.segment(b0, nb);
            w = self->slices_[0].grad.weight.block(c0, j0, nc, nj);
            b = self->slices_[0].grad.bias.segment(b0, nb);
            for (std::size_t k = 1; k < static_cast<std::size_t>(threads); ++k) {
                w += self->slices_[k].grad.weight.block(c0, j0, nc, nj);
                b += self->slices_[k].grad.bias.segment(b0, nb);
            }
        }

        /// The batch's loss sums, added in the same order on every thread.
        LossSums batch_sums(int t) {
            LossSums sums;
            for (int k = 0; k < threads; ++k) sums += self->slices_[static_cast<std::size_t>(k)].sums;
            if (t == 0) total_sums = sums;
            return sums;
        }

        /// finish() for a column block: scales it and, for compute_and_step, updates it.
        void finish_columns(int t, const ColumnBlock& part, Clock::time_point& since) {
            const LossSums sums = batch_sums(t);
            if (!(sums.weight_sum > 0)) return;  // nothing to learn from this batch
            const auto inv = static_cast<Scalar>(1.0 / sums.weight_sum);
            if (optimizer) {
                self->finite_[static_cast<std::size_t>(t)] =
                    update_columns(optimizer, *update_model, self->total_, lr, part, inv);
            } else {
                self->total_.weight.middleCols(part.first_feature, part.features) *= inv;
                self->total_.bias.segment(part.first_bias, part.biases) *= inv;
            }
            self->lap(since, &PhaseTimes::update, t);
        }

        /// Divides thread t's classes [c0, c0 + nc) of the summed gradient by the batch's weight
        /// and, for compute_and_step, updates them.
        void finish(int t, Index c0, Index nc, Clock::time_point& since) {
            const LossSums sums = batch_sums(t);
            if (!(sums.weight_sum > 0)) return;  // nothing to learn from this batch
            const auto inv = static_cast<Scalar>(1.0 / sums.weight_sum);
            if (optimizer) {  // scaling, update and finiteness check in one pass (see SGD)
                self->finite_[static_cast<std::size_t>(t)] =
                    update_rows(optimizer, *update_model, self->total_, lr, c0, nc, inv);
            } else {
                self->total_.weight.middleRows(c0, nc) *= inv;
                self->total_.bias.segment(c0, nc) *= inv;
            }
            self->lap(since, &PhaseTimes::update, t);
        }

        /// Slice t's share [begin, begin + n) of `count` items (rows, or classes) split over
        /// `parts` slices: as equal as possible, the larger shares first (10 classes on 3 -> 4 + 3 + 3).
        static void split(Index count, Index parts, Index t, Index& begin, Index& n) {
            const Index share = count / parts, extra = count % parts;
            begin = t * share + std::min(t, extra);
            n = share + (t < extra ? 1 : 0);
        }

        void slice(int t, Gradient<Scalar>& grad, Clock::time_point& since) {
            Slice& s = self->slices_[static_cast<std::size_t>(t)];
            Index begin, n, next_begin, next_n;
            split(count, threads, t, begin, n);
            // This thread's share of the next batch, split the same way (if it gets one).
            const int next_threads =
                std::min(threads_for(next_count, static_cast<int>(self->slices_.size())), pool->size());
            if (t < next_threads) {
                split(next_count, next_threads, t, next_begin, next_n);
            } else {
                next_begin = next_n = 0;
            }
            s.sums = LossSums{};
            if (n == 0) grad.set_zero();  // otherwise the first block writes the gradient (no zeroing pass)
            const bool weighted = weights->size() != 0;
            const Index d = features->cols(), c = model->num_classes();
            // The rows this thread reads, in order: its share of this batch, then its share of the next.
            kernels::RowPrefetcher<Feature> ahead(features->data(), d, rows + begin, n,
                                                  next_rows ? next_rows + next_begin : nullptr, next_n);
            // Normally the previous step requested these already; asking again for cached lines is cheap.
            ahead.upto(std::min(block_rows, n));
            // Bytes go to the kernels as they are where the set converts them faster than a copy
            // (KernelSet::bytes_in_kernels); otherwise the block is converted into s.x first.
            const bool in_kernels = bytes_in_kernels;
            // Null for bytes when every offset is 0: the byte kernels then only scale (the same bits).
            const Scalar* offset =
                std::is_same_v<Feature, std::uint8_t> && !pre->has_offsets() ? nullptr : pre->offset().data();
            const Scalar* scale = pre->scale().data();
            for (Index b0 = 0; b0 < n; b0 += block_rows) {
                const Index nb = std::min(block_rows, n - b0);
                const Index* r = rows + begin + b0;
                if (in_kernels) {
                    if constexpr (std::is_same_v<Feature, std::uint8_t>)
                        for (Index i = 0; i < nb; ++i)
                            s.byte_rows[static_cast<std::size_t>(i)] = features->data() + r[i] * d;
                } else {
                    kernels::gather_rows(*kset, features->data(), d, r, nb, d, offset, scale, s.x.data());
                }
                for (Index i = 0; i < nb; ++i) s.labels[i] = (*labels)[r[i]];
                if (weighted)
                    for (Index i = 0; i < nb; ++i) s.weights[i] = (*weights)[r[i]];
                self->lap(since, &PhaseTimes::gather, t);
                // The next block's rows are requested a few at a time between small pieces of work
                // (tiles of logits, column chunks of dW): spread out, the prefetches overlap the
                // arithmetic instead of stalling behind the CPU's few outstanding cache misses.
                const Index tile_rows = kset->forward_rows;
                const Index tiles = (nb + tile_rows - 1) / tile_rows;
                const Index chunk = gradient_chunk(d, kset->packet);
                const Index pieces = tiles + (d + chunk - 1) / chunk;
                Index piece = 0;
                const auto prefetch_share = [&] { ahead.upto(b0 + nb + (block_rows * ++piece) / pieces); };
                for (Index r0 = 0; r0 < nb; r0 += tile_rows) {
                    prefetch_share();
                    const Index tr = std::min(tile_rows, nb - r0);
                    if (in_kernels)
                        kset->logits_bytes(s.byte_rows.data() + r0, tr, offset, scale, model->weight().data(), d, c, d,
                                           model->bias().data(), s.z.data() + r0 * c, c);
                    else
                        kset->logits(s.x.data() + r0 * d, d, tr, model->weight().data(), d, c, d, model->bias().data(),
                                     s.z.data() + r0 * c, c);
                }
                self->lap(since, &PhaseTimes::logits, t);
                auto z = s.z.topRows(nb);
                s.sums += loss->accumulate(z, s.labels.data(), weighted ? s.weights.data() : nullptr);
                self->lap(since, &PhaseTimes::loss, t);
                for (Index j0 = 0; j0 < d; j0 += chunk) {
                    prefetch_share();
                    const Index nj = std::min(chunk, d - j0);
                    if (in_kernels)
                        kset->add_weight_gradient_bytes(s.byte_rows.data(), j0, nb, offset, scale, s.z.data(), c, c,
                                                        grad.weight.data() + j0, d, nj, b0 == 0);
                    else
                        kset->add_weight_gradient(s.x.data() + j0, d, nb, s.z.data(), c, c, grad.weight.data() + j0, d,
                                                  nj, b0 == 0);
                }
                if (b0 == 0) grad.bias.setZero();
                for (Index i = 0; i < nb; ++i)
                    for (Index k = 0; k < c; ++k) grad.bias[k] += s.z(i, k);
                self->lap(since, &PhaseTimes::weight_gradient, t);
            }
        }
    };

    /// Columns per piece of the weight-gradient pass: a whole number of SIMD packets, about 12
    /// pieces for MNIST's 784 features (10 with 16-float packets).
    static Index gradient_chunk(Index d, Index packet) {
        const Index target = (d + 11) / 12;
        return std::max(packet, (target + packet - 1) / packet * packet);
    }

    /// Sizes every slice's float block s.x (once; the caller's thread, before the workers start).
    void reserve_float_blocks() {
        const Index block = std::min(max_batch_, block_rows);
        for (auto& s : slices_)
            if (s.x.rows() != block || s.x.cols() != features_) s.x.resize(block, features_);
    }

    std::vector<Slice> slices_;
    Gradient<Scalar> total_;
    std::vector<char> finite_;  // per thread: its updated classes are finite (char: no vector<bool> bit sharing)
    bool profiling_ = false;
    std::vector<PhaseTimes> phase_times_;  // per thread, while profiling
    Share share_ = Share::automatic;
    Bytes bytes_ = Bytes::automatic;
    Index max_batch_ = -1, features_ = -1, classes_ = -1;
};

}  // namespace logreg::detail
