// The fused fast path (detail::BatchGradient and the kernels under it) against a plain
// double-precision reference written as straight Eigen expressions, on fresh random inputs:
// float and double models, uint8 and float features, with and without class weights, label
// smoothing and sample weights, odd shapes (scalar tails, class tiles), batch sizes from 1 to
// more than a thread's slice, and pools of 1, 2 and 3 threads (a step shares its rows only from
// 24 per thread: the batches of 100 and 240 rows run on several threads, the smaller ones on one).
// Every kernel set this CPU can run (logreg/kernel_isa.hpp: AVX-512, AVX2, SSE2, portable) is
// checked, whatever the CPU the tests run on.
#include "test_support.hpp"

#include <logreg/detail/batch_gradient.hpp>
#include <logreg/detail/thread_pool.hpp>

#include <cstdlib>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace kernels_test {

using namespace logreg;

namespace {

struct Reference {
    double loss = 0, weight_sum = 0;
    Eigen::MatrixXd dw;
    Eigen::VectorXd db;
};

/// loss and gradient of the mean weighted cross-entropy, the textbook way in double:
/// T = (1-e) w_y onehot(y) + (e/C) w (targets), P = softmax(X W^T + b),
/// G = diag(s) (rowsum(T) .* P - T) / sum_i s_i w_{y_i}, dW = G^T X, db = colsum(G).
template <typename Scalar, typename Feature>
Reference reference(const LinearSoftmax<Scalar>& model, const RowMatrix<Feature>& features, const LabelVector& labels,
                    const Vector<double>& sample_weights, const IndexVector& rows, const Preprocessor<Scalar>& pre,
                    const CrossEntropyOptions& ce) {
    const Index b = rows.size(), c = model.num_classes(), d = model.num_features();
    Eigen::MatrixXd x(b, d);
    for (Index i = 0; i < b; ++i)
        x.row(i) = (features.row(rows[i]).template cast<double>() - pre.offset().template cast<double>().transpose())
                       .cwiseProduct(pre.scale().template cast<double>().transpose());
    const Eigen::MatrixXd w = model.weight().template cast<double>();
    const Eigen::VectorXd bias = model.bias().template cast<double>();
    Eigen::MatrixXd z = x * w.transpose();
    z.rowwise() += bias.transpose();
    const Eigen::VectorXd zmax = z.rowwise().maxCoeff();
    const Eigen::MatrixXd e = (z.colwise() - zmax).array().exp().matrix();
    const Eigen::MatrixXd p = e.array().colwise() / e.rowwise().sum().array();
    const Eigen::MatrixXd logp = (z.colwise() - zmax).array().colwise() - e.rowwise().sum().array().log();
    const Eigen::VectorXd cw = ce.class_weights.size() ? ce.class_weights : Eigen::VectorXd::Ones(c);
    const double eps = ce.label_smoothing;
    Eigen::MatrixXd t = (eps / static_cast<double>(c)) * Eigen::VectorXd::Ones(b) * cw.transpose();
    Eigen::VectorXd s(b), wy(b);
    for (Index i = 0; i < b; ++i) {
        t(i, labels[rows[i]]) += (1 - eps) * cw[labels[rows[i]]];
        s[i] = sample_weights.size() ? sample_weights[rows[i]] : 1.0;
        wy[i] = cw[labels[rows[i]]];
    }
    Reference r;
    r.weight_sum = s.dot(wy);
    r.loss = -(s.asDiagonal() * t.cwiseProduct(logp)).sum() / r.weight_sum;
    const Eigen::MatrixXd g =
        s.asDiagonal() * (p.array().colwise() * t.rowwise().sum().array() - t.array()).matrix() / r.weight_sum;
    r.dw = g.transpose() * x;
    r.db = g.colwise().sum().transpose();
    return r;
}

template <typename Scalar>
double tolerance() {
    return std::is_same_v<Scalar, float> ? 2e-5 : 1e-12;
}

template <typename Scalar, typename Feature>
RowMatrix<Feature> random_features(Index n, Index d, std::mt19937_64& gen) {
    RowMatrix<Feature> x(n, d);
    if constexpr (std::is_same_v<Feature, std::uint8_t>) {
        std::uniform_int_distribution<int> px(0, 255);
        for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<std::uint8_t>(px(gen));
    } else {
        x = logreg_test::random_matrix<Feature>(n, d, gen, 3.0);
    }
    return x;
}

/// Runs every case for one model type and feature type; returns the largest relative error seen.
template <typename Scalar, typename Feature>
double check_all(std::uint64_t salt) {
    auto gen = logreg_test::rng(salt);
    double worst = 0;
    struct Shape {
        Index d, c;
    };
    for (const Shape shape : {Shape{784, 10}, Shape{37, 3}, Shape{21, 23}, Shape{1, 2}}) {
        const Index n = 240, d = shape.d, c = shape.c;
        const RowMatrix<Feature> features = random_features<Scalar, Feature>(n, d, gen);
        const LabelVector labels = logreg_test::random_labels(n, static_cast<int>(c), gen);
        LinearSoftmax<Scalar> model(d, c, Init::uniform, salt);
        model.bias() = logreg_test::random_matrix<Scalar>(c, 1, gen, 0.5);
        // Bytes: MNIST's unit scaling for the MNIST shape, otherwise offsets in the bytes' range.
        const Preprocessor<Scalar> pre =
            std::is_same_v<Feature, std::uint8_t>
                ? (d == 784 ? Preprocessor<Scalar>::unit(d)
                            : Preprocessor<Scalar>(
                                  Normalization::standard,
                                  ((logreg_test::random_matrix<Scalar>(d, 1, gen, 0.5).array() + Scalar(0.5)) * 255)
                                      .matrix(),
                                  (logreg_test::random_matrix<Scalar>(d, 1, gen, 0.5).array() + Scalar(1)).matrix() /
                                      Scalar(128)))
                : Preprocessor<Scalar>(
                      Normalization::standard, logreg_test::random_matrix<Scalar>(d, 1, gen, 0.5),
                      (logreg_test::random_matrix<Scalar>(d, 1, gen, 0.5).array() + Scalar(1)).matrix());
        for (int variant = 0; variant < 4; ++variant) {
            CrossEntropyOptions ce;
            Vector<double> sample_weights;
            if (variant & 1) {
                ce.class_weights = (Eigen::VectorXd::Random(c).array() + 1.5).matrix();
                ce.label_smoothing = 0.1;
            }
            if (variant & 2) sample_weights = (Eigen::VectorXd::Random(n).array() + 1.0).matrix();  // some near 0
            const CrossEntropy<Scalar> loss(ce);
            for (const Index b : {Index{1}, Index{2}, Index{7}, Index{16}, Index{33}, Index{100}, Index{240}}) {
                const IndexVector rows = shuffled_indices(n, salt + static_cast<std::uint64_t>(b)).head(b);
                const Reference ref = reference(model, features, labels, sample_weights, rows, pre, ce);
                for (int threads : {1, 2, 3}) {
                    CAPTURE(d, c, variant, b, threads);
                    detail::BatchGradient<Scalar> engine;
                    detail::ThreadPool pool(threads);
                    engine.reserve(b, d, c, threads);
                    const LossSums sums =
                        engine.compute(model, loss, features, labels, sample_weights, rows.data(), b, pre, pool);
                    const double tol = tolerance<Scalar>();
                    REQUIRE(sums.weight_sum == Approx(ref.weight_sum).epsilon(1e-12));
                    const double loss_err = std::abs(sums.mean() - ref.loss) / std::max(1.0, std::abs(ref.loss));
                    const double dw_err = logreg_test::rel_error(engine.gradient().weight, ref.dw);
                    const double db_err = logreg_test::rel_error(engine.gradient().bias, ref.db);
                    CHECK(loss_err < tol);
                    CHECK(dw_err < tol);
                    CHECK(db_err < tol);
                    worst = std::max({worst, loss_err, dw_err, db_err});

                    // A fixed thread count gives bitwise the same result every time.
                    const RowMatrix<Scalar> first = engine.gradient().weight;
                    const Vector<Scalar> first_bias = engine.gradient().bias;
                    engine.compute(model, loss, features, labels, sample_weights, rows.data(), b, pre, pool);
                    CHECK((engine.gradient().weight.array() == first.array()).all());

                    // Bytes read by the kernels or converted into a copy first: the same bits,
                    // whichever the set uses by default.
                    if constexpr (std::is_same_v<Feature, std::uint8_t>) {
                        using Bytes = typename detail::BatchGradient<Scalar>::Bytes;
                        for (const Bytes bytes : {Bytes::in_kernels, Bytes::converted}) {
                            CAPTURE(bytes == Bytes::in_kernels);
                            detail::BatchGradient<Scalar> forced;
                            forced.reserve(b, d, c, threads);
                            forced.set_bytes(bytes);
                            const LossSums forced_sums = forced.compute(model, loss, features, labels, sample_weights,
                                                                        rows.data(), b, pre, pool);
                            CHECK(forced_sums.loss_sum == sums.loss_sum);
                            CHECK(forced_sums.weight_sum == sums.weight_sum);
                            CHECK((forced.gradient().weight.array() == first.array()).all());
                            CHECK((forced.gradient().bias.array() == first_bias.array()).all());
                        }
                    }
                }
            }
        }
    }
    return worst;
}

}  // namespace

