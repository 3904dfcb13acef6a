// logreg/train.hpp - the training loop: epochs of shuffled mini-batches, validation,
// early stopping, callbacks, divergence detection, and continuation with state kept.
#pragma once

#include <logreg/cross_entropy.hpp>
#include <logreg/dataset.hpp>
#include <logreg/detail/batch_gradient.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/detail/random.hpp>
#include <logreg/detail/thread_pool.hpp>
#include <logreg/error.hpp>
#include <logreg/evaluate.hpp>
#include <logreg/linear_softmax.hpp>
#include <logreg/optimizer.hpp>
#include <logreg/preprocess.hpp>
#include <logreg/schedule.hpp>
#include <logreg/sgd.hpp>
#include <logreg/train_report.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace logreg {

/// Options of the training loop; validate() names the first bad field.
struct TrainOptions {
    Index batch_size = 64;             ///< samples per mini-batch; the last batch of an epoch may be shorter
    int epochs = 10;                   ///< epochs run by each fit() call
    bool shuffle = true;               ///< reshuffle the sample order every epoch
    std::uint64_t seed = 0;            ///< seeds the shuffles and the validation split
    double validation_fraction = 0.0;  ///< fit(data): hold out this fraction for validation
    int patience = 0;                  ///< early stopping after this many epochs without improvement (0: off)
    double min_delta = 0.0;            ///< an improvement must lower the validation loss by more than this
    int threads = 1;                   ///< the most threads a step uses; the only thread setting
    SGDParams sgd;                     ///< the hyper-parameters of the default optimizer, SGD
    Schedule schedule;                 ///< learning rate as a function of the epoch (or step)
    bool schedule_per_step = false;    ///< evaluate the schedule at every step instead of every epoch

    void validate() const {
        if (batch_size < 1)
            throw InvalidParameter(detail::cat("TrainOptions: 'batch_size' is ", batch_size, "; it must be >= 1"));
        if (epochs < 0) throw InvalidParameter(detail::cat("TrainOptions: 'epochs' is ", epochs, "; it must be >= 0"));
        if (!(validation_fraction >= 0 && validation_fraction < 1))
            throw InvalidParameter(detail::cat("TrainOptions: 'validation_fraction' is ", validation_fraction,
                                               "; it must satisfy 0 <= validation_fraction < 1"));
        if (patience < 0)
            throw InvalidParameter(detail::cat("TrainOptions: 'patience' is ", patience, "; it must be >= 0"));
        if (!(min_delta >= 0 && std::isfinite(min_delta)))
            throw InvalidParameter(
                detail::cat("TrainOptions: 'min_delta' is ", min_delta, "; it must be finite and >= 0"));
        if (threads < 1 || threads > 1024)
            throw InvalidParameter(detail::cat("TrainOptions: 'threads' is ", threads, "; it must be in [1, 1024]"));
        sgd.validate();
        schedule.validate();
    }
};

/// Per-batch and per-epoch hooks; return false to stop training (reason: callback).
struct Callbacks {
    std::function<bool(const BatchRecord&)> on_batch;
    std::function<bool(const EpochRecord&)> on_epoch;
    /// Checked after each batch; once true, fit() stops (reason: interrupted) with the trainer at a
    /// resumable point. An atomic, so a signal handler may set it (e.g. on Ctrl-C).
    const std::atomic<bool>* stop = nullptr;
};

/// Trains a LinearSoftmax model with an optimizer (SGD unless another is given; see
/// logreg/optimizer.hpp); keeps model, optimizer and RNG state between calls.
template <typename Scalar, typename Optimizer = SGD<Scalar>>
class Trainer {
    static_assert(detail::check_optimizer<Optimizer, Scalar>());

public:
    using optimizer_type = Optimizer;

    /// SGD with options.sgd; another optimizer with its default hyper-parameters.
    explicit Trainer(LinearSoftmax<Scalar> model, TrainOptions options = {}, CrossEntropyOptions loss = {})
        : Trainer(std::move(model), options, default_optimizer(options), std::move(loss)) {}

