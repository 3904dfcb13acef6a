// logreg/adam.hpp - Adam and AdamW with exactly torch.optim.Adam's / torch.optim.AdamW's update rule.
//
// For each parameter p with gradient g, at step t = 1, 2, ... (PyTorch 1.13, maximize=False):
//   AdamW only:  p = p * (1 - lr * weight_decay)          (decoupled weight decay)
//   Adam only:   g = g + weight_decay * p                 (L2 folded into the gradient)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g * g
//   v_max = max(v_max, v)                                  (amsgrad; then v_max replaces v below)
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// (eps is added after the square root and after the bias correction, as PyTorch does.)
#pragma once

#include <logreg/detail/denormals.hpp>
#include <logreg/detail/finite.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/linear_softmax.hpp>
#include <logreg/optimizer.hpp>
#include <logreg/types.hpp>

#include <cmath>
#include <string>

namespace logreg {

/// Hyper-parameters of Adam; the defaults are PyTorch's.
struct AdamParams {
    double lr = 1e-3;           ///< learning rate, > 0 and finite
    double beta1 = 0.9;         ///< first-moment decay, in [0, 1)
    double beta2 = 0.999;       ///< second-moment decay, in [0, 1)
    double eps = 1e-8;          ///< added to the denominator, > 0 and finite
    double weight_decay = 0.0;  ///< Adam: L2 coefficient added to the gradient; AdamW: decoupled decay; >= 0
    bool amsgrad = false;       ///< use the running maximum of the second moment (Reddi et al.)
    bool decay_bias = true;     ///< PyTorch decays every parameter, the bias too; false excludes it

    /// Throws InvalidParameter naming the first field outside its range.
    void validate() const { check("AdamParams"); }

protected:
    void check(const char* who) const {
        if (!(std::isfinite(lr) && lr > 0))
            throw InvalidParameter(detail::cat(who, ": 'lr' is ", lr, "; it must be finite and > 0"));
        if (!(beta1 >= 0 && beta1 < 1))
            throw InvalidParameter(detail::cat(who, ": 'beta1' is ", beta1, "; it must satisfy 0 <= beta1 < 1"));
        if (!(beta2 >= 0 && beta2 < 1))
            throw InvalidParameter(detail::cat(who, ": 'beta2' is ", beta2, "; it must satisfy 0 <= beta2 < 1"));
        if (!(std::isfinite(eps) && eps > 0))
            throw InvalidParameter(detail::cat(who, ": 'eps' is ", eps, "; it must be finite and > 0"));
        if (!(std::isfinite(weight_decay) && weight_decay >= 0))
            throw InvalidParameter(
                detail::cat(who, ": 'weight_decay' is ", weight_decay, "; it must be finite and >= 0"));
    }
};

/// Hyper-parameters of AdamW: Adam's, with PyTorch's AdamW default weight_decay = 0.01.
struct AdamWParams : AdamParams {
    AdamWParams() { weight_decay = 0.01; }
    void validate() const { check("AdamWParams"); }
};

namespace detail {

/// Adam's state and update; Decoupled selects AdamW's weight decay.
template <typename Scalar, typename ParamsType, bool Decoupled>
class AdamBase {
public:
    using Params = ParamsType;

    AdamBase() { params_.validate(); }
    explicit AdamBase(Params params) : params_(params) { params_.validate(); }

    const Params& params() const { return params_; }

    /// Changes hyper-parameters, keeping the moments and the step count (like editing a param_group).
    void set_params(const Params& params) {
        params.validate();
        params_ = params;
    }

    /// Checks, creates the moment buffers (zero) on the first step and computes this step's bias
    /// corrections, which every update_rows() call of the step shares.
    void begin_step(const LinearSoftmax<Scalar>& model, const Gradient<Scalar>& grad, double lr) {
        if (!(std::isfinite(lr) && lr > 0))
            throw InvalidParameter(detail::cat(label(), "::step: lr is ", lr, "; it must be finite and > 0"));
        if (grad.weight.rows() != model.weight().rows() || grad.weight.cols() != model.weight().cols() ||
            grad.bias.size() != model.bias().size())
            throw ShapeError(detail::cat(label(), "::step: gradient is ", grad.weight.rows(), "x", grad.weight.cols(),
                                         " but the model is ", model.weight().rows(), "x", model.weight().cols()));
        const Index classes = model.num_classes(), features = model.num_features();
        if (m_w_.rows() != classes || m_w_.cols() != features) {  // first step (or a new shape after reset)
            m_w_.setZero(classes, features);
            v_w_.setZero(classes, features);
            m_b_.setZero(classes);
            v_b_.setZero(classes);
            if (params_.amsgrad) {
                vmax_w_.setZero(classes, features);
                vmax_b_.setZero(classes);
            }
        }
        if (params_.amsgrad && vmax_w_.rows() != classes) {  // amsgrad switched on later: start its maximum
            vmax_w_ = v_w_;
            vmax_b_ = v_b_;
        }
        // Python doubles in PyTorch: 1 - beta^t, lr / (1 - beta1^t), sqrt(1 - beta2^t).
        const double t = static_cast<double>(steps_ + 1);
        step_size_ = lr / (1 - std::pow(params_.beta1, t));
        bias_correction2_sqrt_ = std::sqrt(1 - std::pow(params_.beta2, t));
    }