TEMPLATE_TEST_CASE("fused batch gradient matches a double-precision reference with every kernel set", "[kernels]",
                   float, double) {
    for (const Isa isa : supported_isas()) {
        CAPTURE(isa_name(isa));
        const detail::ScopedKernelIsa use(isa);
        const double u8 = check_all<TestType, std::uint8_t>(900);
        const double fl = check_all<TestType, float>(901);
        std::cout << "test_kernels: " << isa_name(isa) << " kernels, max relative error vs the double reference ("
                  << sizeof(TestType) * 8 << "-bit model): uint8 features " << u8 << ", float features " << fl << "\n";
    }
}

TEMPLATE_TEST_CASE("every kernel set's logits, weight gradient and byte conversion match Eigen", "[kernels]", float,
                   double) {
    auto gen = logreg_test::rng(902);
    for (const Isa isa : supported_isas()) {
        const auto& set = detail::kernels::kernel_set<TestType>(isa);
        REQUIRE(set.isa == isa);
        for (const Index d : {Index{1}, Index{15}, Index{16}, Index{17}, Index{33}, Index{784}})
            for (const Index c : {Index{2}, Index{5}, Index{10}, Index{13}, Index{33}})
                for (const Index b : {Index{1}, Index{3}, Index{4}, Index{5}, Index{16}, Index{19}}) {
                    CAPTURE(isa_name(isa), d, c, b);
                    const RowMatrix<TestType> x = logreg_test::random_matrix<TestType>(b, d, gen);
                    const RowMatrix<TestType> w = logreg_test::random_matrix<TestType>(c, d, gen);
                    const Vector<TestType> bias = logreg_test::random_matrix<TestType>(c, 1, gen);
                    const RowMatrix<TestType> dz = logreg_test::random_matrix<TestType>(b, c, gen);
                    RowMatrix<TestType> z(b, c);
                    set.logits(x.data(), d, b, w.data(), d, c, d, bias.data(), z.data(), c);
                    Eigen::MatrixXd zref = x.template cast<double>() * w.template cast<double>().transpose();
                    zref.rowwise() += bias.template cast<double>().transpose();
                    CHECK(logreg_test::rel_error(z, zref) < 100 * tolerance<TestType>());
                    RowMatrix<TestType> g = RowMatrix<TestType>::Ones(c, d);  // the kernel adds to g
                    set.add_weight_gradient(x.data(), d, b, dz.data(), c, c, g.data(), d, d, false);
                    const Eigen::MatrixXd gref = dz.template cast<double>().transpose() * x.template cast<double>();
                    CHECK(logreg_test::rel_error(g, (gref.array() + 1.0).matrix()) < 100 * tolerance<TestType>());
                    g.setConstant(std::numeric_limits<TestType>::quiet_NaN());  // overwrite never reads g
                    set.add_weight_gradient(x.data(), d, b, dz.data(), c, c, g.data(), d, d, true);
                    CHECK(logreg_test::rel_error(g, gref) < 100 * tolerance<TestType>());
                }
        // Bytes to Scalar: exact (every byte and the products are representable), any length.
        for (const Index d : {Index{1}, Index{7}, Index{16}, Index{31}, Index{784}}) {
            CAPTURE(isa_name(isa), d);
            const RowMatrix<std::uint8_t> bytes = random_features<TestType, std::uint8_t>(1, d, gen);
            const Vector<TestType> offset = Vector<TestType>::LinSpaced(d, 0, 64),
                                   scale = Vector<TestType>::Constant(d, 0.25);
            Vector<TestType> out(d);
            set.convert_bytes(bytes.data(), d, offset.data(), scale.data(), out.data());
            for (Index j = 0; j < d; ++j)
                REQUIRE(out[j] == (static_cast<TestType>(bytes(0, j)) - offset[j]) * scale[j]);
        }
    }
}

