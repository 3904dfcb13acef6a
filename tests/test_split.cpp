// Train / validation / test splits: disjoint parts covering every row, the requested sizes,
// class proportions within one row per class and part when stratified, the same split for the
// same seed, and clear errors for fractions that cannot be honoured.
#include "test_support.hpp"

#include <logreg/split.hpp>

#include <set>

using namespace logreg;

namespace {

/// Every row in exactly one part, each part sorted.
void require_partition(const ThreeWaySplit& s, Index n) {
    std::vector<int> seen(static_cast<std::size_t>(n), 0);
    for (const IndexVector* part : {&s.train, &s.validation, &s.test}) {
        for (Index i = 0; i < part->size(); ++i) {
            REQUIRE((*part)[i] >= 0);
            REQUIRE((*part)[i] < n);
            ++seen[static_cast<std::size_t>((*part)[i])];
            if (i > 0) REQUIRE((*part)[i - 1] < (*part)[i]);
        }
    }
    REQUIRE(std::all_of(seen.begin(), seen.end(), [](int k) { return k == 1; }));
}

Index count_class(const LabelVector& labels, const IndexVector& rows, int c) {
    Index k = 0;
    for (Index i = 0; i < rows.size(); ++i) k += labels[rows[i]] == c;
    return k;
}

}  // namespace

TEST_CASE("a random split has the requested sizes and covers every row once", "[split]") {
    const ThreeWaySplit s = train_validation_test_split(1000, 0.15, 0.25, 7);
    require_partition(s, 1000);
    REQUIRE(s.validation.size() == 150);
    REQUIRE(s.test.size() == 250);
    REQUIRE(s.train.size() == 600);
    const ThreeWaySplit again = train_validation_test_split(1000, 0.15, 0.25, 7);
    REQUIRE(again.test == s.test);
    REQUIRE(train_validation_test_split(1000, 0.15, 0.25, 8).test != s.test);
    const ThreeWaySplit none = train_validation_test_split(10, 0.0, 0.3, 1);
    REQUIRE(none.validation.size() == 0);
    REQUIRE(none.test.size() == 3);
}

TEST_CASE("a stratified split keeps every class's share of every part to within one row", "[split]") {
    auto gen = logreg_test::rng(81);
    for (int trial = 0; trial < 50; ++trial) {
        // Unbalanced classes of random sizes, some small.
        std::uniform_int_distribution<int> classes_d(2, 9), size_d(5, 60);  // n >= 10: no part rounds to empty
        std::uniform_real_distribution<double> frac(0.05, 0.45);
        const int classes = classes_d(gen);
        std::vector<std::int32_t> y;
        for (int c = 0; c < classes; ++c)
            for (int k = size_d(gen); k > 0; --k) y.push_back(c);
        std::shuffle(y.begin(), y.end(), gen);
        const LabelVector labels = Eigen::Map<const LabelVector>(y.data(), static_cast<Index>(y.size()));
        const double val = frac(gen), test = frac(gen);
        const auto n = labels.size();
        CAPTURE(trial, classes, n, val, test);
        const ThreeWaySplit s = stratified_split(labels, classes, val, test, 100 + static_cast<std::uint64_t>(trial));
        require_partition(s, n);
        REQUIRE(s.test.size() == static_cast<Index>(std::llround(static_cast<double>(n) * test)));
        REQUIRE(s.validation.size() == static_cast<Index>(std::llround(static_cast<double>(n) * val)));
        for (int c = 0; c < classes; ++c) {
            const auto n_c = static_cast<double>((labels.array() == c).count());
            CAPTURE(c, n_c);
            REQUIRE(std::abs(static_cast<double>(count_class(labels, s.test, c)) - n_c * test) < 1.0);
            REQUIRE(std::abs(static_cast<double>(count_class(labels, s.validation, c)) - n_c * val) < 1.0);
        }
    }
}

TEST_CASE("a stratified split is seeded and differs from the unstratified one", "[split]") {
    const Dataset<float> data = logreg_test::blobs<float>(300, 4, 3, 82);
    const ThreeWaySplit a = stratified_split(data, 0.2, 0.2, 5), b = stratified_split(data, 0.2, 0.2, 5);
    REQUIRE(a.train == b.train);
    REQUIRE(a.validation == b.validation);
    REQUIRE(a.test == b.test);
    const ThreeWaySplit c = stratified_split(data, 0.2, 0.2, 6);
    REQUIRE(c.test != a.test);
}

TEST_CASE("splits that cannot be honoured are refused with the reason", "[split][errors]") {
    using logreg_test::contains;
    REQUIRE_THROWS_WITH(train_validation_test_split(100, -0.1, 0.2, 1), contains("validation fraction is -0.1"));
    REQUIRE_THROWS_WITH(train_validation_test_split(100, 0.1, 1.0, 1), contains("test fraction is 1"));
    REQUIRE_THROWS_WITH(train_validation_test_split(100, 0.5, 0.5, 1), contains("leaves no training rows"));
    REQUIRE_THROWS_WITH(train_validation_test_split(10, 0.0, 0.01, 1), contains("test fraction of 0.01 of 10 rows"));
    const LabelVector lonely = (LabelVector(5) << 0, 0, 1, 0, 0).finished();
    REQUIRE_THROWS_WITH(stratified_split(lonely, 2, 0.0, 0.4, 1), contains("class 1 has a single row"));
    const LabelVector bad = (LabelVector(3) << 0, 3, 1).finished();
    REQUIRE_THROWS_WITH(stratified_split(bad, 2, 0.0, 0.4, 1), contains("label 3 of row 1"));
}
