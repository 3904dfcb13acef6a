// logreg/logreg.hpp - the umbrella header: everything in the core library.
//
// The core needs Eigen and the standard library only. File formats (IDX,
// safetensors) live under logreg/io/ and are included on purpose.
#pragma once

#include <logreg/adam.hpp>
#include <logreg/batch_source.hpp>
#include <logreg/cross_entropy.hpp>
#include <logreg/dataset.hpp>
#include <logreg/error.hpp>
#include <logreg/evaluate.hpp>
#include <logreg/kernel_isa.hpp>
#include <logreg/lbfgs.hpp>
#include <logreg/linear_softmax.hpp>
#include <logreg/loss.hpp>
#include <logreg/metrics.hpp>
#include <logreg/optimizer.hpp>
#include <logreg/pipeline.hpp>
#include <logreg/preprocess.hpp>
#include <logreg/reduction.hpp>
#include <logreg/schedule.hpp>
#include <logreg/sgd.hpp>
#include <logreg/solver_report.hpp>
#include <logreg/split.hpp>
#include <logreg/train.hpp>
#include <logreg/train_report.hpp>
#include <logreg/trainer_state.hpp>
#include <logreg/types.hpp>
#include <logreg/version.hpp>