TEMPLATE_TEST_CASE("every kernel set's byte kernels give bitwise what its Scalar kernels give on the converted rows",
                   "[kernels]", float, double) {
    auto gen = logreg_test::rng(904);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (const Isa isa : supported_isas()) {
        const auto& set = detail::kernels::kernel_set<TestType>(isa);
        for (const Index d : {Index{1}, Index{15}, Index{16}, Index{17}, Index{33}, Index{100}, Index{784}})
            for (const Index c : {Index{2}, Index{5}, Index{10}, Index{13}})
                for (const Index b : {Index{1}, Index{4}, Index{5}, Index{6}, Index{19}})
                    for (const bool shifted : {true, false}) {
                        // shifted = false: every offset 0, which the byte kernels take as a null
                        // offset (scaling only) and must give the same bits as subtracting the zeros.
                        CAPTURE(isa_name(isa), d, c, b, shifted);
                        // Rows picked from a larger matrix in shuffled order, as a batch reads them.
                        const RowMatrix<std::uint8_t> data = random_features<TestType, std::uint8_t>(3 * b + 2, d, gen);
                        const IndexVector order = shuffled_indices(data.rows(), static_cast<std::uint64_t>(d * c + b));
                        Vector<TestType> offset(d), scale(d);
                        for (Index j = 0; j < d; ++j) {
                            offset[j] = shifted ? static_cast<TestType>(255 * u(gen)) : TestType(0);
                            scale[j] = static_cast<TestType>(0.001 + u(gen) / 64);
                        }
                        // Each row in a buffer of exactly d bytes, so that ASan sees a read past its end.
                        std::vector<std::vector<std::uint8_t>> own(static_cast<std::size_t>(b));
                        std::vector<const std::uint8_t*> rows(static_cast<std::size_t>(b));
                        const TestType* byte_offset = shifted ? offset.data() : nullptr;
                        RowMatrix<TestType> x(b, d);
                        Vector<TestType> converted(d);
                        for (Index i = 0; i < b; ++i) {
                            const std::uint8_t* src = data.data() + order[i] * d;
                            own[static_cast<std::size_t>(i)].assign(src, src + d);
                            rows[static_cast<std::size_t>(i)] = own[static_cast<std::size_t>(i)].data();
                            set.convert_bytes(rows[static_cast<std::size_t>(i)], d, offset.data(), scale.data(),
                                              x.data() + i * d);
                            set.convert_bytes(rows[static_cast<std::size_t>(i)], d, byte_offset, scale.data(),
                                              converted.data());
                            REQUIRE((converted.transpose().array() == x.row(i).array()).all());
                        }
                        const RowMatrix<TestType> w = logreg_test::random_matrix<TestType>(c, d, gen);
                        const Vector<TestType> bias = logreg_test::random_matrix<TestType>(c, 1, gen);
                        const RowMatrix<TestType> dz = logreg_test::random_matrix<TestType>(b, c, gen);
                        RowMatrix<TestType> z(b, c), zb(b, c);
                        set.logits(x.data(), d, b, w.data(), d, c, d, bias.data(), z.data(), c);
                        set.logits_bytes(rows.data(), b, byte_offset, scale.data(), w.data(), d, c, d, bias.data(),
                                         zb.data(), c);
                        REQUIRE((zb.array() == z.array()).all());
                        // The whole width, and a column range starting off a vector boundary (as the
                        // engine's column chunks do), adding to g and overwriting it.
                        const Index j0 = d > 8 ? 3 : 0, nj = d - j0 - (d > 16 ? 5 : 0);
                        for (const bool overwrite : {false, true})
                            for (const Index first : {Index{0}, j0}) {
                                const Index width = first == 0 ? d : nj;
                                CAPTURE(overwrite, first, width);
                                RowMatrix<TestType> g = RowMatrix<TestType>::Constant(c, d, TestType(0.5)), gb = g;
                                set.add_weight_gradient(x.data() + first, d, b, dz.data(), c, c, g.data() + first, d,
                                                        width, overwrite);
                                set.add_weight_gradient_bytes(rows.data(), first, b, byte_offset, scale.data(),
                                                              dz.data(), c, c, gb.data() + first, d, width, overwrite);
                                REQUIRE((gb.array() == g.array()).all());
                            }
                    }
    }
}

