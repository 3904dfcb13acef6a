// logreg/split.hpp - seeded train / validation / test splits of row indices, random or stratified.
//
// Like scikit-learn's train_test_split (with and without `stratify=y`), made for three parts at once
// so that no row is in two of them. A stratified split gives each class its share of every part:
// the number of rows of class c in a part of fraction f is within one of f * n_c (largest-remainder
// rounding, ties to the lower class), and the part's size is round(f * n) as for a random split.
// The same seed gives the same split on every platform (logreg/detail/random.hpp).
#pragma once

#include <logreg/dataset.hpp>
#include <logreg/detail/format.hpp>
#include <logreg/detail/random.hpp>
#include <logreg/error.hpp>
#include <logreg/types.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace logreg {

/// Row indices of the three parts, each in increasing order.
struct ThreeWaySplit {
    IndexVector train;
    IndexVector validation;
    IndexVector test;
};

namespace detail {

inline void check_split_fractions(double validation, double test) {
    if (!(validation >= 0.0 && validation < 1.0))
        throw InvalidParameter(cat("split: validation fraction is ", validation, "; it must be in [0, 1)"));
    if (!(test >= 0.0 && test < 1.0))
        throw InvalidParameter(cat("split: test fraction is ", test, "; it must be in [0, 1)"));
    if (!(validation + test < 1.0))
        throw InvalidParameter(
            cat("split: validation ", validation, " + test ", test, " leaves no training rows; the sum must be < 1"));
}

/// round(fraction * n), refused when a requested part would be empty or take every row.
inline Index part_size(Index n, double fraction, const char* part) {
    const auto k = static_cast<Index>(std::llround(static_cast<double>(n) * fraction));
    if (fraction > 0 && k == 0)
        throw InvalidParameter(cat("split: a ", part, " fraction of ", fraction, " of ", n, " rows is empty"));
    return k;
}

/// Splits `total` over groups in proportion to `sizes`, each at most `room[g]`: floor of the exact
/// share first, then one more for the largest remainders (ties: the lower group).
inline std::vector<Index> apportion(const std::vector<Index>& sizes, const std::vector<Index>& room, Index total) {
    const Index n = std::accumulate(sizes.begin(), sizes.end(), Index{0});
    std::vector<Index> take(sizes.size(), 0), order(sizes.size());
    Index given = 0;
    for (std::size_t g = 0; g < sizes.size(); ++g) {
        take[g] = std::min(room[g], n > 0 ? sizes[g] * total / n : 0);
        given += take[g];
    }
    std::iota(order.begin(), order.end(), Index{0});
    std::sort(order.begin(), order.end(), [&](Index a, Index b) {
        const Index ra = n > 0 ? sizes[static_cast<std::size_t>(a)] * total % n : 0;
        const Index rb = n > 0 ? sizes[static_cast<std::size_t>(b)] * total % n : 0;
        return ra != rb ? ra > rb : a < b;
    });
    for (std::size_t k = 0; given < total && k < order.size(); ++k) {
        const auto g = static_cast<std::size_t>(order[k]);
        if (take[g] < room[g]) {
            ++take[g];
            ++given;
        }
    }
    for (std::size_t g = 0; given < total && g < take.size(); ++g)  // only when rounding met a full group
        while (given < total && take[g] < room[g]) {
            ++take[g];
            ++given;
        }
    return take;
}

inline IndexVector sorted(std::vector<Index> rows) {
    std::sort(rows.begin(), rows.end());
    return Eigen::Map<const IndexVector>(rows.data(), static_cast<Index>(rows.size()));
}

}  // namespace detail

/// A random split of rows 0..n-1: round(validation * n) rows for validation, round(test * n) for
/// test, the rest for training.
inline ThreeWaySplit train_validation_test_split(Index n, double validation, double test, std::uint64_t seed) {
    detail::check_split_fractions(validation, test);
    const Index n_test = detail::part_size(n, test, "test"), n_val = detail::part_size(n, validation, "validation");
    const IndexVector perm = shuffled_indices(n, seed);
    std::vector<Index> all(perm.data(), perm.data() + n);
    ThreeWaySplit s;
    s.test = detail::sorted({all.begin(), all.begin() + n_test});
    s.validation = detail::sorted({all.begin() + n_test, all.begin() + n_test + n_val});
    s.train = detail::sorted({all.begin() + n_test + n_val, all.end()});
    return s;
}

/// A stratified split of the rows of `labels` (classes 0..num_classes-1): every part holds each
/// class in proportion, to within one row. A class with a single row cannot be split and is refused.
inline ThreeWaySplit stratified_split(const LabelVector& labels, int num_classes, double validation, double test,
                                      std::uint64_t seed) {
    detail::check_split_fractions(validation, test);
    const Index n = labels.size();
    std::vector<std::vector<Index>> rows(static_cast<std::size_t>(std::max(num_classes, 0)));
    for (Index i = 0; i < n; ++i) {
        if (labels[i] < 0 || labels[i] >= num_classes)
            throw DataError(detail::cat("stratified_split: label ", labels[i], " of row ", i, " is outside [0, ",
                                        num_classes, ")"));
        rows[static_cast<std::size_t>(labels[i])].push_back(i);
    }
    std::vector<Index> sizes;
    for (std::size_t c = 0; c < rows.size(); ++c) {
        if (rows[c].size() == 1 && validation + test > 0)
            throw DataError(detail::cat("stratified_split: class ", c,
                                        " has a single row, which cannot be divided between the parts"));
        sizes.push_back(static_cast<Index>(rows[c].size()));
    }
    const Index n_test = detail::part_size(n, test, "test"), n_val = detail::part_size(n, validation, "validation");
    const std::vector<Index> test_take = detail::apportion(sizes, sizes, n_test);
    std::vector<Index> room(sizes.size());
    for (std::size_t c = 0; c < sizes.size(); ++c) room[c] = sizes[c] - test_take[c];
    const std::vector<Index> val_take = detail::apportion(sizes, room, n_val);

    detail::Rng rng(seed);
    std::vector<Index> train, val, tst;
    for (std::size_t c = 0; c < rows.size(); ++c) {
        std::vector<Index>& r = rows[c];
        detail::shuffle(r.data(), static_cast<std::int64_t>(r.size()), rng);
        const auto t = static_cast<std::ptrdiff_t>(test_take[c]), v = static_cast<std::ptrdiff_t>(val_take[c]);
        tst.insert(tst.end(), r.begin(), r.begin() + t);
        val.insert(val.end(), r.begin() + t, r.begin() + t + v);
        train.insert(train.end(), r.begin() + t + v, r.end());
    }
    return ThreeWaySplit{detail::sorted(std::move(train)), detail::sorted(std::move(val)),
                         detail::sorted(std::move(tst))};
}

/// The stratified split of a Dataset's rows.
template <typename Feature>
ThreeWaySplit stratified_split(const Dataset<Feature>& data, double validation, double test, std::uint64_t seed) {
    return stratified_split(data.labels(), data.num_classes(), validation, test, seed);
}

}  // namespace logreg
