// logreg/trainer_state.hpp - everything a trainer needs to continue where it stopped: the value a
// checkpoint stores (io/checkpoint.hpp) and Trainer::state() / Trainer::restore() exchange.
#pragma once

#include <logreg/detail/random.hpp>
#include <logreg/linear_softmax.hpp>
#include <logreg/optimizer.hpp>
#include <logreg/types.hpp>

#include <string>

namespace logreg {

/// Where training stands.
struct TrainPosition {
    int epochs_done = 0;              ///< completed epochs over all fit() calls (the per-epoch schedule's counter)
    Index batches_done_in_epoch = 0;  ///< batches of epoch epochs_done + 1 already applied (after a stop mid-epoch)
    long long schedule_steps = 0;     ///< steps counted by a per-step schedule
};

/// The whole state of a Trainer between two fit() calls.
template <typename Scalar>
struct TrainerState {
    LinearSoftmax<Scalar> model;
    TrainPosition position;
    /// The shuffling RNG; mid-epoch it is the state from before that epoch's shuffle, so the
    /// resumed epoch draws the same order again.
    detail::Rng rng;
    std::string optimizer_name;  ///< Optimizer::name: a state is restored only into the same optimizer
    OptimizerState<Scalar> optimizer;
};

}  // namespace logreg