TEMPLATE_TEST_CASE("every kernel set's SGD step matches the double-precision update and reports non-finite values",
                   "[kernels]", float, double) {
    auto gen = logreg_test::rng(905);
    for (const Isa isa : supported_isas()) {
        const auto& set = detail::kernels::kernel_set<TestType>(isa);
        for (const Index n : {Index{1}, Index{3}, Index{15}, Index{16}, Index{17}, Index{100}, Index{784}}) {
            CAPTURE(isa_name(isa), n);
            const Vector<TestType> p0 = logreg_test::random_matrix<TestType>(n, 1, gen);
            const Vector<TestType> g = logreg_test::random_matrix<TestType>(n, 1, gen);
            const TestType scale = TestType(1) / TestType(64), rate = TestType(0.1);
            Vector<TestType> p = p0;
            REQUIRE(set.sgd_step(p.data(), g.data(), n, scale, rate));
            // One rounding of the product g * scale, then at most two more: within a few ulps of
            // the exact update (p and the step are of the same size here, so no cancellation).
            for (Index i = 0; i < n; ++i) {
                const double exact =
                    static_cast<double>(p0[i]) -
                    static_cast<double>(rate) * (static_cast<double>(g[i]) * static_cast<double>(scale));
                CHECK(std::abs(static_cast<double>(p[i]) - exact) <=
                      4 * std::numeric_limits<TestType>::epsilon() * std::max(1.0, std::abs(exact)));
            }
            // A non-finite result anywhere, in the vector part or the tail, is reported: from a
            // non-finite gradient, a non-finite parameter, or finite values whose update overflows.
            const TestType huge = std::numeric_limits<TestType>::max();
            for (const Index bad : {Index{0}, n / 2, n - 1}) {
                for (const TestType poison :
                     {std::numeric_limits<TestType>::infinity(), std::numeric_limits<TestType>::quiet_NaN()}) {
                    CAPTURE(bad, poison);
                    Vector<TestType> q = p0, gq = g;
                    gq[bad] = poison;
                    CHECK_FALSE(set.sgd_step(q.data(), gq.data(), n, scale, rate));
                    q = p0;
                    q[bad] = poison;
                    CHECK_FALSE(set.sgd_step(q.data(), g.data(), n, scale, rate));
                }
                CAPTURE(bad);
                Vector<TestType> q = p0, gq = g;
                q[bad] = huge;
                gq[bad] = -huge;
                CHECK_FALSE(set.sgd_step(q.data(), gq.data(), n, TestType(1), TestType(1)));
                CHECK(q[bad] == std::numeric_limits<TestType>::infinity());
            }
        }
    }
}

