// CrossEntropy: finite-difference gradient checks, stability, weighting semantics.
#include "test_support.hpp"

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace cross_entropy_test {

using namespace logreg;

namespace {

struct Problem {
    RowMatrix<double> x;
    LabelVector y;
    LinearSoftmax<double> model;
};

Problem make_problem(std::uint64_t salt, Index n = 12, Index d = 6, int c = 4, double weight_scale = 1.0) {
    auto gen = logreg_test::rng(salt);
    Problem p{logreg_test::random_matrix<double>(n, d, gen, 2.0), logreg_test::random_labels(n, c, gen),
              LinearSoftmax<double>(d, c)};
    p.model.weight() = logreg_test::random_matrix<double>(c, d, gen, weight_scale);
    p.model.bias() = logreg_test::random_matrix<double>(c, 1, gen, weight_scale);
    return p;
}

double loss_at(const Problem& p, const CrossEntropy<double>& ce, const double* sw) {
    return ce.loss(p.model.logits(p.x), p.y, sw);
}

/// Analytic gradient vs central differences, relative to the gradient's scale.
void check_gradient(Problem p, const CrossEntropy<double>& ce, const double* sw = nullptr) {
    RowMatrix<double> z = p.model.logits(p.x);
    ce.loss_and_gradient(z, p.y, sw);
    Gradient<double> g;
    p.model.backward(p.x, z, g);

    const double h = 1e-5;
    Gradient<double> fd;
    fd.resize(p.model.num_classes(), p.model.num_features());
    for (Index c = 0; c < p.model.num_classes(); ++c) {
        for (Index j = 0; j < p.model.num_features(); ++j) {
            const double w = p.model.weight()(c, j);
            p.model.weight()(c, j) = w + h;
            const double up = loss_at(p, ce, sw);
            p.model.weight()(c, j) = w - h;
            const double down = loss_at(p, ce, sw);
            p.model.weight()(c, j) = w;
            fd.weight(c, j) = (up - down) / (2 * h);
        }
        const double b = p.model.bias()[c];
        p.model.bias()[c] = b + h;
        const double up = loss_at(p, ce, sw);
        p.model.bias()[c] = b - h;
        const double down = loss_at(p, ce, sw);
        p.model.bias()[c] = b;
        fd.bias[c] = (up - down) / (2 * h);
    }
    CHECK(logreg_test::rel_error(g.weight, fd.weight) < 1e-6);
    CHECK(logreg_test::rel_error(g.bias, fd.bias) < 1e-6);
}

}  // namespace

TEST_CASE("gradient matches finite differences", "[loss][gradient]") {
    SECTION("plain") {
        check_gradient(make_problem(20), CrossEntropy<double>());
    }
    SECTION("zero weights") {
        check_gradient(make_problem(21, 12, 6, 4, 0.0), CrossEntropy<double>());
    }
    SECTION("large logits") {
        check_gradient(make_problem(22, 12, 6, 4, 8.0), CrossEntropy<double>());
    }
    SECTION("class weights") {
        CrossEntropyOptions o;
        o.class_weights = Vector<double>(4);
        o.class_weights << 0.5, 2.0, 1.0, 3.0;
        check_gradient(make_problem(23), CrossEntropy<double>(o));
    }
    SECTION("label smoothing") {
        CrossEntropyOptions o;
        o.label_smoothing = 0.1;
        check_gradient(make_problem(24), CrossEntropy<double>(o));
    }
    SECTION("class weights, label smoothing and sample weights together") {
        CrossEntropyOptions o;
        o.class_weights = Vector<double>(4);
        o.class_weights << 1.5, 0.25, 1.0, 2.0;
        o.label_smoothing = 0.2;
        auto gen = logreg_test::rng(25);
        const RowMatrix<double> sw = logreg_test::random_matrix<double>(12, 1, gen).array().abs() + 0.1;
        check_gradient(make_problem(26), CrossEntropy<double>(o), sw.data());
    }
}

TEST_CASE("loss equals the textbook formula", "[loss]") {
    const Problem p = make_problem(27);
    const RowMatrix<double> z = p.model.logits(p.x);
    double ref = 0;
    for (Index i = 0; i < z.rows(); ++i) ref += -std::log(std::exp(z(i, p.y[i])) / z.row(i).array().exp().sum());
    ref /= static_cast<double>(z.rows());
    REQUIRE(CrossEntropy<double>().loss(z, p.y) == Approx(ref).epsilon(1e-13));
}

TEMPLATE_TEST_CASE("logits of +-1e4 give finite losses and gradients", "[loss][stability]", float, double) {
    RowMatrix<TestType> z(3, 3);
    z << TestType(1e4), TestType(-1e4), 0, TestType(-1e4), TestType(1e4), TestType(1e4), 0, 0, TestType(-1e4);
    LabelVector y(3);
    y << 1, 0, 2;  // every label is on a hugely unlikely class
    CrossEntropyOptions o;
    o.label_smoothing = 0.1;
    for (const auto& ce : {CrossEntropy<TestType>(), CrossEntropy<TestType>(o)}) {
        RowMatrix<TestType> g = z;
        const double loss = ce.loss_and_gradient(g, y);
        REQUIRE(std::isfinite(loss));
        REQUIRE(loss > 1e3);
        REQUIRE(g.allFinite());
    }
    // Sample 0: loss is 2e4 (its label's logit is 2e4 below the maximum).
    RowMatrix<TestType> one = z.topRows(1);
    LabelVector y1(1);
    y1 << 1;
    REQUIRE(CrossEntropy<TestType>().loss(one, y1) == Approx(2e4).epsilon(1e-6));
}

TEST_CASE("a sample weight of k equals k copies of the sample", "[loss][weights]") {
    const Problem p = make_problem(28, 5);
    CrossEntropyOptions o;
    o.class_weights = Vector<double>::LinSpaced(4, 0.5, 2.0);
    const CrossEntropy<double> ce(o);
    const double sw[5] = {1, 3, 0, 2, 1};
    RowMatrix<double> z = p.model.logits(p.x);
    const double weighted = ce.loss_and_gradient(z, p.y, sw);
    Gradient<double> gw;
    p.model.backward(p.x, z, gw);

    // The same batch with row i repeated sw[i] times.
    std::vector<Index> rows;
    for (Index i = 0; i < 5; ++i)
        for (int k = 0; k < static_cast<int>(sw[i]); ++k) rows.push_back(i);
    RowMatrix<double> xd(static_cast<Index>(rows.size()), p.x.cols());
    LabelVector yd(static_cast<Index>(rows.size()));
    for (std::size_t r = 0; r < rows.size(); ++r) {
        xd.row(static_cast<Index>(r)) = p.x.row(rows[r]);
        yd[static_cast<Index>(r)] = p.y[rows[r]];
    }
    RowMatrix<double> zd = p.model.logits(xd);
    const double duplicated = ce.loss_and_gradient(zd, yd);
    Gradient<double> gd;
    p.model.backward(xd, zd, gd);
    REQUIRE(weighted == Approx(duplicated).epsilon(1e-13));
    REQUIRE(logreg_test::rel_error(gw.weight, gd.weight) < 1e-13);
    REQUIRE(logreg_test::rel_error(gw.bias, gd.bias) < 1e-13);
}

TEST_CASE("gradient of the mean is (softmax - onehot) / B", "[loss]") {
    const Problem p = make_problem(29);
    RowMatrix<double> z = p.model.logits(p.x);
    RowMatrix<double> expected = p.model.predict_proba(p.x);
    for (Index i = 0; i < expected.rows(); ++i) expected(i, p.y[i]) -= 1;
    expected /= static_cast<double>(expected.rows());
    CrossEntropy<double>().loss_and_gradient(z, p.y);
    REQUIRE(logreg_test::rel_error(z, expected) < 1e-15);
}

}  // namespace cross_entropy_test