    /// With the given optimizer (its params().lr is the base rate of the schedule).
    Trainer(LinearSoftmax<Scalar> model, TrainOptions options, Optimizer optimizer, CrossEntropyOptions loss = {})
        : model_(std::move(model)),
          options_(std::move(options)),
          loss_(std::move(loss)),
          optimizer_(std::move(optimizer)),
          rng_(options_.seed) {
        options_.validate();
        loss_.options().validate(model_.num_classes());
        if constexpr (std::is_same_v<Optimizer, SGD<Scalar>>) options_.sgd = optimizer_.params();
        if (model_.num_classes() < 2) throw InvalidParameter("Trainer: the model is empty; construct it with a shape");
    }

    const LinearSoftmax<Scalar>& model() const { return model_; }
    LinearSoftmax<Scalar>& model() { return model_; }
    const TrainOptions& options() const { return options_; }
    const Optimizer& optimizer() const { return optimizer_; }
    Optimizer& optimizer() { return optimizer_; }
    const CrossEntropy<Scalar>& loss() const { return loss_; }
    /// Epochs completed over all fit() calls (the schedule's epoch counter).
    int epochs_done() const { return epochs_done_; }
    /// The shuffling RNG: its state is part of a checkpoint. Mid-epoch (batches_done_in_epoch() > 0)
    /// it holds the state from before that epoch's shuffle, so the same order is drawn again.
    detail::Rng& rng() { return rng_; }
    const detail::Rng& rng() const { return rng_; }
    void set_epochs_done(int e) { epochs_done_ = e; }
    /// Batches of epoch epochs_done() + 1 already applied: non-zero only after an interruption.
    Index batches_done_in_epoch() const { return batches_done_in_epoch_; }
    /// Steps counted by a per-step schedule (schedule_per_step); part of a checkpoint.
    long long schedule_steps() const { return steps_in_schedule_; }
    /// Restores the position saved in a checkpoint; the next fit() continues the epoch from batch
    /// `batches_done_in_epoch` (its data and batch size must be those of the interrupted run).
    void set_position(int epochs_done, Index batches_done_in_epoch, long long schedule_steps) {
        if (epochs_done < 0 || batches_done_in_epoch < 0 || schedule_steps < 0)
            throw InvalidParameter(detail::cat("Trainer::set_position: epochs_done ", epochs_done,
                                               ", batches_done_in_epoch ", batches_done_in_epoch,
                                               " and schedule_steps ", schedule_steps, " must be >= 0"));
        epochs_done_ = epochs_done;
        batches_done_in_epoch_ = batches_done_in_epoch;
        steps_in_schedule_ = schedule_steps;
    }

    void set_callbacks(Callbacks cb) { callbacks_ = std::move(cb); }

    /// Combines a batch's gradient across processes (logreg/distributed/mpi.hpp); empty by default.
    /// Called in step_rows between the gradient and the optimizer step with the gradient as a SUM
    /// over the local rows (the engine's mean times the local weight_sum) and the local loss sums;
    /// it must leave the global sums in both, and the step divides by the global weight_sum.
    using GradientReducer = std::function<void(Gradient<Scalar>& gradient_sum, LossSums& sums)>;
    void set_gradient_reducer(GradientReducer reducer) { reducer_ = std::move(reducer); }

    /// Changes options between fit() calls (the optimizer's state is kept). With SGD, options.sgd
    /// becomes its hyper-parameters; another optimizer keeps its own (set_optimizer_params).
    void set_options(const TrainOptions& options) {
        options.validate();
        options_ = options;
        if constexpr (std::is_same_v<Optimizer, SGD<Scalar>>) optimizer_.set_params(options_.sgd);
    }

    /// Changes the optimizer's hyper-parameters between fit() calls, keeping its state.
    void set_optimizer_params(const typename Optimizer::Params& params) {
        optimizer_.set_params(params);
        if constexpr (std::is_same_v<Optimizer, SGD<Scalar>>) options_.sgd = params;
    }

    /// Trains for options().epochs epochs; holds out options().validation_fraction of `data`.
    template <typename Feature>
    TrainReport fit(const Dataset<Feature>& data, const Preprocessor<Scalar>& pre) {
        if (options_.validation_fraction > 0) {
            const Split s = train_validation_split(data.size(), options_.validation_fraction, options_.seed);
            return fit_rows(data, s.train, &data, &s.validation, pre);
        }
        return fit_rows(data, iota(data.size()), static_cast<const Dataset<Feature>*>(nullptr), nullptr, pre);
    }