/// Whether `got` is within 2 ulps of exp(x) rounded to Scalar: units of the last place of that,
/// or of the smallest subnormal below the normal range; +inf where exp(x) is within 2 ulps of
/// overflowing or beyond.
template <typename Scalar>
bool exp_within_2_ulps(Scalar got, Scalar x) {
    using Limits = std::numeric_limits<Scalar>;
    const long double exact = std::exp(static_cast<long double>(x));
    const long double largest = Limits::max();
    if (got == Limits::infinity()) return exact >= largest * (1 - 2 * static_cast<long double>(Limits::epsilon()));
    if (!std::isfinite(got)) return false;
    const auto rounded = static_cast<Scalar>(std::min(exact, largest));
    const long double unit = rounded < Limits::min()
                                 ? static_cast<long double>(Limits::denorm_min())
                                 : static_cast<long double>(std::nextafter(rounded, Limits::infinity())) - rounded;
    return std::abs(static_cast<long double>(got) - exact) <= 2 * unit;
}

TEMPLATE_TEST_CASE("every kernel set's exp is within 2 ulps of the exact value, whatever the element's place",
                   "[kernels][exp]", float, double) {
    using Limits = std::numeric_limits<TestType>;
    auto gen = logreg_test::rng(907);
    // From below where exp underflows to 0 to above where it overflows (float: -103.3 and
    // 88.7), the range of softmax's shifted logits, values near 0, and a few steps either side
    // of both thresholds.
    const double lo = std::is_same_v<TestType, float> ? -106 : -750, hi = std::is_same_v<TestType, float> ? 90 : 712;
    std::uniform_real_distribution<double> wide(lo, hi), shifted_logits(-30, 0), near_zero(-1e-3, 1e-3);
    std::vector<TestType> values;
    for (int i = 0; i < 10000; ++i)
        for (auto* dist : {&wide, &shifted_logits, &near_zero}) values.push_back(static_cast<TestType>((*dist)(gen)));
    for (const TestType edge : {std::log(Limits::max()), std::log(Limits::denorm_min())}) {
        TestType v = edge;
        for (int i = 0; i < 20; ++i) v = std::nextafter(v, -Limits::infinity());
        for (int i = 0; i < 41; ++i, v = std::nextafter(v, Limits::infinity())) values.push_back(v);
    }
    const auto n = static_cast<Index>(values.size());  // not a multiple of any width: the tail too
    const Vector<TestType> x = Eigen::Map<const Vector<TestType>>(values.data(), n);
    for (const Isa isa : supported_isas()) {
        CAPTURE(isa_name(isa));
        const auto& set = detail::kernels::kernel_set<TestType>(isa);
        Vector<TestType> y = x;
        set.exp_in_place(y.data(), n);
        Index outside = 0;
        for (Index i = 0; i < n; ++i)
            if (!exp_within_2_ulps(y[i], x[i])) {
                if (outside++ < 5) FAIL_CHECK("exp(" << x[i] << ") gave " << y[i]);
            }
        CHECK(outside == 0);
        // One element at a time, at every offset of a vector: the same bits as in the long array.
        for (Index i = 0; i < 40; ++i) {
            TestType one[1] = {x[i]};
            set.exp_in_place(one, 1);
            CHECK(one[0] == y[i]);
        }
        Vector<TestType> part = x.segment(5, 101);
        set.exp_in_place(part.data(), part.size());
        CHECK((part.array() == y.segment(5, 101).array()).all());
        // Exact at 0; +inf and 0 at the infinities and far beyond the range; NaN stays NaN.
        TestType special[] = {TestType(0),         TestType(-0.0),  Limits::infinity(), -Limits::infinity(),
                              Limits::quiet_NaN(), TestType(-2000), TestType(2000)};
        set.exp_in_place(special, 7);
        CHECK(special[0] == 1);
        CHECK(special[1] == 1);
        CHECK(special[2] == Limits::infinity());
        CHECK(special[3] == 0);
        CHECK(std::isnan(special[4]));
        CHECK(special[5] == 0);
        CHECK(special[6] == Limits::infinity());
    }
}

