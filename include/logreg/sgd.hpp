// logreg/sgd.hpp - stochastic gradient descent with exactly torch.optim.SGD's update rule.
//
// For each parameter p with gradient g, at step t (PyTorch 1.13, maximize=False):
//   g = g + weight_decay * p                         (if weight_decay != 0)
//   if momentum != 0:
//     buf = g                                        (first step: no dampening)
//     buf = momentum * buf + (1 - dampening) * g     (later steps)
//     g = nesterov ? g + momentum * buf : buf
//   p = p - lr * g
#pragma once

#include <logreg/detail/denormals.hpp>
#include <logreg/detail/finite.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/detail/kernels.hpp>
#include <logreg/error.hpp>
#include <logreg/linear_softmax.hpp>
#include <logreg/optimizer.hpp>
#include <logreg/types.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace logreg {

/// Hyper-parameters of SGD; the defaults are PyTorch's (apart from lr, which PyTorch requires).
struct SGDParams {
    double lr = 0.1;            ///< learning rate, > 0 and finite
    double momentum = 0.0;      ///< in [0, 1)
    double dampening = 0.0;     ///< in [0, 1]
    double weight_decay = 0.0;  ///< L2 penalty coefficient, >= 0
    bool nesterov = false;      ///< requires momentum > 0 and dampening == 0 (as PyTorch)
    bool decay_bias = true;     ///< PyTorch decays every parameter, the bias too; false excludes it

    /// Throws InvalidParameter naming the first field outside its range.
    void validate() const {
        if (!(std::isfinite(lr) && lr > 0))
            throw InvalidParameter(detail::cat("SGDParams: 'lr' is ", lr, "; it must be finite and > 0"));
        if (!(momentum >= 0 && momentum < 1))
            throw InvalidParameter(
                detail::cat("SGDParams: 'momentum' is ", momentum, "; it must satisfy 0 <= momentum < 1"));
        if (!(dampening >= 0 && dampening <= 1))
            throw InvalidParameter(
                detail::cat("SGDParams: 'dampening' is ", dampening, "; it must satisfy 0 <= dampening <= 1"));
        if (!(std::isfinite(weight_decay) && weight_decay >= 0))
            throw InvalidParameter(
                detail::cat("SGDParams: 'weight_decay' is ", weight_decay, "; it must be finite and >= 0"));
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw InvalidParameter(
                detail::cat("SGDParams: 'nesterov' needs momentum > 0 and dampening == 0 (momentum is ", momentum,
                            ", dampening is ", dampening, ")"));
    }
};

/// SGD optimizer state (momentum buffers) and update; an optimizer as logreg/optimizer.hpp defines.
template <typename Scalar>
class SGD {
public:
    using Params = SGDParams;
    static constexpr const char* name = "sgd";

    SGD() { params_.validate(); }
    explicit SGD(SGDParams params) : params_(params) { params_.validate(); }

    const SGDParams& params() const { return params_; }

    /// Changes hyper-parameters, keeping the momentum buffers (like editing a PyTorch param_group).
    void set_params(const SGDParams& params) {
        params.validate();
        params_ = params;
    }

    /// Applies one update with learning rate `lr` (the schedule's value for this step).
    /// `grad` is used as scratch space: its values on return are unspecified.
    void step(LinearSoftmax<Scalar>& model, Gradient<Scalar>& grad, double lr) {
        begin_step(model, grad, lr);
        update_rows(model, grad, lr, 0, model.num_classes());
        end_step();
    }

