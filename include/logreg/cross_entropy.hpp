// logreg/cross_entropy.hpp - softmax cross-entropy, loss and gradient from one function.
//
// The loss and dL/dlogits are computed together so that they cannot drift apart.
// The derivation is in docs/math.md. With class weights w, sample weights s and
// label smoothing e over C classes, the loss of sample i is
//   l_i = (1-e) w_{y_i} (-log p_{i,y_i}) + (e/C) sum_c w_c (-log p_{i,c})
// and the batch loss is sum_i s_i l_i / sum_i s_i w_{y_i}: exactly PyTorch's
// nn.CrossEntropyLoss(weight, label_smoothing, reduction='mean'), where a sample
// weight of k counts as k copies of the sample.
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/detail/kernels.hpp>
#include <logreg/error.hpp>
#include <logreg/types.hpp>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <utility>

namespace logreg {

/// Sums that make up a batch loss; the mean is loss_sum / weight_sum.
struct LossSums {
    double loss_sum = 0;    ///< sum_i s_i l_i
    double weight_sum = 0;  ///< sum_i s_i w_{y_i}: the number of samples when unweighted
    double mean() const { return loss_sum / weight_sum; }
    LossSums& operator+=(const LossSums& o) {
        loss_sum += o.loss_sum;
        weight_sum += o.weight_sum;
        return *this;
    }
};

/// Options of the cross-entropy loss.
struct CrossEntropyOptions {
    Vector<double> class_weights;  ///< empty: every class weighs 1
    double label_smoothing = 0.0;  ///< in [0, 1]

    void validate(Index num_classes) const {
        if (!(label_smoothing >= 0.0 && label_smoothing <= 1.0))
            throw InvalidParameter(
                detail::cat("label_smoothing is ", label_smoothing, "; it must satisfy 0 <= label_smoothing <= 1"));
        if (class_weights.size() != 0) {
            if (class_weights.size() != num_classes)
                throw ShapeError(
                    detail::cat("class_weights has ", class_weights.size(), " entries for ", num_classes, " classes"));
            for (Index c = 0; c < num_classes; ++c)
                if (!std::isfinite(class_weights[c]) || class_weights[c] < 0)
                    throw InvalidParameter(
                        detail::cat("class_weights[", c, "] is ", class_weights[c], "; it must be finite and >= 0"));
        }
    }
};

/// Mean softmax cross-entropy over a batch, fused with its gradient.
template <typename Scalar>
class CrossEntropy {
public:
    CrossEntropy() = default;
    /// Implicit: a CrossEntropyOptions is accepted wherever a CrossEntropy loss is expected.
    CrossEntropy(CrossEntropyOptions options) : options_(std::move(options)) {}  // NOLINT(google-explicit-constructor)

    const CrossEntropyOptions& options() const { return options_; }
    /// The loss protocol's check (logreg/loss.hpp): the options against the model's classes.
    void validate(Index num_classes) const { options_.validate(num_classes); }

    /// Loss sums of a batch; overwrites `z` (logits, B x C) with the *unnormalised*
    /// gradient s_i * dl_i/dz_i. Divide by the total weight_sum to get dL/dZ of the mean.
    /// `sample_weights` may be null (every sample weighs 1).
    /// This form lets a batch split across threads be normalised once by the whole batch's weight.
    template <typename Derived>
    LossSums accumulate(Eigen::MatrixBase<Derived>& z, const std::int32_t* labels, const double* sample_weights) const {
        static_assert(std::is_same_v<typename Derived::Scalar, Scalar>,
                      "CrossEntropy<Scalar>::accumulate: the logits must have the loss's Scalar type");
        const Index c = z.cols();
        if (options_.class_weights.size() != 0 && options_.class_weights.size() != c)
            throw ShapeError(
                detail::cat("class_weights has ", options_.class_weights.size(), " entries for ", c, " classes"));
        if constexpr (bool(Derived::Flags & Eigen::DirectAccessBit) && bool(Derived::Flags & Eigen::LvalueBit)) {
            // Rows as pointers: a row of 10 classes is too short for Eigen's vectorised
            // reductions and element-wise passes to pay for their set-up.
            Scalar* base = z.derived().data();
            const Index row_stride = Derived::IsRowMajor ? z.outerStride() : z.innerStride();
            const Index col_stride = Derived::IsRowMajor ? z.innerStride() : z.outerStride();
            if (col_stride == 1) return accumulate_rows<true>(base, row_stride, 1, z.rows(), c, labels, sample_weights);
            return accumulate_rows<false>(base, row_stride, col_stride, z.rows(), c, labels, sample_weights);
        } else {
            RowMatrix<Scalar> work = z;  // an expression without storage: work on a copy
            const LossSums sums = accumulate_rows<true>(work.data(), c, 1, work.rows(), c, labels, sample_weights);
            z = work;
            return sums;
        }
    }

