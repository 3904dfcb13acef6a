// logreg/train.hpp - the trainer and its one epoch loop, shared by every data path (a Dataset in
// memory, a memory-mapped file, an MPI shard, a user's batch source): shuffled mini-batches,
// schedules, validation, early stopping, callbacks, divergence detection, and stops that leave a
// state from which training continues bitwise.
#pragma once

#include <logreg/batch_source.hpp>
#include <logreg/cross_entropy.hpp>
#include <logreg/dataset.hpp>
#include <logreg/detail/batch_gradient.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/detail/random.hpp>
#include <logreg/detail/thread_pool.hpp>
#include <logreg/error.hpp>
#include <logreg/evaluate.hpp>
#include <logreg/linear_softmax.hpp>
#include <logreg/loss.hpp>
#include <logreg/optimizer.hpp>
#include <logreg/preprocess.hpp>
#include <logreg/reduction.hpp>
#include <logreg/schedule.hpp>
#include <logreg/sgd.hpp>
#include <logreg/train_report.hpp>
#include <logreg/trainer_state.hpp>

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
/// logreg/optimizer.hpp) on batches from any batch source (logreg/batch_source.hpp); keeps the
/// model, the optimizer's state and the position (state()) between calls.
template <typename Scalar, typename Optimizer = SGD<Scalar>, typename Loss = CrossEntropy<Scalar>>
class Trainer {
    static_assert(detail::check_optimizer<Optimizer, Scalar>());
    static_assert(detail::check_loss<Loss, Scalar>());

public:
    using optimizer_type = Optimizer;
    using loss_type = Loss;
    /// Evaluates the model on held-out data after each epoch (validation loss and accuracy).
    using Validator = std::function<Evaluation(const LinearSoftmax<Scalar>&)>;

    /// SGD with options.sgd; another optimizer with its default hyper-parameters. `loss` may be
    /// given as CrossEntropyOptions (class weights, label smoothing).
    explicit Trainer(LinearSoftmax<Scalar> model, TrainOptions options = {}, Loss loss = Loss())
        : Trainer(std::move(model), options, default_optimizer(options), std::move(loss)) {}

    /// With the given optimizer (its params().lr is the base rate of the schedule).
    Trainer(LinearSoftmax<Scalar> model, TrainOptions options, Optimizer optimizer, Loss loss = Loss())
        : model_(std::move(model)),
          options_(std::move(options)),
          loss_(std::move(loss)),
          optimizer_(std::move(optimizer)),
          rng_(options_.seed) {
        options_.validate();
        loss_.validate(model_.num_classes());
        if constexpr (std::is_same_v<Optimizer, SGD<Scalar>>) options_.sgd = optimizer_.params();
        if (model_.num_classes() < 2) throw InvalidParameter("Trainer: the model is empty; construct it with a shape");
    }

    const LinearSoftmax<Scalar>& model() const { return model_; }
    const TrainOptions& options() const { return options_; }
    const Optimizer& optimizer() const { return optimizer_; }
    const Loss& loss() const { return loss_; }
    /// Epochs completed, batches of the next epoch already applied, per-step schedule steps.
    const TrainPosition& position() const { return position_; }
    /// Epochs completed over all fit() calls (the schedule's epoch counter).
    int epochs_done() const { return position_.epochs_done; }

    /// Everything needed to continue later, bitwise: model, position, RNG and optimizer state.
    TrainerState<Scalar> state() const {
        return TrainerState<Scalar>{model_, position_, rng_, Optimizer::name, optimizer_.state()};
    }