    /// Trains for options().epochs epochs on `train`, validating on `validation` after each epoch.
    template <typename Feature>
    TrainReport fit(const Dataset<Feature>& train, const Dataset<Feature>& validation,
                    const Preprocessor<Scalar>& pre) {
        const IndexVector val_rows = iota(validation.size());
        return fit_rows(train, iota(train.size()), &validation, &val_rows, pre);
    }

    /// The general form: trains on `train_rows` of `train`; validates on `val_rows` of `val` if given.
    template <typename Feature>
    TrainReport fit_rows(const Dataset<Feature>& train, const IndexVector& train_rows, const Dataset<Feature>* val,
                         const IndexVector* val_rows, const Preprocessor<Scalar>& pre) {
        check_data(train, pre);
        if (val) check_data(*val, pre);
        if (train_rows.size() == 0) throw DataError("Trainer::fit: no training samples");
        const auto start = Clock::now();
        TrainReport report;
        const Index n = train_rows.size();
        const Index bs = std::min(options_.batch_size, n);
        const Index batches = (n + bs - 1) / bs;
        if (batches_done_in_epoch_ >= batches)
            throw InvalidParameter(detail::cat("Trainer::fit: the interrupted epoch had ", batches_done_in_epoch_,
                                               " batches done, but this data has only ", batches,
                                               " batches per epoch (different data or batch size?)"));
        prepare(bs);
        report.batch_losses.reserve(static_cast<std::size_t>(batches) * static_cast<std::size_t>(options_.epochs));
        IndexVector order = train_rows;
        std::optional<LinearSoftmax<Scalar>> best;
        int since_best = 0;
        [[maybe_unused]] EigenThreadGuard eigen_guard;

        for (int e = 0; e < options_.epochs; ++e) {
            const int epoch = epochs_done_ + 1;
            const auto epoch_start = Clock::now();
            // A fresh permutation of the training rows each epoch (like PyTorch's RandomSampler),
            // so an epoch's order depends only on the RNG state, not on earlier fit() calls.
            const detail::Rng epoch_rng = rng_;  // rewound to on interruption, to replay this shuffle
            order = train_rows;
            if (options_.shuffle) detail::shuffle(order.data(), n, rng_);
            // After an interruption, the epoch continues after the batches already applied.
            const Index first_batch = batches_done_in_epoch_;
            batches_done_in_epoch_ = 0;
            const LinearSoftmax<Scalar> epoch_start_model = model_;  // restored if this epoch diverges
            const Optimizer epoch_start_optimizer = optimizer_;
            LossSums epoch_sums;
            EpochRecord rec;
            rec.epoch = epoch;
            rec.lr = current_lr();
            Index done = first_batch * bs;
            for (Index b = first_batch; b < batches; ++b) {
                const Index count = std::min(bs, n - done);
                const double lr = current_lr();
                const Index next_count = std::min(bs, n - done - count);  // 0 after the last batch
                const LossSums sums =
                    step_rows(train, order.data() + done, count, pre, lr, order.data() + done + count, next_count);
                done += count;
                const double batch_loss = sums.mean();
                report.batch_losses.push_back(batch_loss);
                epoch_sums += sums;
                if (!std::isfinite(batch_loss) || !step_finite_) {
                    model_ = epoch_start_model;
                    optimizer_ = epoch_start_optimizer;
                    report.reason = StopReason::diverged;
                    report.diverged_epoch = epoch;
                    report.diverged_batch = b;
                    report.message = detail::cat("training diverged at epoch ", epoch, ", batch ", b, " (loss ",
                                                 batch_loss, " at learning rate ", lr,
                                                 "); the model was restored to its state at the start of epoch ", epoch,
                                                 ". Try a smaller learning rate.");
                    report.seconds = seconds_since(start);
                    return report;
                }
                if (callbacks_.on_batch) {
                    BatchRecord br{epoch, b, batches, count, done, batch_loss, lr};
                    if (!callbacks_.on_batch(br)) {
                        report.reason = StopReason::callback;
                        report.message = detail::cat("stopped by the batch callback at epoch ", epoch, ", batch ", b);
                        // the partial epoch is not recorded in the history
                        report.seconds = seconds_since(start);
                        return report;
                    }
                }
                if (callbacks_.stop && callbacks_.stop->load() && b + 1 < batches) {
                    rng_ = epoch_rng;
                    batches_done_in_epoch_ = b + 1;
                    report.reason = StopReason::interrupted;
                    report.interrupted_epoch = epoch;
                    report.interrupted_batch = b;
                    report.message =
                        detail::cat("interrupted at epoch ", epoch, " after batch ", b + 1, " of ", batches);
                    report.seconds = seconds_since(start);
                    return report;
                }
            }
            rec.train_loss = epoch_sums.mean();
            rec.seconds = seconds_since(epoch_start);
            ++epochs_done_;
            if (val) {
                const Evaluation ev = evaluate(model_, *val, pre, loss_, val_rows);
                rec.val_loss = ev.loss;
                rec.val_accuracy = ev.accuracy;
            }
            report.history.push_back(rec);

            bool stop_early = false;
            if (val) {
                if (report.best_epoch == 0 || rec.val_loss < report.best_val_loss - options_.min_delta) {
                    report.best_val_loss = rec.val_loss;
                    report.best_epoch = epoch;
                    since_best = 0;
                    if (options_.patience > 0) best = model_;
                } else if (options_.patience > 0 && ++since_best >= options_.patience) {
                    stop_early = true;
                }
            }
            if (callbacks_.on_epoch && !callbacks_.on_epoch(rec)) {
                report.reason = StopReason::callback;
                report.message = detail::cat("stopped by the epoch callback after epoch ", epoch);
                report.seconds = seconds_since(start);
                return report;
            }
            if (callbacks_.stop && callbacks_.stop->load() && e + 1 < options_.epochs) {
                report.reason = StopReason::interrupted;
                report.interrupted_epoch = epoch;
                report.interrupted_batch = batches - 1;
                report.message = detail::cat("interrupted after epoch ", epoch);
                report.seconds = seconds_since(start);
                return report;
            }
            if (stop_early) {
                model_ = *best;
                report.reason = StopReason::early_stop;
                report.message =
                    detail::cat("early stop after epoch ", epoch, ": no validation improvement for ", options_.patience,
                                " epochs; restored the weights of epoch ", report.best_epoch);
                report.seconds = seconds_since(start);
                return report;
            }
        }
        report.reason = StopReason::max_epochs;
        report.message = detail::cat("reached ", options_.epochs, " epochs");
        report.seconds = seconds_since(start);
        return report;
    }

