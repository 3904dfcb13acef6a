// logreg/linear_softmax.hpp - the model: a linear layer followed by softmax.
#pragma once

#include <logreg/detail/finite.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/detail/random.hpp>
#include <logreg/detail/softmax.hpp>
#include <logreg/error.hpp>
#include <logreg/types.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

namespace logreg {

/// How the parameters start.
enum class Init { zeros, uniform };

inline Init parse_init(const std::string& s) {
    if (s == "zeros") return Init::zeros;
    if (s == "uniform") return Init::uniform;
    throw InvalidParameter("init '" + s + "' is unknown; use zeros or uniform");
}

/// Gradient of the loss with respect to the model's parameters (same shapes as the model).
template <typename Scalar>
struct Gradient {
    RowMatrix<Scalar> weight;  ///< classes x features
    Vector<Scalar> bias;       ///< classes

    void resize(Index classes, Index features) {
        weight.resize(classes, features);
        bias.resize(classes);
    }
    void set_zero() {
        weight.setZero();
        bias.setZero();
    }
};

/// Multinomial logistic regression: logits = X W^T + b, probabilities = softmax(logits).
///
/// W is stored classes x features, row-major, so each class's weights are contiguous
/// and a logit is one contiguous dot product with a sample's row.
template <typename Scalar>
class LinearSoftmax {
    static_assert(std::is_floating_point_v<Scalar>,
                  "logreg::LinearSoftmax: Scalar must be float, double or long double");

public:
    using scalar_type = Scalar;
    using Matrix = RowMatrix<Scalar>;
    using VectorType = Vector<Scalar>;

    LinearSoftmax() = default;

    /// A model with all parameters zero.
    LinearSoftmax(Index num_features, Index num_classes) { reset(num_features, num_classes, Init::zeros, 0); }

    /// `Init::uniform` draws W and b from U(-1/sqrt(D), 1/sqrt(D)), PyTorch's default for nn.Linear.
    LinearSoftmax(Index num_features, Index num_classes, Init init, std::uint64_t seed) {
        reset(num_features, num_classes, init, seed);
    }

    void reset(Index num_features, Index num_classes, Init init, std::uint64_t seed) {
        if (num_features < 1)
            throw InvalidParameter(detail::cat("LinearSoftmax: num_features is ", num_features, "; it must be >= 1"));
        if (num_classes < 2)
            throw InvalidParameter(detail::cat("LinearSoftmax: num_classes is ", num_classes, "; it must be >= 2"));
        weight_.setZero(num_classes, num_features);
        bias_.setZero(num_classes);
        if (init == Init::uniform) {
            const double bound = 1.0 / std::sqrt(static_cast<double>(num_features));
            detail::Rng rng(seed);
            auto draw = [&] { return static_cast<Scalar>((2.0 * detail::uniform01(rng) - 1.0) * bound); };
            for (Index c = 0; c < num_classes; ++c)
                for (Index j = 0; j < num_features; ++j) weight_(c, j) = draw();
            for (Index c = 0; c < num_classes; ++c) bias_[c] = draw();
        }
    }

    Index num_features() const { return weight_.cols(); }
    Index num_classes() const { return weight_.rows(); }

    Matrix& weight() { return weight_; }
    const Matrix& weight() const { return weight_; }
    VectorType& bias() { return bias_; }
    const VectorType& bias() const { return bias_; }

    /// True when every parameter is finite (one vectorised pass, see detail::all_finite).
    bool all_finite() const {
        return detail::all_finite(weight_.data(), weight_.size()) && detail::all_finite(bias_.data(), bias_.size());
    }

    /// Throws ShapeError unless `cols` matches the model's feature count.
    void check_features(Index cols, const char* what = "data") const {
        if (cols != num_features())
            throw ShapeError(
                detail::cat("LinearSoftmax: ", what, " has ", cols, " features but the model has ", num_features()));
    }

    /// out = X W^T + b, written into a caller's buffer (resized only if its shape differs).
    template <typename Derived, typename OutDerived>
    void logits(const Eigen::MatrixBase<Derived>& x, Eigen::PlainObjectBase<OutDerived>& out) const {
        check_features(x.cols());
        out.resize(x.rows(), num_classes());
        out.noalias() = x * weight_.transpose();
        out.rowwise() += bias_.transpose();
    }

    template <typename Derived>
    Matrix logits(const Eigen::MatrixBase<Derived>& x) const {
        Matrix out;
        logits(x, out);
        return out;
    }

    /// Row-wise softmax of the logits: each row is a probability distribution over classes.
    template <typename Derived>
    Matrix predict_proba(const Eigen::MatrixBase<Derived>& x) const {
        Matrix p = logits(x);
        detail::softmax_rows_inplace(p);
        return p;
    }

    /// The most probable class of each row (the first one on ties).
    template <typename Derived>
    LabelVector predict(const Eigen::MatrixBase<Derived>& x) const {
        const Matrix z = logits(x);
        LabelVector out(z.rows());
        for (Index i = 0; i < z.rows(); ++i) {
            Index arg = 0;
            z.row(i).maxCoeff(&arg);
            out[i] = static_cast<std::int32_t>(arg);
        }
        return out;
    }

    /// dW = dZ^T X and db = column sums of dZ, given dZ = dL/dlogits.
    template <typename XDerived, typename DzDerived>
    void backward(const Eigen::MatrixBase<XDerived>& x, const Eigen::MatrixBase<DzDerived>& dz,
                  Gradient<Scalar>& grad) const {
        grad.weight.noalias() = dz.transpose() * x;
        grad.bias.noalias() = dz.colwise().sum().transpose();
    }

private:
    Matrix weight_;
    VectorType bias_;
};

}  // namespace logreg
