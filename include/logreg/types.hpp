// logreg/types.hpp - the Eigen types used across the library.
#pragma once

#include <Eigen/Core>

#include <cstdint>

namespace logreg {

using Index = Eigen::Index;

/// Row-major dynamic matrix: one sample per row, so a mini-batch is a contiguous block.
template <typename T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Column vector of any element type.
template <typename T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

/// Class labels in [0, classes).
using LabelVector = Eigen::Matrix<std::int32_t, Eigen::Dynamic, 1>;

/// Index permutation / selection of samples.
using IndexVector = Eigen::Matrix<Index, Eigen::Dynamic, 1>;

}  // namespace logreg