    /// One optimizer step on the given batch (already preprocessed features); returns its mean loss
    /// before the update. Optimizer state and step count carry over, as with PyTorch.
    template <typename Derived>
    double partial_fit(const Eigen::MatrixBase<Derived>& x, const LabelVector& y,
                       const Vector<double>& sample_weights = Vector<double>()) {
        model_.check_features(x.cols());
        if (x.rows() != y.size())
            throw ShapeError(detail::cat("partial_fit: ", x.rows(), " rows but ", y.size(), " labels"));
        if (x.rows() == 0) throw DataError("partial_fit: empty batch");
        const Dataset<Scalar> batch(RowMatrix<Scalar>(x), y, static_cast<int>(model_.num_classes()));
        Dataset<Scalar> weighted = batch;
        if (sample_weights.size() != 0) weighted.set_sample_weights(sample_weights);
        prepare(x.rows());
        const IndexVector rows = iota(x.rows());
        const auto pre = Preprocessor<Scalar>::identity(x.cols());
        return step_rows(weighted, rows.data(), x.rows(), pre, current_lr()).mean();
    }

    /// One optimizer step on rows[0..count) of `data`; the allocation-free core of fit().
    /// Call prepare(max batch) once before; returns the batch's loss sums. If the next step's rows
    /// are known, pass them as next_rows[0..next_count): they are prefetched during this step.
    template <typename Feature>
    LossSums step_rows(const Dataset<Feature>& data, const Index* rows, Index count, const Preprocessor<Scalar>& pre,
                       double lr, const Index* next_rows = nullptr, Index next_count = 0) {
        step_finite_ = true;  // the model is unchanged until an update says otherwise
        LossSums sums;
        if (!reducer_) {  // each thread updates its own classes (skipped if all weights are zero)
            sums = engine_.compute_and_step(model_, optimizer_, lr, loss_, data.features(), data.labels(),
                                            data.sample_weights(), rows, count, pre, *pool_, next_rows, next_count);
            step_finite_ = engine_.updated_finite();
        } else {
            sums = engine_.compute(model_, loss_, data.features(), data.labels(), data.sample_weights(), rows, count,
                                   pre, *pool_, next_rows, next_count);
            reduce(sums);               // before the check below: every process must take the same decision
            if (sums.weight_sum > 0) {  // all weights zero: nothing to learn from this batch
                apply_step(optimizer_, model_, engine_.gradient(), lr);
                step_finite_ = model_.all_finite();
            }
        }
        if (options_.schedule_per_step) ++steps_in_schedule_;
        return sums;
    }