    /// step() in three parts, so that threads can each update their own classes:
    /// begin_step() once (checks, and creates the momentum buffers on the first step), then
    /// update_rows() for disjoint class ranges that together cover every class, then end_step().
    /// Skipping begin_step() or end_step(), or leaving classes out, is an error; update_rows()
    /// checks what it cheaply can (the range, and that begin_step() created the buffers).
    void begin_step(const LinearSoftmax<Scalar>& model, const Gradient<Scalar>& grad, double lr) {
        if (!(std::isfinite(lr) && lr > 0))
            throw InvalidParameter(detail::cat("SGD::step: lr is ", lr, "; it must be finite and > 0"));
        if (grad.weight.rows() != model.weight().rows() || grad.weight.cols() != model.weight().cols() ||
            grad.bias.size() != model.bias().size())
            throw ShapeError(detail::cat("SGD::step: gradient is ", grad.weight.rows(), "x", grad.weight.cols(),
                                         " but the model is ", model.weight().rows(), "x", model.weight().cols()));
        if (params_.momentum != 0 && !has_buffers_) {
            weight_buf_.resize(model.weight().rows(), model.weight().cols());
            bias_buf_.resize(model.bias().size());
        }
    }

    /// The update of classes [first, first + count): rows of W, entries of b, with the gradient
    /// first multiplied by `grad_scale` (the trainer passes 1 / batch weight). Every parameter's
    /// rule is elementwise, so disjoint ranges can be updated at the same time. Returns true if
    /// every parameter it wrote is finite.
    bool update_rows(LinearSoftmax<Scalar>& model, Gradient<Scalar>& grad, double lr, Index first, Index count,
                     Scalar grad_scale = Scalar(1)) {
        if (first < 0 || count < 0 || first + count > model.num_classes() || grad.bias.size() != model.num_classes())
            throw InvalidParameter(detail::cat("SGD::update_rows: classes [", first, ", ", first + count,
                                               ") of a model with ", model.num_classes()));
        return update_part(model, grad, lr, first, count, 0, model.num_features(), first, count, grad_scale);
    }

    /// The same update for W's columns [first_feature, first_feature + features) of every class
    /// and b's entries [first_bias, first_bias + biases): how the engine shares an update among
    /// more threads than there are classes.
    bool update_columns(LinearSoftmax<Scalar>& model, Gradient<Scalar>& grad, double lr, const ColumnBlock& part,
                        Scalar grad_scale = Scalar(1)) {
        detail::check_column_block("SGD", model, grad, part);
        return update_part(model, grad, lr, 0, model.num_classes(), part.first_feature, part.features, part.first_bias,
                           part.biases, grad_scale);
    }

    void end_step() {
        if (params_.momentum != 0) has_buffers_ = true;
        ++steps_;
    }

    /// Number of updates applied so far.
    long long steps() const { return steps_; }

    /// Momentum buffers (empty before the first step with momentum): the state a checkpoint saves.
    bool has_buffers() const { return has_buffers_; }
    const RowMatrix<Scalar>& weight_buffer() const { return weight_buf_; }
    const Vector<Scalar>& bias_buffer() const { return bias_buf_; }

    /// The state a checkpoint saves: the step count and, once momentum has started, the
    /// buffers "weight_buffer" and "bias_buffer".
    OptimizerState<Scalar> state() const {
        OptimizerState<Scalar> s;
        s.steps = steps_;
        if (has_buffers_) {
            s.matrices.emplace("weight_buffer", weight_buf_);
            s.vectors.emplace("bias_buffer", bias_buf_);
        }
        return s;
    }

    /// Restores a state() (both buffers, or neither: momentum not started yet).
    void restore(const OptimizerState<Scalar>& s) {
        const bool has_w = s.matrices.count("weight_buffer") != 0, has_b = s.vectors.count("bias_buffer") != 0;
        for (const auto& [key, value] : s.matrices)
            if (key != "weight_buffer") throw InvalidParameter("SGD::restore: unknown state tensor '" + key + "'");
        for (const auto& [key, value] : s.vectors)
            if (key != "bias_buffer") throw InvalidParameter("SGD::restore: unknown state tensor '" + key + "'");
        if (has_w != has_b)
            throw InvalidParameter(std::string("SGD::restore: the state has '") +
                                   (has_w ? "weight_buffer" : "bias_buffer") + "' without '" +
                                   (has_w ? "bias_buffer" : "weight_buffer") + "'");
        if (s.steps < 0) throw InvalidParameter(detail::cat("SGD::restore: steps is ", s.steps, "; it must be >= 0"));
        weight_buf_ = has_w ? s.matrices.at("weight_buffer") : RowMatrix<Scalar>();
        bias_buf_ = has_b ? s.vectors.at("bias_buffer") : Vector<Scalar>();
        has_buffers_ = has_w;
        steps_ = s.steps;
    }