    /// Mean loss of a batch; overwrites `z` with dL/dZ of that mean.
    template <typename Derived>
    double loss_and_gradient(Eigen::MatrixBase<Derived>& z, const LabelVector& labels,
                             const double* sample_weights = nullptr) const {
        check_labels(z.rows(), labels.size());
        const LossSums sums = accumulate(z, labels.data(), sample_weights);
        if (!(sums.weight_sum > 0)) throw DataError("CrossEntropy: the batch has zero total weight");
        z *= static_cast<Scalar>(1.0 / sums.weight_sum);
        return sums.mean();
    }

    /// Mean loss of a batch of logits (not modified).
    template <typename Derived>
    double loss(const Eigen::MatrixBase<Derived>& z, const LabelVector& labels,
                const double* sample_weights = nullptr) const {
        check_labels(z.rows(), labels.size());
        RowMatrix<Scalar> work = z;
        return loss_and_gradient(work, labels, sample_weights);
    }

private:
    /// accumulate() on rows of `b` x `c` logits at base[i * row_stride + k * col_stride]
    /// (col_stride is 1 when Contiguous).
    template <bool Contiguous>
    LossSums accumulate_rows(Scalar* base, Index row_stride, Index col_stride, Index b, Index c,
                             const std::int32_t* labels, const double* sample_weights) const {
        if constexpr (Contiguous) col_stride = 1;  // as a constant, so the compiler sees unit-stride rows
        const auto at = [&](Index i, Index k) -> Scalar& { return base[i * row_stride + k * col_stride]; };
        const bool weighted_classes = options_.class_weights.size() != 0;
        const auto class_weight = [&](Index k) { return weighted_classes ? options_.class_weights[k] : 1.0; };
        const double eps = options_.label_smoothing;
        const double w_all = weighted_classes ? options_.class_weights.sum() : static_cast<double>(c);
        LossSums sums;
        // Rows go in chunks of up to 64: first each row is shifted by its maximum (the stable
        // log-sum-exp), then the whole chunk is exponentiated in one vectorised pass (10 classes
        // are less than one SIMD packet per row), then losses and gradients are formed per row.
        constexpr Index chunk = 64;
        double shifted_y[chunk];         // z_y - m per row
        double weighted_shifted[chunk];  // sum_c w_c (z_c - m) per row, for label smoothing
        double row_sum[chunk], log_sum[chunk];
        for (Index first = 0; first < b; first += chunk) {
            const Index n = std::min(chunk, b - first);
            for (Index r = 0; r < n; ++r) {
                const Index i = first + r;
                const std::int32_t y = labels[i];
                if (y < 0 || y >= c)
                    throw DataError(
                        detail::cat("CrossEntropy: label ", y, " of batch row ", i, " is outside [0, ", c, ")"));
                Scalar m = at(i, 0);
                for (Index k = 1; k < c; ++k) m = std::max(m, at(i, k));
                for (Index k = 0; k < c; ++k) at(i, k) -= m;
                shifted_y[r] = static_cast<double>(at(i, y));
                weighted_shifted[r] = 0;
                if (eps > 0)
                    for (Index k = 0; k < c; ++k)
                        weighted_shifted[r] += class_weight(k) * static_cast<double>(at(i, k));
            }
            exp_rows<Contiguous>(base, row_stride, col_stride, first, n, c);
            // The row sums (>= 1: the maximum contributes exp(0)), then their logarithms in one
            // vectorised pass rather than one call of std::log per row.
            for (Index r = 0; r < n; ++r) {
                Scalar sum = 0;
                for (Index k = 0; k < c; ++k) sum += at(first + r, k);
                row_sum[r] = static_cast<double>(sum);
            }
            Eigen::Map<Eigen::ArrayXd>(log_sum, n) = Eigen::Map<const Eigen::ArrayXd>(row_sum, n).log();
            for (Index r = 0; r < n; ++r) {
                const Index i = first + r;
                const std::int32_t y = labels[i];
                const double s = sample_weights ? sample_weights[i] : 1.0;
                const double wy = class_weight(y);
                // -log p_c = lse_shift - (z_c - m): finite even when p_c underflows to 0.
                const double lse_shift = log_sum[r];
                double loss = (1.0 - eps) * wy * (lse_shift - shifted_y[r]);
                if (eps > 0) loss += eps / static_cast<double>(c) * (w_all * lse_shift - weighted_shifted[r]);
                sums.loss_sum += s * loss;
                sums.weight_sum += s * wy;
                // d l_i / d z = (1-e) w_y (p - onehot(y)) + (e/C) (w_all p - w), with p = row / sum
                const double a = s * ((1.0 - eps) * wy + eps / static_cast<double>(c) * w_all);
                const auto scale = static_cast<Scalar>(a / row_sum[r]);  // row_sum is exact: it was a Scalar
                for (Index k = 0; k < c; ++k) at(i, k) *= scale;
                at(i, y) -= static_cast<Scalar>(s * (1.0 - eps) * wy);
                if (eps > 0)
                    for (Index k = 0; k < c; ++k)
                        at(i, k) -= static_cast<Scalar>(s * eps / static_cast<double>(c) * class_weight(k));
            }
        }
        return sums;
    }