TEMPLATE_TEST_CASE("training with each kernel set is bitwise reproducible and agrees with the other sets", "[kernels]",
                   float, double) {
    auto gen = logreg_test::rng(903);
    const Index n = 600, d = 50, c = 7;
    Dataset<std::uint8_t> data(random_features<TestType, std::uint8_t>(n, d, gen),
                               logreg_test::random_labels(n, static_cast<int>(c), gen), static_cast<int>(c));
    const auto pre = Preprocessor<TestType>::unit(d);
    for (const int threads : {1, 2}) {
        TrainOptions o;
        o.epochs = 3;
        o.batch_size = 64;
        o.threads = threads;
        o.sgd.lr = 0.1;
        o.sgd.momentum = 0.9;
        const auto train = [&] {
            Trainer<TestType> trainer(LinearSoftmax<TestType>(d, c, Init::uniform, 5), o);
            trainer.fit(data, pre);
            return trainer.model().weight();
        };
        RowMatrix<TestType> first;
        for (const Isa isa : supported_isas()) {
            CAPTURE(threads, isa_name(isa));
            const detail::ScopedKernelIsa use(isa);
            const RowMatrix<TestType> w = train();
            CHECK((train().array() == w.array()).all());  // the same set and threads: the same bits
            if (first.size() == 0)
                first = w;
            else  // another set rounds differently (SSE2 has no fused multiply-add): close, not equal
                CHECK(logreg_test::rel_error(w, first) < (std::is_same_v<TestType, float> ? 1e-4 : 1e-12));
        }
    }
}

