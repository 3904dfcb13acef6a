// logreg/reduction.hpp - how the processes of one training run combine their steps.
//
// The epoch driver (Trainer::fit) computes each batch's gradient and loss sums locally; a
// reduction combines them across processes before the optimizer applies the update, and makes
// every process take the same decisions (stop, diverge, stop early). LocalReduction, below, is the
// single-process one; distributed::GradientAllreduce (distributed/mpi.hpp) is the MPI one. A
// reduction has these members:
//
//   static constexpr bool combines;
//       false: the gradient stays local and the driver fuses computing and applying it (each
//       thread updates its own classes); true: the driver calls reduce() between the two
//   void reduce(Gradient<S>& gradient_sum, LossSums& sums, StopRequest& stop);   (combines only)
//       replaces the local gradient SUM (not mean) and loss sums with the sums over all processes,
//       and `stop` with the highest request of any process; every process then skips the step
//       if a stop was requested, so that all stop after the same batch
//   StopRequest agree(StopRequest local);
//       the highest request of any process (at the end of an epoch, where no step carries it)
#pragma once

#include <logreg/cross_entropy.hpp>
#include <logreg/linear_softmax.hpp>

namespace logreg {

/// A request to stop training, raised by a callback or the stop flag; the higher one wins.
enum class StopRequest : int { none = 0, interrupt = 1, callback = 2 };

inline StopRequest stronger(StopRequest a, StopRequest b) {
    return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

/// One process: nothing to combine.
struct LocalReduction {
    static constexpr bool combines = false;
    StopRequest agree(StopRequest local) { return local; }
};

}  // namespace logreg
