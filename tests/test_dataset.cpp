// Dataset: views, shuffling, splits, preprocessing.
#include "test_support.hpp"

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace dataset_test {

using namespace logreg;

TEST_CASE("a batch is a view into the feature matrix, not a copy", "[dataset]") {
    auto gen = logreg_test::rng(1);
    Dataset<float> d(logreg_test::random_matrix<float>(10, 4, gen), logreg_test::random_labels(10, 3, gen), 3);
    auto b = d.batch(3, 4);
    REQUIRE(b.rows() == 4);
    REQUIRE(b.cols() == 4);
    REQUIRE(b.data() == d.features().data() + 3 * 4);  // same memory
    REQUIRE_THROWS_AS(d.batch(8, 4), InvalidParameter);
}

TEST_CASE("shuffled_indices is a seeded permutation", "[dataset]") {
    const IndexVector a = shuffled_indices(1000, 7), b = shuffled_indices(1000, 7), c = shuffled_indices(1000, 8);
    REQUIRE(a == b);
    REQUIRE(a != c);
    IndexVector sorted = a;
    std::sort(sorted.data(), sorted.data() + sorted.size());
    REQUIRE(sorted == iota(1000));
}

TEST_CASE("train_validation_split partitions the indices", "[dataset]") {
    const Split s = train_validation_split(100, 0.2, 3);
    REQUIRE(s.validation.size() == 20);
    REQUIRE(s.train.size() == 80);
    std::vector<Index> all(s.train.data(), s.train.data() + 80);
    all.insert(all.end(), s.validation.data(), s.validation.data() + 20);
    std::sort(all.begin(), all.end());
    for (Index i = 0; i < 100; ++i) REQUIRE(all[static_cast<std::size_t>(i)] == i);
    REQUIRE_THROWS_AS(train_validation_split(100, 1.0, 3), InvalidParameter);
    REQUIRE_THROWS_AS(train_validation_split(3, 0.01, 3), InvalidParameter);
}

TEST_CASE("subset copies rows, labels and weights in order", "[dataset]") {
    auto gen = logreg_test::rng(2);
    Dataset<double> d(logreg_test::random_matrix<double>(6, 2, gen), logreg_test::random_labels(6, 2, gen), 2);
    d.set_sample_weights(Vector<double>::LinSpaced(6, 1, 6));
    IndexVector idx(3);
    idx << 5, 0, 2;
    const auto s = d.subset(idx);
    REQUIRE(s.size() == 3);
    REQUIRE(s.features().row(0) == d.features().row(5));
    REQUIRE(s.labels()[2] == d.labels()[2]);
    REQUIRE(s.sample_weights()[0] == 6.0);
}

TEST_CASE("unit preprocessing maps uint8 pixels to 0..1 one batch at a time", "[dataset][preprocess]") {
    RowMatrix<std::uint8_t> px(3, 2);
    px << 0, 255, 51, 102, 255, 0;
    LabelVector y(3);
    y << 0, 1, 0;
    Dataset<std::uint8_t> d(px, y, 2);
    const auto pre = Preprocessor<float>::unit(2);
    RowMatrix<float> out(2, 2);
    const Index rows[2] = {2, 1};
    pre.gather(d.features(), rows, 2, out);
    REQUIRE(out(0, 0) == 1.0f);
    REQUIRE(out(0, 1) == 0.0f);
    REQUIRE(std::abs(out(1, 0) - 0.2f) < 1e-7f);
    REQUIRE(std::abs(out(1, 1) - 0.4f) < 1e-7f);
}

TEST_CASE("standardization uses training rows only and is reusable on other data", "[dataset][preprocess]") {
    RowMatrix<double> x(4, 2);
    x << 1, 10, 3, 10, 100, -5, 1000, 7;
    LabelVector y = LabelVector::Zero(4);
    y[1] = 1;
    Dataset<double> d(x, y, 2);
    IndexVector train(2);
    train << 0, 1;  // rows 2 and 3 are "test" rows and must not influence the statistics
    const auto pre = Preprocessor<double>::standard(d, train);
    REQUIRE(pre.offset()[0] == Approx(2.0));
    REQUIRE(pre.scale()[0] == Approx(1.0));  // std of {1, 3} is 1
    REQUIRE(pre.offset()[1] == Approx(10.0));
    REQUIRE(pre.scale()[1] == Approx(1.0));  // constant feature: scale 1, maps to 0
    const RowMatrix<double> t = pre.transform(x);
    REQUIRE(t(0, 0) == Approx(-1.0));
    REQUIRE(t(1, 0) == Approx(1.0));
    REQUIRE(t(3, 0) == Approx(998.0));
    REQUIRE(t(1, 1) == Approx(0.0));
}

}  // namespace dataset_test
