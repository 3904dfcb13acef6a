// logreg/dataset.hpp - features, labels and the index-based views training uses.
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/detail/huge_pages.hpp>
#include <logreg/detail/random.hpp>
#include <logreg/error.hpp>
#include <logreg/types.hpp>

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace logreg {

/// A labelled data set: one sample per row of a row-major feature matrix.
///
/// `Feature` may be a floating-point type or an integer type such as
/// `std::uint8_t`: MNIST kept as bytes takes a quarter of the memory of float32,
/// and the trainer converts one mini-batch at a time (see Preprocessor).
template <typename Feature>
class Dataset {
    static_assert(std::is_arithmetic_v<Feature>, "logreg::Dataset: Feature must be an arithmetic type");

public:
    using FeatureMatrix = RowMatrix<Feature>;
    /// A contiguous block of rows: a view, no copy.
    using ConstBatch = Eigen::Block<const FeatureMatrix, Eigen::Dynamic, Eigen::Dynamic, true>;

    Dataset() = default;

    /// Validates shapes, label range and (for floating-point features) finiteness.
    Dataset(FeatureMatrix features, LabelVector labels, int num_classes)
        : features_(std::move(features)), labels_(std::move(labels)), num_classes_(num_classes) {
        validate();
        // Training reads rows in shuffled order: huge pages spare a TLB miss per row.
        detail::advise_huge_pages(features_.data(), static_cast<std::size_t>(features_.size()) * sizeof(Feature));
    }

    Index size() const { return features_.rows(); }
    Index num_features() const { return features_.cols(); }
    int num_classes() const { return num_classes_; }
    bool empty() const { return size() == 0; }

    const FeatureMatrix& features() const { return features_; }
    const LabelVector& labels() const { return labels_; }

    /// Per-sample weights (empty when every sample counts once).
    const Vector<double>& sample_weights() const { return sample_weights_; }

    /// A weight of k makes a sample count as k copies of itself.
    void set_sample_weights(Vector<double> weights) {
        if (weights.size() != size())
            throw ShapeError(detail::cat("Dataset: ", weights.size(), " sample weights for ", size(), " samples"));
        for (Index i = 0; i < weights.size(); ++i)
            if (!std::isfinite(weights[i]) || weights[i] < 0)
                throw DataError(detail::cat("Dataset: sample weight ", i, " is ", weights[i],
                                            "; weights must be finite and >= 0"));
        sample_weights_ = std::move(weights);
    }

    /// Rows [begin, begin + count) as a view into the feature matrix.
    ConstBatch batch(Index begin, Index count) const {
        if (begin < 0 || count < 0 || begin + count > size())
            throw InvalidParameter(detail::cat("Dataset::batch: rows [", begin, ", ", begin + count,
                                               ") are outside [0, ", size(), ")"));
        return ConstBatch(features_, begin, 0, count, num_features());
    }

    /// A copy of the selected samples (and their weights), in the given order.
    Dataset subset(const IndexVector& indices) const {
        Dataset out;
        out.num_classes_ = num_classes_;
        out.features_.resize(indices.size(), num_features());
        detail::advise_huge_pages(out.features_.data(),
                                  static_cast<std::size_t>(out.features_.size()) * sizeof(Feature));
        out.labels_.resize(indices.size());
        for (Index i = 0; i < indices.size(); ++i) {
            check_index(indices[i]);
            out.features_.row(i) = features_.row(indices[i]);
            out.labels_[i] = labels_[indices[i]];
        }
        if (sample_weights_.size() > 0) {
            out.sample_weights_.resize(indices.size());
            for (Index i = 0; i < indices.size(); ++i) out.sample_weights_[i] = sample_weights_[indices[i]];
        }
        return out;
    }

private:
    void check_index(Index i) const {
        if (i < 0 || i >= size())
            throw InvalidParameter(detail::cat("Dataset: sample index ", i, " is outside [0, ", size(), ")"));
    }

    void validate() const {
        if (num_classes_ < 2)
            throw InvalidParameter(detail::cat("Dataset: num_classes is ", num_classes_, "; it must be >= 2"));
        if (labels_.size() != features_.rows())
            throw ShapeError(detail::cat("Dataset: ", features_.rows(), " feature rows but ", labels_.size(),
                                         " labels"));
        for (Index i = 0; i < labels_.size(); ++i)
            if (labels_[i] < 0 || labels_[i] >= num_classes_)
                throw DataError(detail::cat("Dataset: label ", labels_[i], " of sample ", i, " is outside [0, ",
                                            num_classes_, ")"));
        if constexpr (std::is_floating_point_v<Feature>) {
            for (Index r = 0; r < features_.rows(); ++r)
                for (Index c = 0; c < features_.cols(); ++c)
                    if (!std::isfinite(features_(r, c)))
                        throw DataError(detail::cat("Dataset: feature ", c, " of sample ", r, " is ",
                                                    features_(r, c), "; features must be finite"));
        }
    }

    FeatureMatrix features_;
    LabelVector labels_;
    Vector<double> sample_weights_;
    int num_classes_ = 0;
};

/// The identity permutation 0, 1, ..., n-1.
inline IndexVector iota(Index n) { return IndexVector::LinSpaced(n, 0, n - 1); }

/// A seeded random permutation of 0..n-1 (identical on every platform).
inline IndexVector shuffled_indices(Index n, std::uint64_t seed) {
    IndexVector idx = iota(n);
    detail::Rng rng(seed);
    detail::shuffle(idx.data(), n, rng);
    return idx;
}

/// Indices of a train / validation split.
struct Split {
    IndexVector train;
    IndexVector validation;
};

/// Shuffles 0..n-1 with `seed`, then puts round(n * validation_fraction) samples in validation.
inline Split train_validation_split(Index n, double validation_fraction, std::uint64_t seed) {
    if (!(validation_fraction >= 0.0 && validation_fraction < 1.0))
        throw InvalidParameter(detail::cat("validation_fraction is ", validation_fraction,
                                           "; it must satisfy 0 <= validation_fraction < 1"));
    const IndexVector perm = shuffled_indices(n, seed);
    const auto n_val = static_cast<Index>(std::llround(static_cast<double>(n) * validation_fraction));
    if (validation_fraction > 0 && (n_val == 0 || n_val == n))
        throw InvalidParameter(detail::cat("validation_fraction ", validation_fraction, " of ", n,
                                           " samples leaves an empty train or validation part"));
    Split s;
    s.validation = perm.head(n_val);
    s.train = perm.tail(n - n_val);
    return s;
}

}  // namespace logreg