    /// Sizes the workspaces for batches of up to `max_batch` rows and starts the threads: as
    /// many as such a batch uses (detail::BatchGradient::threads_for), so that no worker spins
    /// idle through steps too small to share.
    void prepare(Index max_batch) {
        const int threads = detail::BatchGradient<Scalar>::threads_for(max_batch, options_.threads);
        if (!pool_ || pool_->size() != threads) pool_ = std::make_unique<detail::ThreadPool>(threads);
        engine_.reserve(max_batch, model_.num_features(), model_.num_classes(), threads);
    }

    /// False if the last step_rows() left a parameter NaN or infinite (checked while updating).
    bool last_step_finite() const { return step_finite_; }

    /// The learning rate the next step uses: the schedule applied to the optimizer's base rate.
    double current_lr() const {
        return options_.schedule(optimizer_.params().lr,
                                 options_.schedule_per_step ? steps_in_schedule_ : epochs_done_);
    }

private:
    using Clock = std::chrono::steady_clock;

    static Optimizer default_optimizer(const TrainOptions& options) {
        if constexpr (std::is_same_v<Optimizer, SGD<Scalar>>) {
            options.sgd.validate();  // before the trainer exists, so the error names the field
            return Optimizer(options.sgd);
        } else {
            return Optimizer();
        }
    }

    static double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

    template <typename Feature>
    void check_data(const Dataset<Feature>& d, const Preprocessor<Scalar>& pre) const {
        if (d.empty()) throw DataError("Trainer: the data set is empty");
        model_.check_features(d.num_features());
        pre.check_features(d.num_features());
        if (d.num_classes() != model_.num_classes())
            throw ShapeError(detail::cat("Trainer: the data has ", d.num_classes(), " classes but the model has ",
                                         model_.num_classes()));
    }

    // Eigen's own OpenMP threads (when a user compiles with -fopenmp) would stack on top of
    // ours: keep Eigen single-threaded while training.
    struct EigenThreadGuard {
#ifdef _OPENMP
        int saved = Eigen::nbThreads();
        EigenThreadGuard() {
            Eigen::setNbThreads(1);
        }
        ~EigenThreadGuard() {
            Eigen::setNbThreads(saved);
        }
#endif
    };

    LinearSoftmax<Scalar> model_;
    TrainOptions options_;
    CrossEntropy<Scalar> loss_;
    Optimizer optimizer_;
    detail::Rng rng_;
    int epochs_done_ = 0;
    Index batches_done_in_epoch_ = 0;
    long long steps_in_schedule_ = 0;
    Callbacks callbacks_;
    std::unique_ptr<detail::ThreadPool> pool_;
    detail::BatchGradient<Scalar> engine_;
    GradientReducer reducer_;
    bool step_finite_ = true;  // the last step left every parameter finite

    // The engine returns the mean gradient; rescaling by the local weight sum recovers the sum up to
    // one rounding per element (relative 1e-7 in float), which keeps BatchGradient unchanged.
    void reduce(LossSums& sums) {
        Gradient<Scalar>& g = engine_.gradient();
        if (sums.weight_sum > 0) {
            const auto w = static_cast<Scalar>(sums.weight_sum);
            g.weight *= w;
            g.bias *= w;
        }
        reducer_(g, sums);
        if (sums.weight_sum > 0) {
            const auto inv = static_cast<Scalar>(1.0 / sums.weight_sum);
            g.weight *= inv;
            g.bias *= inv;
        }
    }
};

}  // namespace logreg
