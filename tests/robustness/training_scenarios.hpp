// The training scenarios every data path must pass the same way: divergence, a batch callback
// that stops, an epoch callback that stops, early stopping, interruption and resume through a
// checkpoint file. A "path" runs the trainer's epoch driver on its own batch source:
//
//   TrainReport fit(Trainer<float>&);            train on the path's data
//   TrainReport fit_validated(Trainer<float>&);  the same, validating on held-out data whose labels
//                                                are shifted by one class (so validation loss rises)
//   void save(const Trainer<float>&, const std::string& name);  void load(Trainer<float>&, name);
//       a checkpoint file (one process writes, every process reads)
//
// Each scenario compares the path with its own uninterrupted run, bitwise.
#pragma once

#include "test_support.hpp"

#include <logreg/io/checkpoint.hpp>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

namespace scenarios {

using namespace logreg;

constexpr Index rows = 240, features = 16;
constexpr int classes = 3;
constexpr Index batch_size = 16;

/// Learnable bytes: class c lights up features [5c, 5c + 5) over a noisy background.
inline Dataset<std::uint8_t> data(bool shifted_labels = false, std::uint64_t salt = 91) {
    auto gen = logreg_test::rng(salt);
    std::uniform_int_distribution<int> noise(0, 90), label(0, classes - 1);
    RowMatrix<std::uint8_t> x(rows, features);
    LabelVector y(rows);
    for (Index i = 0; i < rows; ++i) {
        const int c = label(gen);
        for (Index j = 0; j < features; ++j) x(i, j) = static_cast<std::uint8_t>(noise(gen) + (j / 5 == c ? 150 : 0));
        y[i] = shifted_labels ? (c + 1) % classes : c;
    }
    return Dataset<std::uint8_t>(std::move(x), std::move(y), classes);
}

/// A folder of this process for the scenarios' files, removed when the process exits.
inline std::string file(const std::string& name) {
    static const logreg_test::TempDir dir("logreg-scenarios");
    return dir / name;
}

inline const Preprocessor<float>& pre() {
    static const Preprocessor<float> unit = Preprocessor<float>::unit(features);
    return unit;
}

/// SGD with momentum and a cosine schedule, evaluated per step (its step counter is then part of
/// what a resume restores) or per epoch.
inline TrainOptions options(int epochs, int threads, bool per_step) {
    TrainOptions o;
    o.epochs = epochs;
    o.batch_size = batch_size;
    o.seed = 11;
    o.threads = threads;
    o.sgd.lr = 0.1;
    o.sgd.momentum = 0.9;
    o.schedule = per_step ? Schedule::cosine(60) : Schedule::cosine(4);
    o.schedule_per_step = per_step;
    return o;
}

inline Trainer<float> trainer(int epochs, int threads, bool per_step) {
    return Trainer<float>(LinearSoftmax<float>(features, classes, Init::uniform, 4),
                          options(epochs, threads, per_step));
}

/// Model, optimizer state and position equal bitwise.
inline void require_same_state(const TrainerState<float>& x, const TrainerState<float>& y) {
    REQUIRE(x.model.weight() == y.model.weight());
    REQUIRE(x.model.bias() == y.model.bias());
    REQUIRE(x.optimizer.steps == y.optimizer.steps);
    REQUIRE(x.optimizer.matrices == y.optimizer.matrices);
    REQUIRE(x.optimizer.vectors == y.optimizer.vectors);
    REQUIRE(x.position.epochs_done == y.position.epochs_done);
    REQUIRE(x.position.batches_done_in_epoch == y.position.batches_done_in_epoch);
    REQUIRE(x.position.schedule_steps == y.position.schedule_steps);
}
inline void require_same_state(const Trainer<float>& a, const Trainer<float>& b) {
    require_same_state(a.state(), b.state());
}

/// Runs every scenario through `path` with `threads` threads and a per-step or per-epoch schedule.
template <typename Path>
void run_all(Path& path, int threads, bool per_step) {
    constexpr int epochs = 4;
    Trainer<float> whole = trainer(epochs, threads, per_step);
    const TrainReport full = path.fit(whole);
    REQUIRE(full.reason == StopReason::max_epochs);
    REQUIRE(full.history.size() == static_cast<std::size_t>(epochs));
    const auto batches = static_cast<Index>(full.batch_losses.size()) / epochs;
    REQUIRE(batches >= 8);
    REQUIRE(full.history.back().train_loss < full.history.front().train_loss);

    SECTION("divergence restores the model and optimizer state of the epoch's start") {
        Trainer<float> t = trainer(1, threads, per_step);
        path.fit(t);
        const TrainerState<float> after_one = t.state();
        SGDParams wild = t.optimizer().params();
        wild.lr = 1e38;  // the weights overflow within a few steps
        t.set_optimizer_params(wild);
        const TrainReport r = path.fit(t);
        REQUIRE(r.reason == StopReason::diverged);
        REQUIRE(r.diverged_epoch == 2);
        REQUIRE(r.diverged_batch < batches);
        REQUIRE(r.batch_losses.size() == static_cast<std::size_t>(r.diverged_batch + 1));
        REQUIRE_THAT(r.message, logreg_test::contains("restored to its state at the start of epoch 2"));
        require_same_state(t.state(), after_one);
    }

    SECTION("a batch callback stops after its batch; fit() continues from there") {
        Trainer<float> t = trainer(epochs, threads, per_step);
        Callbacks cb;
        cb.on_batch = [](const BatchRecord& b) { return !(b.epoch == 2 && b.batch == 2); };
        t.set_callbacks(cb);
        const TrainReport r = path.fit(t);
        REQUIRE(r.reason == StopReason::callback);
        REQUIRE(t.position().epochs_done == 1);
        REQUIRE(t.position().batches_done_in_epoch == 3);
        REQUIRE(r.batch_losses.size() == static_cast<std::size_t>(batches + 3));
        t.set_callbacks({});
        t.set_options(options(epochs - 1, threads, per_step));  // the rest of epoch 2, then epochs 3 and 4
        REQUIRE(path.fit(t).reason == StopReason::max_epochs);
        require_same_state(t, whole);
    }

    SECTION("an epoch callback stops after its epoch") {
        Trainer<float> t = trainer(epochs, threads, per_step);
        Callbacks cb;
        cb.on_epoch = [](const EpochRecord& e) { return e.epoch < 2; };
        t.set_callbacks(cb);
        const TrainReport r = path.fit(t);
        REQUIRE(r.reason == StopReason::callback);
        REQUIRE(r.history.size() == 2);
        REQUIRE(t.position().epochs_done == 2);
        REQUIRE(t.position().batches_done_in_epoch == 0);
        t.set_callbacks({});
        t.set_options(options(epochs - 2, threads, per_step));
        path.fit(t);
        require_same_state(t, whole);
    }

    SECTION("early stopping restores the weights of the best epoch") {
        TrainOptions o = options(12, threads, per_step);
        o.patience = 2;
        Trainer<float> t(LinearSoftmax<float>(features, classes, Init::uniform, 4), o);
        std::vector<RowMatrix<float>> weights;
        Callbacks cb;
        cb.on_epoch = [&](const EpochRecord&) {
            weights.push_back(t.model().weight());
            return true;
        };
        t.set_callbacks(cb);
        const TrainReport r = path.fit_validated(t);
        REQUIRE(r.reason == StopReason::early_stop);
        REQUIRE(r.best_epoch >= 1);
        REQUIRE(r.history.size() == static_cast<std::size_t>(r.best_epoch + o.patience));
        REQUIRE(r.history[static_cast<std::size_t>(r.best_epoch - 1)].val_loss == r.best_val_loss);
        REQUIRE(t.model().weight() == weights.at(static_cast<std::size_t>(r.best_epoch - 1)));
        REQUIRE(t.model().weight() != weights.back());
    }

    SECTION("the stop flag interrupts at a resumable point; a checkpoint resumes bitwise") {
        for (const Index stop_after : {Index{1}, batches, batches + batches / 2}) {
            CAPTURE(stop_after);
            std::atomic<bool> stop{false};
            Trainer<float> t = trainer(epochs, threads, per_step);
            Callbacks cb;
            Index seen = 0;
            cb.on_batch = [&](const BatchRecord&) {
                if (++seen == stop_after) stop = true;
                return true;
            };
            cb.stop = &stop;
            t.set_callbacks(cb);
            const TrainReport r = path.fit(t);
            REQUIRE(r.reason == StopReason::interrupted);
            REQUIRE(t.position().epochs_done * batches + t.position().batches_done_in_epoch == stop_after);
            REQUIRE(r.interrupted_epoch == static_cast<int>((stop_after - 1) / batches) + 1);
            path.save(t, "scenario.ckpt");

            Trainer<float> resumed(LinearSoftmax<float>(features, classes), options(epochs, threads, per_step));
            path.load(resumed, "scenario.ckpt");
            resumed.set_options(options(epochs - resumed.epochs_done(), threads, per_step));
            REQUIRE(path.fit(resumed).reason == StopReason::max_epochs);
            require_same_state(resumed, whole);
        }
    }
}

}  // namespace scenarios