    /// exp() of rows [first, first + n), in place, with the active kernel set's exp (vectors as
    /// wide as the CPU has; Eigen's would be those of the build's flags): in one pass when the
    /// rows are contiguous, row by row otherwise. Every element gets the same instructions
    /// whatever its place, so any layout of the logits gives the same bits.
    template <bool Contiguous>
    static void exp_rows(Scalar* base, Index row_stride, Index col_stride, Index first, Index n, Index c) {
        const auto& set = detail::kernels::active<Scalar>();
        if constexpr (Contiguous) {
            if (row_stride == c) {
                set.exp_in_place(base + first * row_stride, n * c);
                return;
            }
            for (Index i = first; i < first + n; ++i) set.exp_in_place(base + i * row_stride, c);  // padded rows
        } else {
            constexpr Index part = 64;  // a strided row goes through a contiguous copy, part by part
            Scalar buffer[part];
            for (Index i = first; i < first + n; ++i)
                for (Index k0 = 0; k0 < c; k0 += part) {
                    const Index m = std::min(part, c - k0);
                    Scalar* row = base + i * row_stride + k0 * col_stride;
                    for (Index k = 0; k < m; ++k) buffer[k] = row[k * col_stride];
                    set.exp_in_place(buffer, m);
                    for (Index k = 0; k < m; ++k) row[k * col_stride] = buffer[k];
                }
        }
    }

    static void check_labels(Index rows, Index labels) {
        if (rows != labels)
            throw ShapeError(detail::cat("CrossEntropy: ", rows, " rows of logits but ", labels, " labels"));
        if (rows == 0) throw DataError("CrossEntropy: empty batch");
    }

    CrossEntropyOptions options_;
};

}  // namespace logreg
