// logreg/loss.hpp - what the Trainer needs of a loss.
//
// A loss is a class over the scalar type with these members (CrossEntropy is the library's; a
// user's own works the same way, see docs/design.md "Adding a loss"):
//
//   LossSums accumulate(Eigen::MatrixBase<Z>& z, const std::int32_t* labels, const double* sample_weights) const;
//       the loss sums of a block of logits z (rows x classes) with their labels and, if not null,
//       sample weights s_i: loss_sum = sum_i s_i l_i and weight_sum = sum_i s_i (times any class
//       weight), and z overwritten with the UNNORMALISED gradient s_i * dl_i/dz_i. The trainer
//       divides by the whole batch's weight_sum once, so a batch split across threads (several
//       calls at once on different blocks: no shared mutable state) gives the mean's gradient
//   void validate(Index num_classes) const;
//       throws InvalidParameter naming the bad option, for a model with num_classes classes
//
// The loss is all the trainer, evaluate() and the distributed path know of it: the batched
// forward pass, the backward pass dW = dZ^T X, the threads and the optimizers stay as they are.
#pragma once

#include <logreg/cross_entropy.hpp>
#include <logreg/types.hpp>

#include <cstdint>
#include <type_traits>
#include <utility>

namespace logreg::detail {

template <typename L, typename S, typename = void>
struct is_loss : std::false_type {};
template <typename L, typename S>
struct is_loss<L, S,
               std::void_t<decltype(LossSums(std::declval<const L&>().accumulate(std::declval<RowMatrix<S>&>(),
                                                                                 std::declval<const std::int32_t*>(),
                                                                                 std::declval<const double*>()))),
                           decltype(std::declval<const L&>().validate(Index{}))>> : std::true_type {};

/// Compile-time check with a message a user can act on (the Trainer calls it).
template <typename L, typename S>
constexpr bool check_loss() {
    static_assert(is_loss<L, S>::value,
                  "logreg loss: needs `LossSums accumulate(z, labels, sample_weights) const` and "
                  "`void validate(Index num_classes) const` (see logreg/loss.hpp)");
    return true;
}

}  // namespace logreg::detail
