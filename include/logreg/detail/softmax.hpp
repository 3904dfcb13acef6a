// logreg/detail/softmax.hpp - numerically stable softmax / log-sum-exp on matrix rows.
#pragma once

#include <logreg/types.hpp>

#include <cmath>

namespace logreg::detail {

/// log(sum_j exp(z_j)) of one row, computed as m + log(sum exp(z_j - m)) with
/// m = max_j z_j, so that no exp overflows (logits of 1e4 stay finite).
template <typename RowDerived>
typename RowDerived::Scalar log_sum_exp(const Eigen::MatrixBase<RowDerived>& z) {
    using S = typename RowDerived::Scalar;
    const S m = z.maxCoeff();
    return m + std::log((z.array() - m).exp().sum());
}

/// Replaces each row of `z` by its softmax, in place.
template <typename Derived>
void softmax_rows_inplace(Eigen::MatrixBase<Derived>& z) {
    for (Index i = 0; i < z.rows(); ++i) {
        auto row = z.row(i);
        const auto m = row.maxCoeff();
        row.array() = (row.array() - m).exp();
        row /= row.sum();
    }
}

}  // namespace logreg::detail