    /// The update of classes [first, first + count), the gradient first multiplied by grad_scale.
    bool update_rows(LinearSoftmax<Scalar>& model, Gradient<Scalar>& grad, double lr, Index first, Index count,
                     Scalar grad_scale = Scalar(1)) {
        if (first < 0 || count < 0 || first + count > model.num_classes() || grad.bias.size() != model.num_classes())
            throw InvalidParameter(detail::cat(label(), "::update_rows: classes [", first, ", ", first + count,
                                               ") of a model with ", model.num_classes()));
        return update_part(model, grad, lr, first, count, 0, model.num_features(), first, count, grad_scale);
    }

    /// The same update for W's columns [first_feature, first_feature + features) of every class
    /// and b's entries [first_bias, first_bias + biases) (see logreg/optimizer.hpp).
    bool update_columns(LinearSoftmax<Scalar>& model, Gradient<Scalar>& grad, double lr, const ColumnBlock& part,
                        Scalar grad_scale = Scalar(1)) {
        detail::check_column_block(label(), model, grad, part);
        return update_part(model, grad, lr, 0, model.num_classes(), part.first_feature, part.features, part.first_bias,
                           part.biases, grad_scale);
    }

    void end_step() { ++steps_; }

    /// Number of updates applied so far (PyTorch's state["step"]).
    long long steps() const { return steps_; }

    /// Forgets the moments and the step count (the next step starts afresh).
    void reset() {
        steps_ = 0;
        m_w_.resize(0, 0);
        v_w_.resize(0, 0);
        vmax_w_.resize(0, 0);
        m_b_.resize(0);
        v_b_.resize(0);
        vmax_b_.resize(0);
    }

    /// The state a checkpoint saves: the step count and, after the first step, the moments
    /// "weight_exp_avg", "weight_exp_avg_sq", "bias_exp_avg", "bias_exp_avg_sq" (with amsgrad also
    /// "weight_max_exp_avg_sq", "bias_max_exp_avg_sq"; PyTorch's names).
    OptimizerState<Scalar> state() const {
        OptimizerState<Scalar> s;
        s.steps = steps_;
        if (m_w_.size() == 0 && m_b_.size() == 0) return s;
        s.matrices = {{"weight_exp_avg", m_w_}, {"weight_exp_avg_sq", v_w_}};
        s.vectors = {{"bias_exp_avg", m_b_}, {"bias_exp_avg_sq", v_b_}};
        if (params_.amsgrad) {
            s.matrices.emplace("weight_max_exp_avg_sq", vmax_w_);
            s.vectors.emplace("bias_max_exp_avg_sq", vmax_b_);
        }
        return s;
    }

