// logreg/optimizer.hpp - what the Trainer needs of an optimizer, and the state a checkpoint saves.
//
// An optimizer is a class template over the scalar type with these members (SGD, Adam and AdamW
// are the library's; a user's own works the same way, see docs/design.md "Adding an optimizer"):
//
//   using Params = ...;                     hyper-parameters: a struct with `double lr` (the base rate
//                                           the schedule scales) and `void validate() const`, which
//                                           throws InvalidParameter naming the bad field
//   static constexpr const char* name;      stored in checkpoints: a resume with another optimizer is refused
//   explicit Opt(Params);  const Params& params() const;  void set_params(const Params&);
//   void begin_step(const LinearSoftmax<S>&, const Gradient<S>&, double lr);
//       once per step, before any update_rows: checks, creates its buffers on the first step
//   bool update_rows(LinearSoftmax<S>&, Gradient<S>&, double lr, Index first, Index count, S grad_scale);
//       the update of classes [first, first + count) (rows of W, entries of b) with the gradient
//       multiplied by grad_scale first; called from several threads at once for disjoint ranges,
//       so it must touch nothing but those rows (of the model, the gradient and its own buffers);
//       returns true if every parameter it wrote is finite. The gradient is scratch.
//   void end_step();                        once per step, after every class was updated
//   bool update_columns(LinearSoftmax<S>&, Gradient<S>&, double lr, const ColumnBlock&, S grad_scale);
//       optional: the same update for W's columns [first_feature, first_feature + features) of
//       every class and b's entries [first_bias, first_bias + biases). With more threads than
//       classes the engine splits the update this way, so every thread has a share; an optimizer
//       without it is split by classes (threads beyond the class count then wait)
//   long long steps() const;  void reset(); updates applied so far; forget all state
//   OptimizerState<S> state() const;  void restore(const OptimizerState<S>&);
//       everything a checkpoint needs to continue bitwise; restore() throws InvalidParameter
//       (naming the tensor) for a state this optimizer cannot have written
//
// A step never allocates once begin_step() has created the buffers (tests/test_no_malloc.cpp).
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/linear_softmax.hpp>
#include <logreg/types.hpp>

#include <map>
#include <string>
#include <type_traits>
#include <utility>

namespace logreg {

/// An optimizer's state as named tensors and a step count: each matrix has the shape of the
/// model's W, each vector that of its b. Checkpoints store the tensors as "optimizer.<name>".
template <typename Scalar>
struct OptimizerState {
    long long steps = 0;
    std::map<std::string, RowMatrix<Scalar>> matrices;  ///< shaped like W: classes x features
    std::map<std::string, Vector<Scalar>> vectors;      ///< shaped like b: classes
};

/// A share of the parameters for Optimizer::update_columns: W's columns [first_feature,
/// first_feature + features) of every class, and b's entries [first_bias, first_bias + biases).
struct ColumnBlock {
    Index first_feature = 0, features = 0;
    Index first_bias = 0, biases = 0;
};

namespace detail {

/// Throws InvalidParameter (naming `who`) unless `part` lies inside the model and the gradient
/// has the model's classes: the check of every update_columns().
template <typename Scalar>
void check_column_block(const char* who, const LinearSoftmax<Scalar>& model, const Gradient<Scalar>& grad,
                        const ColumnBlock& part) {
    if (part.first_feature < 0 || part.features < 0 || part.first_feature + part.features > model.num_features() ||
        part.first_bias < 0 || part.biases < 0 || part.first_bias + part.biases > model.num_classes() ||
        grad.bias.size() != model.num_classes())
        throw InvalidParameter(detail::cat(who, "::update_columns: features [", part.first_feature, ", ",
                                           part.first_feature + part.features, ") and biases [", part.first_bias, ", ",
                                           part.first_bias + part.biases, ") of a model with ", model.num_features(),
                                           " features and ", model.num_classes(), " classes"));
}

}  // namespace detail

/// One whole update: begin_step, update_rows over every class, end_step (what a single thread does).
template <typename Optimizer, typename Scalar>
bool apply_step(Optimizer& optimizer, LinearSoftmax<Scalar>& model, Gradient<Scalar>& grad, double lr) {
    optimizer.begin_step(model, grad, lr);
    const bool finite = optimizer.update_rows(model, grad, lr, 0, model.num_classes(), Scalar(1));
    optimizer.end_step();
    return finite;
}

namespace detail {

template <typename O, typename = void>
struct has_params_lr : std::false_type {};
template <typename O>
struct has_params_lr<O, std::void_t<decltype(std::declval<const typename O::Params&>().lr),
                                    decltype(std::declval<const typename O::Params&>().validate())>> : std::true_type {
};

template <typename O, typename S, typename = void>
struct has_step_parts : std::false_type {};
template <typename O, typename S>
struct has_step_parts<
    O, S,
    std::void_t<decltype(std::declval<O&>().begin_step(std::declval<const LinearSoftmax<S>&>(),
                                                       std::declval<const Gradient<S>&>(), 0.0)),
                decltype(bool(std::declval<O&>().update_rows(
                    std::declval<LinearSoftmax<S>&>(), std::declval<Gradient<S>&>(), 0.0, Index{}, Index{}, S{}))),
                decltype(std::declval<O&>().end_step())>> : std::true_type {};

template <typename O, typename S, typename = void>
struct has_update_columns : std::false_type {};
template <typename O, typename S>
struct has_update_columns<O, S,
                          std::void_t<decltype(bool(std::declval<O&>().update_columns(
                              std::declval<LinearSoftmax<S>&>(), std::declval<Gradient<S>&>(), 0.0,
                              std::declval<const ColumnBlock&>(), S{})))>> : std::true_type {};

template <typename O, typename S, typename = void>
struct has_state : std::false_type {};
template <typename O, typename S>
struct has_state<O, S,
                 std::void_t<decltype(OptimizerState<S>(std::declval<const O&>().state())),
                             decltype(std::declval<O&>().restore(std::declval<const OptimizerState<S>&>())),
                             decltype(static_cast<long long>(std::declval<const O&>().steps())),
                             decltype(std::declval<O&>().reset()), decltype(std::string(O::name))>> : std::true_type {};

/// Compile-time check with messages a user can act on (the Trainer calls it).
template <typename O, typename S>
constexpr bool check_optimizer() {
    static_assert(has_params_lr<O>::value,
                  "logreg optimizer: needs `using Params = ...` with a `double lr` member and `void validate() const`");
    static_assert(has_step_parts<O, S>::value,
                  "logreg optimizer: needs begin_step(model, grad, lr), bool update_rows(model, grad, lr, first, "
                  "count, grad_scale) and end_step() (see logreg/optimizer.hpp)");
    static_assert(has_state<O, S>::value,
                  "logreg optimizer: needs `static constexpr const char* name`, steps(), reset(), "
                  "OptimizerState<Scalar> state() const and restore(const OptimizerState<Scalar>&)");
    return true;
}

}  // namespace detail
}  // namespace logreg