TEST_CASE("LOGREG_ISA's sets: the best first, the portable set always there", "[kernels]") {
    const std::vector<Isa> isas = supported_isas();
    REQUIRE(isas.back() == Isa::portable);
    for (std::size_t i = 1; i < isas.size(); ++i) CHECK(static_cast<int>(isas[i - 1]) > static_cast<int>(isas[i]));
    for (const Isa isa : isas) {
        const detail::ScopedKernelIsa use(isa);
        CHECK(detail::kernels::active<float>().isa == isa);  // what a training step runs
    }
    // LOGREG_ISA as read at start-up (kernel_isa() reads it once; read_isa_request() each time).
    const char* saved = std::getenv("LOGREG_ISA");
    const std::string previous = saved ? saved : "";
    const auto request = [](const char* value) {
        ::setenv("LOGREG_ISA", value, 1);
        return detail::read_isa_request();
    };
    CHECK(request("auto").isa == isas.front());
    CHECK(request("auto").error.empty());
    for (const Isa isa : isas) {
        const detail::IsaRequest r = request(isa_name(isa));
        CHECK(r.error.empty());
        CHECK(r.isa == isa);
    }
    CHECK_THAT(request("avx3").error, logreg_test::contains("LOGREG_ISA=avx3: expected auto, avx512"));
    if (isas.front() != Isa::avx512)  // a set this CPU cannot run is refused, not silently replaced
        CHECK_THAT(request("avx512").error, logreg_test::contains("cannot run"));
    if (saved)
        ::setenv("LOGREG_ISA", previous.c_str(), 1);
    else
        ::unsetenv("LOGREG_ISA");
    std::cout << "test_kernels: this CPU runs";
    for (const Isa isa : isas) std::cout << " " << isa_name(isa) << " (" << isa_description(isa) << ")";
    std::cout << "\n";
}

}  // namespace kernels_test