    /// Restores a state(): no tensors (before the first step), or the moments (and with amsgrad
    /// their maxima), all of them.
    void restore(const OptimizerState<Scalar>& s) {
        if (s.steps < 0)
            throw InvalidParameter(detail::cat(label(), "::restore: steps is ", s.steps, "; it must be >= 0"));
        for (const auto& [key, value] : s.matrices)
            if (key != "weight_exp_avg" && key != "weight_exp_avg_sq" && key != "weight_max_exp_avg_sq")
                throw InvalidParameter(detail::cat(label(), "::restore: unknown state tensor '", key, "'"));
        for (const auto& [key, value] : s.vectors)
            if (key != "bias_exp_avg" && key != "bias_exp_avg_sq" && key != "bias_max_exp_avg_sq")
                throw InvalidParameter(detail::cat(label(), "::restore: unknown state tensor '", key, "'"));
        const bool empty = s.matrices.empty() && s.vectors.empty();
        if (!empty) {
            for (const char* key : {"weight_exp_avg", "weight_exp_avg_sq"})
                if (!s.matrices.count(key))
                    throw InvalidParameter(detail::cat(label(), "::restore: the state lacks '", key, "'"));
            for (const char* key : {"bias_exp_avg", "bias_exp_avg_sq"})
                if (!s.vectors.count(key))
                    throw InvalidParameter(detail::cat(label(), "::restore: the state lacks '", key, "'"));
            const bool has_max = s.matrices.count("weight_max_exp_avg_sq") && s.vectors.count("bias_max_exp_avg_sq");
            if (params_.amsgrad != has_max)
                throw InvalidParameter(detail::cat(label(), "::restore: the state ", has_max ? "has" : "lacks",
                                                   " the amsgrad maxima but amsgrad is ",
                                                   params_.amsgrad ? "on" : "off"));
        }
        reset();
        steps_ = s.steps;
        if (empty) return;
        m_w_ = s.matrices.at("weight_exp_avg");
        v_w_ = s.matrices.at("weight_exp_avg_sq");
        m_b_ = s.vectors.at("bias_exp_avg");
        v_b_ = s.vectors.at("bias_exp_avg_sq");
        if (params_.amsgrad) {
            vmax_w_ = s.matrices.at("weight_max_exp_avg_sq");
            vmax_b_ = s.vectors.at("bias_max_exp_avg_sq");
        }
    }

private:
    /// The update of W's block [c0, c0 + nc) x [j0, j0 + nj) and b's entries [b0, b0 + nb).
    bool update_part(LinearSoftmax<Scalar>& model, Gradient<Scalar>& grad, double lr, Index c0, Index nc, Index j0,
                     Index nj, Index b0, Index nb, Scalar grad_scale) {
        if (m_w_.rows() != model.num_classes())
            throw InvalidParameter(
                detail::cat(label(), "::update_rows: call begin_step() first (it creates the moments)"));
        const FlushDenormals flush;
        auto w = model.weight().block(c0, j0, nc, nj);
        auto gw = grad.weight.block(c0, j0, nc, nj);
        auto b = model.bias().segment(b0, nb);
        auto gb = grad.bias.segment(b0, nb);
        if (grad_scale != Scalar(1)) {
            gw *= grad_scale;
            gb *= grad_scale;
        }
        const double bias_decay = params_.decay_bias ? params_.weight_decay : 0.0;
        if (params_.amsgrad) {
            update(w.array(), gw.array(), m_w_.block(c0, j0, nc, nj).array(), v_w_.block(c0, j0, nc, nj).array(),
                   vmax_w_.block(c0, j0, nc, nj).array(), params_.weight_decay, lr);
            update(b.array(), gb.array(), m_b_.segment(b0, nb).array(), v_b_.segment(b0, nb).array(),
                   vmax_b_.segment(b0, nb).array(), bias_decay, lr);
        } else {  // no maximum: pass v, which update() then leaves alone
            update(w.array(), gw.array(), m_w_.block(c0, j0, nc, nj).array(), v_w_.block(c0, j0, nc, nj).array(),
                   v_w_.block(c0, j0, nc, nj).array(), params_.weight_decay, lr);
            update(b.array(), gb.array(), m_b_.segment(b0, nb).array(), v_b_.segment(b0, nb).array(),
                   v_b_.segment(b0, nb).array(), bias_decay, lr);
        }
        bool finite = detail::all_finite(b.data(), b.size());
        for (Index c = 0; c < nc; ++c) finite = detail::all_finite(w.data() + c * w.outerStride(), nj) && finite;
        return finite;
    }

    static const char* label() { return Decoupled ? "AdamW" : "Adam"; }

    // Elementwise on Eigen array views of one class range; the order of operations and roundings
    // is PyTorch's (each line one of its tensor operations, scalars rounded to Scalar).
    template <typename P, typename G, typename M, typename V, typename VM>
    void update(P p, G g, M m, V v, VM vmax, double weight_decay, double lr) const {
        const auto beta1 = static_cast<Scalar>(params_.beta1), beta2 = static_cast<Scalar>(params_.beta2);
        const auto one_minus_beta1 = static_cast<Scalar>(1 - params_.beta1);
        const auto one_minus_beta2 = static_cast<Scalar>(1 - params_.beta2);
        if constexpr (Decoupled) {
            if (weight_decay != 0) p *= static_cast<Scalar>(1 - lr * weight_decay);
        } else if (weight_decay != 0) {
            g += static_cast<Scalar>(weight_decay) * p;
        }
        m = m * beta1 + one_minus_beta1 * g;
        v = v * beta2 + one_minus_beta2 * (g * g);
        const auto bc2 = static_cast<Scalar>(bias_correction2_sqrt_);
        const auto eps = static_cast<Scalar>(params_.eps);
        const auto step = static_cast<Scalar>(-step_size_);
        if (params_.amsgrad) {
            vmax = vmax.max(v);
            p += step * (m / (vmax.sqrt() / bc2 + eps));
        } else {
            p += step * (m / (v.sqrt() / bc2 + eps));
        }
    }

    Params params_;
    RowMatrix<Scalar> m_w_, v_w_, vmax_w_;
    Vector<Scalar> m_b_, v_b_, vmax_b_;
    long long steps_ = 0;
    double step_size_ = 0;              // lr / (1 - beta1^t) of the current step
    double bias_correction2_sqrt_ = 1;  // sqrt(1 - beta2^t) of the current step
};

}  // namespace detail

/// Adam (torch.optim.Adam): weight decay as an L2 term folded into the gradient.
template <typename Scalar>
class Adam : public detail::AdamBase<Scalar, AdamParams, false> {
public:
    static constexpr const char* name = "adam";
    using detail::AdamBase<Scalar, AdamParams, false>::AdamBase;
};

/// AdamW (torch.optim.AdamW): weight decay decoupled from the gradient, p *= 1 - lr * weight_decay.
template <typename Scalar>
class AdamW : public detail::AdamBase<Scalar, AdamWParams, true> {
public:
    static constexpr const char* name = "adamw";
    using detail::AdamBase<Scalar, AdamWParams, true>::AdamBase;
};

}  // namespace logreg