    /// Forgets the momentum buffers (the next step starts them afresh).
    void reset() {
        has_buffers_ = false;
        steps_ = 0;
    }

private:
    /// The update of W's block [c0, c0 + nc) x [j0, j0 + nj) and b's entries [b0, b0 + nb).
    bool update_part(LinearSoftmax<Scalar>& model, Gradient<Scalar>& grad, double lr, Index c0, Index nc, Index j0,
                     Index nj, Index b0, Index nb, Scalar grad_scale) {
        if (params_.momentum != 0 && weight_buf_.rows() != model.num_classes())
            throw InvalidParameter("SGD::update_rows: call begin_step() first (it creates the momentum buffers)");
        auto w = model.weight().block(c0, j0, nc, nj);
        auto gw = grad.weight.block(c0, j0, nc, nj);
        auto b = model.bias().segment(b0, nb);
        auto gb = grad.bias.segment(b0, nb);
        const double bias_decay = params_.decay_bias ? params_.weight_decay : 0.0;
        bool finite = true;
        if (params_.momentum == 0 && params_.weight_decay == 0) {  // the common case, in one pass per row
            for (Index c = 0; c < nc; ++c)  // rows of a block of row-major matrices: outerStride() apart
                finite = plain_update(w.data() + c * w.outerStride(), gw.data() + c * gw.outerStride(), nj, grad_scale,
                                      lr) &&
                         finite;
            return plain_update(b.data(), gb.data(), nb, grad_scale, lr) && finite;  // always applied
        }
        const detail::FlushDenormals flush;  // a momentum buffer decays into denormals where the gradient is zero
        if (grad_scale != Scalar(1)) {
            gw *= grad_scale;
            gb *= grad_scale;
        }
        // Without momentum the buffers are empty: pass the gradient, which update() then ignores.
        if (params_.momentum != 0) {
            update(w, gw, weight_buf_.block(c0, j0, nc, nj), params_.weight_decay, lr);
            update(b, gb, bias_buf_.segment(b0, nb), bias_decay, lr);
        } else {
            update(w, gw, gw, params_.weight_decay, lr);
            update(b, gb, gb, bias_decay, lr);
        }
        for (Index c = 0; c < nc; ++c) finite = detail::all_finite(w.data() + c * w.outerStride(), nj) && finite;
        return detail::all_finite(b.data(), b.size()) && finite;
    }

    // p, g and buf are Eigen blocks: views, so updating them updates the parameters.
    template <typename P, typename G, typename B>
    void update(P p, G g, B buf, double weight_decay, double lr) {
        const auto wd = static_cast<Scalar>(weight_decay);
        const auto mu = static_cast<Scalar>(params_.momentum);
        if (weight_decay != 0) g += wd * p;
        if (params_.momentum != 0) {
            if (!has_buffers_)
                buf = g;
            else
                buf = mu * buf + static_cast<Scalar>(1 - params_.dampening) * g;
            if (params_.nesterov)
                g += mu * buf;
            else
                g = buf;
        }
        p -= static_cast<Scalar>(lr) * g;
    }

    /// p -= lr * (g * scale) over n contiguous values (g scaled first, then one multiply-add as
    /// the active kernel set rounds it), checking each new p as it is written; g is not
    /// written. Returns true if every new p is finite.
    static bool plain_update(Scalar* p, const Scalar* g, Index n, Scalar scale, double lr) {
        return detail::kernels::active<Scalar>().sgd_step(p, g, n, scale, static_cast<Scalar>(lr));
    }

    SGDParams params_;
    RowMatrix<Scalar> weight_buf_;
    Vector<Scalar> bias_buf_;
    bool has_buffers_ = false;
    long long steps_ = 0;
};

}  // namespace logreg