    /// Continues from a state() of a trainer with the same model shape and optimizer. Checks
    /// everything first and throws InvalidParameter (naming what does not fit) with the trainer
    /// unchanged. The next fit() continues an interrupted epoch from its next batch; its data,
    /// batch size and seed must be those of the interrupted run.
    void restore(const TrainerState<Scalar>& s) {
        if (s.optimizer_name != Optimizer::name)
            throw InvalidParameter(detail::cat("Trainer::restore: the state holds the optimizer '", s.optimizer_name,
                                               "' but the trainer uses '", Optimizer::name, "'"));
        if (s.model.num_classes() != model_.num_classes() || s.model.num_features() != model_.num_features())
            throw InvalidParameter(detail::cat("Trainer::restore: the state's model is ", s.model.num_classes(), "x",
                                               s.model.num_features(), " but the trainer's is ", model_.num_classes(),
                                               "x", model_.num_features()));
        const TrainPosition& p = s.position;
        if (p.epochs_done < 0 || p.batches_done_in_epoch < 0 || p.schedule_steps < 0)
            throw InvalidParameter(detail::cat("Trainer::restore: epochs_done ", p.epochs_done,
                                               ", batches_done_in_epoch ", p.batches_done_in_epoch,
                                               " and schedule_steps ", p.schedule_steps, " must be >= 0"));
        Optimizer optimizer = optimizer_;
        optimizer.restore(s.optimizer);  // throws, naming the tensor, before anything changed
        model_ = s.model;
        optimizer_ = std::move(optimizer);
        position_ = p;
        rng_ = s.rng;
    }

    void set_callbacks(Callbacks cb) { callbacks_ = std::move(cb); }

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

    /// Trains on `train_rows` of `train`; validates on `val_rows` of `val` if given.
    template <typename Feature>
    TrainReport fit_rows(const Dataset<Feature>& train, const IndexVector& train_rows, const Dataset<Feature>* val,
                         const IndexVector* val_rows, const Preprocessor<Scalar>& pre) {
        if (train.empty()) throw DataError("Trainer: the data set is empty");
        if (train_rows.size() == 0) throw DataError("Trainer::fit: no training samples");
        Validator validator;
        if (val) {
            check_data(val->num_features(), val->num_classes(), pre);
            if (val->empty()) throw DataError("Trainer: the validation set is empty");
            validator = [this, val, val_rows, &pre](const LinearSoftmax<Scalar>& m) {
                return evaluate(m, *val, pre, loss_, val_rows);
            };
        }
        DatasetBatches<Feature> source(train, train_rows);
        return fit(source, pre, validator);
    }

    /// The epoch driver: trains for options().epochs epochs on the batches of `source` (any batch
    /// source, logreg/batch_source.hpp), validating with `validate` after each epoch if given.
    /// Every stop leaves the trainer at a point that state() can save and a later fit() continues.
    /// With several processes, `reduction` combines their steps (logreg/reduction.hpp).
    template <typename Source, typename Reduction = LocalReduction,
              std::enable_if_t<detail::is_batch_source<Source>::value, int> = 0>
    TrainReport fit(Source& source, const Preprocessor<Scalar>& pre, const Validator& validate = {},
                    Reduction&& reduction = {}) {
        return run_epochs(source, pre, validate, reduction);
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
        Dataset<Scalar> batch(RowMatrix<Scalar>(x), y, static_cast<int>(model_.num_classes()));
        if (sample_weights.size() != 0) batch.set_sample_weights(sample_weights);
        const IndexVector rows = iota(x.rows());
        return step(batch, rows.data(), x.rows(), Preprocessor<Scalar>::identity(x.cols())).mean();
    }

    /// One optimizer step on rows[0..count) of `data`, for a loop of the caller's own; returns the
    /// batch's loss sums (before the update). Uses the current learning rate (current_lr()) and
    /// allocates nothing once a batch of this size has been seen.
    template <typename Feature>
    LossSums step(const Dataset<Feature>& data, const Index* rows, Index count, const Preprocessor<Scalar>& pre) {
        check_data(data.num_features(), data.num_classes(), pre);
        if (count < 0) throw InvalidParameter(detail::cat("Trainer::step: count is ", count));
        for (Index i = 0; i < count; ++i)
            if (rows[i] < 0 || rows[i] >= data.size())
                throw InvalidParameter(
                    detail::cat("Trainer::step: row ", rows[i], " is out of range [0, ", data.size(), ")"));
        if (!pool_ || count > prepared_rows_) prepare(std::max<Index>(1, count));
        const BatchView<Feature> batch{&data.features(), &data.labels(), &data.sample_weights(), rows, count};
        LocalReduction local;
        StopRequest none = StopRequest::none;
        return step_batch(batch, pre, current_lr(), local, none);
    }

