// examples/common/train_options.hpp - the programs' command-line options as logreg::TrainOptions.
#pragma once

#include <logreg/logreg.hpp>

#include <algorithm>
#include <string>
#include <utility>

namespace examples {

/// Maps the shared options of mnist_train (local and --distributed) onto TrainOptions and validates
/// them. Schedules: step decays 10x at 1/3 and 2/3 of the run, exp by 0.8 per epoch, cosine
/// reaches 0 at the last epoch.
template <typename Options>
logreg::TrainOptions train_options(const Options& o) {
    using logreg::Schedule;
    logreg::TrainOptions t;
    t.epochs = o.epochs;
    t.batch_size = o.batch_size;
    t.seed = o.seed;
    t.threads = o.threads;
    t.validation_fraction = o.val_split;
    t.sgd.lr = o.lr;
    t.sgd.momentum = o.momentum;
    t.sgd.nesterov = o.nesterov;
    t.sgd.weight_decay = o.weight_decay;
    t.schedule.kind = logreg::parse_schedule_kind(o.schedule);
    t.schedule.step_size = std::max(1, o.epochs / 3);
    t.schedule.gamma = t.schedule.kind == Schedule::Kind::exponential ? 0.8 : 0.1;
    t.schedule.t_max = std::max(1, o.epochs);
    t.validate();
    return t;
}

/// Calls f(optimizer) with the optimizer that o.optimizer names ("sgd", "adam", "adamw"), its
/// hyper-parameters taken from the options (validated: the error names the field).
template <typename Scalar, typename Options, typename F>
decltype(auto) with_optimizer(const Options& o, F&& f) {
    if (o.optimizer == "sgd") return f(logreg::SGD<Scalar>(train_options(o).sgd));
    auto fill = [&o](auto params) {
        params.lr = o.lr;
        params.beta1 = o.beta1;
        params.beta2 = o.beta2;
        params.eps = o.eps;
        params.weight_decay = o.weight_decay;
        params.amsgrad = o.amsgrad;
        params.validate();
        return params;
    };
    if (o.optimizer == "adam") return f(logreg::Adam<Scalar>(fill(logreg::AdamParams())));
    if (o.optimizer == "adamw") return f(logreg::AdamW<Scalar>(fill(logreg::AdamWParams())));
    throw logreg::InvalidParameter("--optimizer " + o.optimizer + ": expected sgd, adam or adamw");
}

}  // namespace examples
