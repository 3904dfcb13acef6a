// LinearSoftmax: shapes, initialisation, softmax properties.
#include "test_support.hpp"

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace linear_softmax_test {

using namespace logreg;

TEMPLATE_TEST_CASE("softmax rows sum to 1 and ignore a constant shift", "[model]", float, double) {
    auto gen = logreg_test::rng(10);
    LinearSoftmax<TestType> m(7, 4, Init::uniform, logreg_test::seed());
    const RowMatrix<TestType> x = logreg_test::random_matrix<TestType>(9, 7, gen, 3.0);
    const RowMatrix<TestType> p = m.predict_proba(x);
    const double tol = std::is_same_v<TestType, float> ? 1e-6 : 1e-14;
    for (Index i = 0; i < p.rows(); ++i) {
        REQUIRE(std::abs(static_cast<double>(p.row(i).sum()) - 1.0) < tol);
        REQUIRE((p.row(i).array() >= 0).all());
    }
    // Adding a constant to every logit (through the bias) leaves the probabilities unchanged.
    LinearSoftmax<TestType> shifted = m;
    shifted.bias().array() += TestType(5);
    REQUIRE(logreg_test::rel_error(shifted.predict_proba(x), p) < 100 * tol);
    REQUIRE(shifted.predict(x) == m.predict(x));
}

TEST_CASE("softmax is finite at extreme logits", "[model]") {
    RowMatrix<double> z(2, 3);
    z << 1e4, -1e4, 0, -1e4, -1e4, -1e4;
    detail::softmax_rows_inplace(z);
    REQUIRE(z.allFinite());
    REQUIRE(z(0, 0) == 1.0);
    REQUIRE(z(1, 0) == Approx(1.0 / 3));
}

TEST_CASE("uniform init follows PyTorch's nn.Linear bound and the seed", "[model]") {
    LinearSoftmax<double> a(784, 10, Init::uniform, 42), b(784, 10, Init::uniform, 42), c(784, 10, Init::uniform, 43);
    const double bound = 1.0 / std::sqrt(784.0);
    REQUIRE(a.weight().cwiseAbs().maxCoeff() <= bound);
    REQUIRE(a.weight().cwiseAbs().maxCoeff() > 0.9 * bound);  // fills the interval
    REQUIRE(a.bias().cwiseAbs().maxCoeff() <= bound);
    REQUIRE(std::abs(a.weight().mean()) < 0.05 * bound);
    REQUIRE(a.weight() == b.weight());
    REQUIRE(a.weight() != c.weight());
    LinearSoftmax<float> z(5, 3);
    REQUIRE(z.weight().isZero(0));
    REQUIRE(z.bias().isZero(0));
}

TEST_CASE("logits are X W^T + b", "[model]") {
    auto gen = logreg_test::rng(11);
    LinearSoftmax<double> m(3, 2, Init::uniform, 1);
    const RowMatrix<double> x = logreg_test::random_matrix<double>(4, 3, gen);
    const RowMatrix<double> z = m.logits(x);
    for (Index i = 0; i < 4; ++i)
        for (Index c = 0; c < 2; ++c) {
            double ref = m.bias()[c];
            for (Index j = 0; j < 3; ++j) ref += x(i, j) * m.weight()(c, j);
            REQUIRE(z(i, c) == Approx(ref).epsilon(1e-14));
        }
}

}  // namespace linear_softmax_test