    /// False if the last step left a parameter NaN or infinite (checked while updating).
    bool last_step_finite() const { return step_finite_; }

    /// The learning rate the next step uses: the schedule applied to the optimizer's base rate.
    double current_lr() const {
        return options_.schedule(optimizer_.params().lr,
                                 options_.schedule_per_step ? position_.schedule_steps : position_.epochs_done);
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

    void check_data(Index features, Index classes, const Preprocessor<Scalar>& pre) const {
        model_.check_features(features);
        pre.check_features(features);
        if (classes != model_.num_classes())
            throw ShapeError(
                detail::cat("Trainer: the data has ", classes, " classes but the model has ", model_.num_classes()));
    }

    // The one epoch loop of every data path. A stop requested by a callback or the stop flag takes
    // effect before the next step (with a combining reduction, that step carries the request to
    // every process and is skipped), so every process stops after the same batch.
    template <typename Source, typename Reduction>
    TrainReport run_epochs(Source& source, const Preprocessor<Scalar>& pre, const Validator& validate,
                           Reduction& reduction) {
        check_data(source.num_features(), source.num_classes(), pre);
        const auto start = Clock::now();
        TrainReport report;
        const auto finish = [&](StopReason reason, std::string message) {
            report.reason = reason;
            report.message = std::move(message);
            report.seconds = seconds_since(start);
            return std::move(report);
        };
        prepare(std::max<Index>(1, source.max_batch_rows(options_.batch_size)));
        std::optional<LinearSoftmax<Scalar>> best;
        int since_best = 0;
        [[maybe_unused]] EigenThreadGuard eigen_guard;

        for (int e = 0; e < options_.epochs; ++e) {
            const int epoch = position_.epochs_done + 1;
            const auto epoch_start = Clock::now();
            const detail::Rng epoch_rng = rng_;  // rewound to on a stop mid-epoch, to replay this shuffle
            const Index batches =
                source.begin_epoch(EpochInfo{epoch - 1, options_.batch_size, options_.shuffle, options_.seed, &rng_});
            const Index first_batch = position_.batches_done_in_epoch;
            const TrainPosition epoch_start_position = position_;  // with the model: restored if this epoch diverges
            if (batches < 1 || first_batch >= batches)
                throw InvalidParameter(detail::cat("Trainer::fit: the interrupted epoch had ", first_batch,
                                                   " batches done, but the data has ", batches,
                                                   " batches per epoch (different data or batch size?)"));
            if (first_batch > 0) source.seek(first_batch);
            if (e == 0)  // the losses of the whole call: no reallocation between steps
                report.batch_losses.reserve(static_cast<std::size_t>(batches) *
                                            static_cast<std::size_t>(options_.epochs));
            position_.batches_done_in_epoch = 0;
            const LinearSoftmax<Scalar> epoch_start_model = model_;
            const Optimizer epoch_start_optimizer = optimizer_;
            LossSums epoch_sums;
            EpochRecord rec;
            rec.epoch = epoch;
            rec.lr = current_lr();
            Index samples_done = 0;
            StopRequest pending = StopRequest::none;
            for (Index b = first_batch; b < batches; ++b) {
                if (!Reduction::combines && pending != StopRequest::none)
                    return stop_mid_epoch(report, pending, epoch, b, batches, epoch_rng, finish);
                const BatchView<typename Source::feature_type> batch = source.next_batch();
                const double lr = current_lr();
                StopRequest request = pending;
                const LossSums sums = step_batch(batch, pre, lr, reduction, request);
                if (request != StopRequest::none)  // the step was skipped on every process
                    return stop_mid_epoch(report, request, epoch, b, batches, epoch_rng, finish);
                samples_done += batch.count;
                const double batch_loss = sums.mean();
                report.batch_losses.push_back(batch_loss);
                epoch_sums += sums;
                if (!std::isfinite(batch_loss) || !step_finite_) {
                    model_ = epoch_start_model;
                    optimizer_ = epoch_start_optimizer;
                    position_ = epoch_start_position;
                    rng_ = epoch_rng;
                    report.diverged_epoch = epoch;
                    report.diverged_batch = b;
                    return finish(StopReason::diverged,
                                  detail::cat("training diverged at epoch ", epoch, ", batch ", b, " (loss ",
                                              batch_loss, " at learning rate ", lr,
                                              "); the model was restored to its state at the start of epoch ", epoch,
                                              ". Try a smaller learning rate."));
                }
                if (callbacks_.on_batch &&
                    !callbacks_.on_batch(BatchRecord{epoch, b, batches, batch.count, samples_done, batch_loss, lr}))
                    pending = StopRequest::callback;
                if (callbacks_.stop && callbacks_.stop->load()) pending = stronger(pending, StopRequest::interrupt);
            }
            rec.train_loss = epoch_sums.mean();
            rec.seconds = seconds_since(epoch_start);
            ++position_.epochs_done;
            bool stop_early = false;
            if (validate) {
                const Evaluation ev = validate(model_);
                rec.val_loss = ev.loss;
                rec.val_accuracy = ev.accuracy;
                if (report.best_epoch == 0 || rec.val_loss < report.best_val_loss - options_.min_delta) {
                    report.best_val_loss = rec.val_loss;
                    report.best_epoch = epoch;
                    since_best = 0;
                    if (options_.patience > 0) best = model_;
                } else if (options_.patience > 0 && ++since_best >= options_.patience) {
                    stop_early = true;
                }
            }
            report.history.push_back(rec);
            // A stop asked for during the last batch is decided here, with the epoch's own requests;
            // the stop flag interrupts only if epochs remain (otherwise training is complete anyway).
            if (pending == StopRequest::interrupt) pending = StopRequest::none;
            if (callbacks_.on_epoch && !callbacks_.on_epoch(rec)) pending = StopRequest::callback;
            if (callbacks_.stop && callbacks_.stop->load() && e + 1 < options_.epochs)
                pending = stronger(pending, StopRequest::interrupt);
            pending = reduction.agree(pending);
            if (pending == StopRequest::callback)
                return finish(StopReason::callback, detail::cat("stopped by a callback after epoch ", epoch));
            if (pending == StopRequest::interrupt) {
                report.interrupted_epoch = epoch;
                report.interrupted_batch = batches - 1;
                return finish(StopReason::interrupted, detail::cat("interrupted after epoch ", epoch));
            }
            if (stop_early) {
                model_ = *best;
                return finish(
                    StopReason::early_stop,
                    detail::cat("early stop after epoch ", epoch, ": no validation improvement for ", options_.patience,
                                " epochs; restored the weights of epoch ", report.best_epoch));
            }
        }
        return finish(StopReason::max_epochs, detail::cat("reached ", options_.epochs, " epochs"));
    }

    // Stops before batch `b` of `epoch` with the trainer at a resumable point.
    template <typename Finish>
    TrainReport stop_mid_epoch(TrainReport& report, StopRequest request, int epoch, Index b, Index batches,
                               const detail::Rng& epoch_rng, const Finish& finish) {
        rng_ = epoch_rng;
        position_.batches_done_in_epoch = b;
        if (request == StopRequest::callback)
            return finish(StopReason::callback,
                          detail::cat("stopped by a callback at epoch ", epoch, " after batch ", b, " of ", batches));
        report.interrupted_epoch = epoch;
        report.interrupted_batch = b - 1;
        return finish(StopReason::interrupted,
                      detail::cat("interrupted at epoch ", epoch, " after batch ", b, " of ", batches));
    }

    // One step on a batch: the fused compute-and-update of the engine for one process; compute,
    // reduce and update for several. With a combining reduction, a stop request of any process
    // comes back in `stop` and the step is not applied.
    template <typename Feature, typename Reduction>
    LossSums step_batch(const BatchView<Feature>& b, const Preprocessor<Scalar>& pre, double lr, Reduction& reduction,
                        StopRequest& stop) {
        step_finite_ = true;  // the model is unchanged until an update says otherwise
        if (!b.features || !b.labels || (b.count > 0 && !b.rows) || b.count < 0 || b.count > prepared_rows_)
            throw InvalidParameter(detail::cat("Trainer: the batch source handed out a batch of ", b.count,
                                               " rows (at most ", prepared_rows_,
                                               " allowed) or one without features, labels or row indices"));
        // A user's source is checked like a Dataset: rows inside its matrix, labels inside the model
        // (O(batch) comparisons against the step's O(batch x features x classes) arithmetic).
        const Index stored = b.features->rows();
        if (b.labels->size() != stored)
            throw InvalidParameter(detail::cat("Trainer: the batch source's matrix has ", stored, " rows but ",
                                               b.labels->size(), " labels"));
        for (Index i = 0; i < b.count; ++i) {
            const Index r = b.rows[i];
            if (r < 0 || r >= stored || (*b.labels)[r] < 0 || (*b.labels)[r] >= model_.num_classes())
                throw InvalidParameter(
                    detail::cat("Trainer: the batch source handed out row ", r, " (of ", stored, ")",
                                r >= 0 && r < stored ? detail::cat(" with label ", (*b.labels)[r]) : "",
                                "; the model has ", model_.num_classes(), " classes"));
        }
        static const Vector<double> unweighted;
        const Vector<double>& weights = b.sample_weights ? *b.sample_weights : unweighted;
        LossSums sums;
        if constexpr (!Reduction::combines) {  // each thread updates its own classes
            sums = engine_.compute_and_step(model_, optimizer_, lr, loss_, *b.features, *b.labels, weights, b.rows,
                                            b.count, pre, *pool_, b.next_rows, b.next_count);
            step_finite_ = engine_.updated_finite();
        } else {
            sums = engine_.compute(model_, loss_, *b.features, *b.labels, weights, b.rows, b.count, pre, *pool_,
                                   b.next_rows, b.next_count);
            reduce(sums, reduction, stop);  // every process then takes the same decisions
            if (stop != StopRequest::none) return sums;
            if (sums.weight_sum > 0) {  // all weights zero: nothing to learn from this batch
                apply_step(optimizer_, model_, engine_.gradient(), lr);
                step_finite_ = model_.all_finite();
            }
        }
        if (options_.schedule_per_step) ++position_.schedule_steps;
        return sums;
    }

    // The engine returns the mean gradient; rescaling by the local weight sum recovers the sum up to
    // one rounding per element (relative 1e-7 in float), which keeps BatchGradient unchanged.
    template <typename Reduction>
    void reduce(LossSums& sums, Reduction& reduction, StopRequest& stop) {
        Gradient<Scalar>& g = engine_.gradient();
        if (sums.weight_sum > 0) {
            const auto w = static_cast<Scalar>(sums.weight_sum);
            g.weight *= w;
            g.bias *= w;
        }
        reduction.reduce(g, sums, stop);
        if (sums.weight_sum > 0) {
            const auto inv = static_cast<Scalar>(1.0 / sums.weight_sum);
            g.weight *= inv;
            g.bias *= inv;
        }
    }

    // Sizes the workspaces for batches of up to `max_batch` rows and starts the threads: as many as
    // such a batch uses (detail::BatchGradient::threads_for), so that no worker spins idle through
    // steps too small to share.
    void prepare(Index max_batch) {
        const int threads = detail::BatchGradient<Scalar>::threads_for(max_batch, options_.threads);
        if (!pool_ || pool_->size() != threads) pool_ = std::make_unique<detail::ThreadPool>(threads);
        engine_.reserve(max_batch, model_.num_features(), model_.num_classes(), threads);
        prepared_rows_ = max_batch;
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
    Loss loss_;
    Optimizer optimizer_;
    detail::Rng rng_;
    TrainPosition position_;
    Callbacks callbacks_;
    std::unique_ptr<detail::ThreadPool> pool_;
    detail::BatchGradient<Scalar> engine_;
    Index prepared_rows_ = 0;  // the largest batch the workspaces and threads are sized for
    bool step_finite_ = true;  // the last step left every parameter finite
};

}  // namespace logreg
