// The full-batch L-BFGS solver: the two-loop recursion against the dense BFGS update, the line
// search against the strong Wolfe conditions, the objective's gradient against central
// differences, convergence, warm start, resume and stops. Its answer against scikit-learn's is in
// tests/golden/test_lbfgs_golden.cpp.
#include "test_support.hpp"

#include <logreg/lbfgs.hpp>

#include <atomic>
#include <limits>
#include <vector>

#ifdef LOGREG_HAVE_LBFGSPP
#include <LBFGS.h>
#endif

using namespace logreg;

namespace lbfgs_test {

using MatD = Eigen::MatrixXd;
using VecD = Eigen::VectorXd;

/// Pairs (s, y = A s) of a random symmetric positive definite A: s'y > 0, as along a convex objective.
inline std::vector<std::pair<VecD, VecD>> curvature_pairs(Index n, int count, std::mt19937_64& gen) {
    const MatD r = logreg_test::random_matrix<double>(n, n, gen);
    const MatD a = r * r.transpose() + MatD::Identity(n, n);
    std::vector<std::pair<VecD, VecD>> pairs;
    for (int k = 0; k < count; ++k) {
        const VecD s = logreg_test::random_matrix<double>(n, 1, gen);
        pairs.emplace_back(s, a * s);
    }
    return pairs;
}

/// -H g with H the BFGS inverse-Hessian update applied densely to H0 = (s'y / y'y) I of the newest pair.
inline VecD dense_direction(const std::vector<std::pair<VecD, VecD>>& pairs, const VecD& g) {
    const Index n = g.size();
    const auto& [sn, yn] = pairs.back();
    MatD h = MatD::Identity(n, n) * (sn.dot(yn) / yn.dot(yn));
    for (const auto& [s, y] : pairs) {
        const double rho = 1.0 / s.dot(y);
        const MatD v = MatD::Identity(n, n) - rho * y * s.transpose();
        h = v.transpose() * h * v + rho * s * s.transpose();
    }
    return -(h * g);
}

/// A small problem the regularized optimum of which is well defined: overlapping blobs.
template <typename Scalar>
Dataset<Scalar> noisy_blobs(Index n, Index features, int classes, std::uint64_t salt) {
    auto gen = logreg_test::rng(salt);
    std::normal_distribution<double> noise(0.0, 1.5);
    RowMatrix<Scalar> x(n, features);
    LabelVector y = logreg_test::random_labels(n, classes, gen);
    for (Index i = 0; i < n; ++i)
        for (Index j = 0; j < features; ++j) x(i, j) = static_cast<Scalar>(noise(gen) + (j == y[i] ? 2.0 : 0.0));
    return Dataset<Scalar>(std::move(x), std::move(y), classes);
}

template <typename Scalar>
LBFGSOptions exact_options(double l2) {
    LBFGSOptions o;
    o.l2 = l2;
    o.tol = std::is_same_v<Scalar, double> ? 1e-8 : 1e-4;
    o.ftol = 0;
    o.max_iter = 500;
    return o;
}

}  // namespace lbfgs_test

TEST_CASE("the two-loop recursion equals the dense BFGS inverse update of the last m pairs", "[lbfgs]") {
    using namespace lbfgs_test;
    auto gen = logreg_test::rng(501);
    const Index n = 9;
    const auto pairs = curvature_pairs(n, 7, gen);
    const VecD g = logreg_test::random_matrix<double>(n, 1, gen);
    for (int m : {1, 3, 7, 10}) {
        detail::LBFGSMemory<double> memory;
        memory.reset(n, m);
        for (const auto& [s, y] : pairs) REQUIRE(memory.add(s, y));
        REQUIRE(memory.count() == std::min(m, 7));
        const std::vector<std::pair<VecD, VecD>> kept(pairs.end() - memory.count(), pairs.end());
        VecD d;
        memory.direction(g, d);
        CAPTURE(m);
        REQUIRE(logreg_test::rel_error(d, dense_direction(kept, g)) < 1e-12);
        for (int i = 0; i < memory.count(); ++i) REQUIRE(memory.s(i) == kept[static_cast<std::size_t>(i)].first);
        // float storage, double dot products: the same direction to float precision
        detail::LBFGSMemory<float> memory_f;
        memory_f.reset(n, m);
        for (const auto& [s, y] : pairs) memory_f.add(s.cast<float>(), y.cast<float>());
        Vector<float> df;
        memory_f.direction(g.cast<float>(), df);
        REQUIRE(logreg_test::rel_error(df, d) < 1e-4);
    }
    detail::LBFGSMemory<double> empty;
    empty.reset(n, 3);
    VecD d;
    empty.direction(g, d);
    REQUIRE(d == -g);  // steepest descent without pairs
}

TEST_CASE("a curvature pair with s'y <= 0 is refused and leaves the memory unchanged", "[lbfgs]") {
    detail::LBFGSMemory<double> memory;
    memory.reset(3, 2);
    const Eigen::Vector3d s(1, 0, 0), y(0.5, 1, 0);
    REQUIRE(memory.add(s, y));
    REQUIRE_FALSE(memory.add(s, -y));
    REQUIRE_FALSE(memory.add(s, Eigen::Vector3d(0, 1, 0)));  // s'y = 0
    REQUIRE(memory.count() == 1);
}

#ifdef LOGREG_HAVE_LBFGSPP
TEST_CASE("the two-loop recursion agrees with LBFGSpp's BFGSMat", "[lbfgs]") {
    using namespace lbfgs_test;
    auto gen = logreg_test::rng(502);
    const Index n = 11;
    const auto pairs = curvature_pairs(n, 8, gen);
    const VecD g = logreg_test::random_matrix<double>(n, 1, gen);
    detail::LBFGSMemory<double> ours;
    LBFGSpp::BFGSMat<double> theirs;
    ours.reset(n, 5);
    theirs.reset(static_cast<int>(n), 5);
    for (const auto& [s, y] : pairs) {
        ours.add(s, y);
        theirs.add_correction(s, y);
        VecD d, expected;
        ours.direction(g, d);
        theirs.apply_Hv(g, -1.0, expected);
        REQUIRE(logreg_test::rel_error(d, expected) < 1e-12);
    }
}
#endif

TEST_CASE("the line search returns a step satisfying the strong Wolfe conditions", "[lbfgs]") {
    struct Case {
        const char* name;
        std::function<double(double)> f, df;
        double initial;
    };
    const auto quad_f = [](double a) { return (a - 2) * (a - 2); };
    const auto quad_df = [](double a) { return 2 * (a - 2); };
    const auto exp_f = [](double a) { return std::exp(a) - 3 * a; };
    const auto exp_df = [](double a) { return std::exp(a) - 3; };
    // Infinite beyond 1: a trial there must count as too long a step.
    const auto wall_f = [](double a) {
        return a < 1 ? (a - 0.9) * (a - 0.9) : std::numeric_limits<double>::infinity();
    };
    const auto wall_df = [](double a) { return a < 1 ? 2 * (a - 0.9) : std::numeric_limits<double>::quiet_NaN(); };
    const std::vector<Case> cases = {
        {"quadratic, step too short", quad_f, quad_df, 1e-3}, {"quadratic, step too long", quad_f, quad_df, 1e3},
        {"quadratic, exact", quad_f, quad_df, 2.0},           {"exp(a) - 3a, short", exp_f, exp_df, 0.01},
        {"exp(a) - 3a, long", exp_f, exp_df, 50.0},           {"infinite beyond 1", wall_f, wall_df, 10.0}};
    for (const Case& c : cases) {
        for (double c2 : {0.9, 0.1}) {
            CAPTURE(c.name, c2);
            const detail::LinePoint start{0.0, c.f(0), c.df(0)};
            REQUIRE(start.slope < 0);
            int calls = 0;
            double last = -1;
            const auto phi = [&](double a) {
                ++calls;
                last = a;
                return detail::LinePoint{a, c.f(a), c.df(a)};
            };
            const detail::LineSearchResult r = detail::strong_wolfe_search(phi, start, c.initial, {1e-4, c2, 30});
            REQUIRE(r.converged);
            REQUIRE(r.evaluations == calls);
            REQUIRE(r.last_evaluated == (last == r.point.step));
            REQUIRE(r.point.step > 0);
            REQUIRE(r.point.value <= start.value + 1e-4 * r.point.step * start.slope);
            REQUIRE(std::abs(r.point.slope) <= c2 * std::abs(start.slope));
        }
    }
}

TEST_CASE("the line search falls back to the start when nothing decreases", "[lbfgs]") {
    // A "descent" direction along which the function only rises (a wrong slope): no step is acceptable.
    const auto phi = [](double a) { return detail::LinePoint{a, 1 + a, 1.0}; };
    const detail::LineSearchResult r = detail::strong_wolfe_search(phi, detail::LinePoint{0.0, 1.0, -1.0}, 1.0);
    REQUIRE_FALSE(r.converged);
    REQUIRE(r.point.step == 0);
    REQUIRE(r.evaluations <= 20);
}

TEST_CASE("the regularized objective's gradient matches central differences", "[lbfgs]") {
    auto gen = logreg_test::rng(503);
    Dataset<double> data = lbfgs_test::noisy_blobs<double>(40, 6, 3, 504);
    Vector<double> sw(40);
    for (Index i = 0; i < 40; ++i) sw[i] = 0.5 + static_cast<double>(i % 3);
    for (bool weighted : {false, true}) {
        for (double l2 : {0.0, 0.3}) {
            CAPTURE(weighted, l2);
            if (weighted) data.set_sample_weights(sw);
            LinearSoftmax<double> m(6, 3);
            m.weight() = logreg_test::random_matrix<double>(3, 6, gen);
            m.bias() = logreg_test::random_matrix<double>(3, 1, gen);
            LBFGSOptions o;
            o.l2 = l2;
            const auto pre = Preprocessor<double>::standard(data, iota(data.size()));
            LBFGS<double> solver(m, o);
            Gradient<double> g;
            const double f = solver.objective(data, pre, &g);
            // The objective by hand: mean (weighted) cross-entropy + l2/2 ||W||^2.
            const Evaluation ev = evaluate(m, data, pre);
            REQUIRE(f == Approx(ev.loss + 0.5 * l2 * m.weight().squaredNorm()).epsilon(1e-12));
            const double h = 1e-6;
            double worst = 0;
            for (Index k = 0; k < m.weight().size() + m.bias().size(); ++k) {
                LinearSoftmax<double> plus = m, minus = m;
                double& p = k < m.weight().size() ? plus.weight().data()[k] : plus.bias()[k - m.weight().size()];
                double& q = k < m.weight().size() ? minus.weight().data()[k] : minus.bias()[k - m.weight().size()];
                p += h;
                q -= h;
                solver.set_model(plus);
                const double fp = solver.objective(data, pre);
                solver.set_model(minus);
                const double fq = solver.objective(data, pre);
                const double numeric = (fp - fq) / (2 * h);
                const double analytic = k < m.weight().size() ? g.weight.data()[k] : g.bias[k - m.weight().size()];
                worst = std::max(worst, std::abs(numeric - analytic));
            }
            REQUIRE(worst < 1e-7);
        }
    }
}

TEMPLATE_TEST_CASE("L-BFGS converges: the gradient at the returned model is below tol", "[lbfgs]", float, double) {
    using Scalar = TestType;
    const Dataset<Scalar> data = lbfgs_test::noisy_blobs<Scalar>(300, 5, 3, 505);
    const auto pre = Preprocessor<Scalar>::identity(5);
    for (int threads : {1, 2}) {
        const LBFGSOptions o = lbfgs_test::exact_options<Scalar>(0.01);
        LBFGSOptions ot = o;
        ot.threads = threads;
        LBFGS<Scalar> solver(LinearSoftmax<Scalar>(5, 3), ot);
        const SolverReport r = solver.fit(data, pre);
        CAPTURE(threads, r.message);
        REQUIRE(r.reason == SolverStop::gradient_tol);
        REQUIRE(r.gradient_norm <= o.tol);
        REQUIRE(r.iterations < 100);
        REQUIRE(r.history.size() == static_cast<std::size_t>(r.iterations) + 1);
        for (std::size_t i = 1; i < r.history.size(); ++i) {  // a descent method
            REQUIRE(r.history[i].objective <= r.history[i - 1].objective);
            REQUIRE(r.history[i].step > 0);
            REQUIRE(r.history[i].elapsed_seconds >= r.history[i - 1].elapsed_seconds);
        }
        Gradient<Scalar> g;
        LBFGS<Scalar> check(solver.model(), ot);
        REQUIRE(check.objective(data, pre, &g) == Approx(r.objective).epsilon(1e-12));
        REQUIRE(std::max(g.weight.cwiseAbs().maxCoeff(), g.bias.cwiseAbs().maxCoeff()) <= o.tol);
    }
}

#ifdef LOGREG_HAVE_LBFGSPP
TEST_CASE("L-BFGS reaches the minimizer LBFGSpp finds for the same objective", "[lbfgs]") {
    const Dataset<double> data = lbfgs_test::noisy_blobs<double>(200, 4, 3, 506);
    const auto pre = Preprocessor<double>::identity(4);
    const LBFGSOptions o = lbfgs_test::exact_options<double>(0.05);
    LBFGS<double> ours(LinearSoftmax<double>(4, 3), o);
    REQUIRE(ours.fit(data, pre).reason == SolverStop::gradient_tol);

    LBFGS<double> oracle(LinearSoftmax<double>(4, 3), o);  // only its objective()
    const auto f = [&](const Eigen::VectorXd& x, Eigen::VectorXd& grad) {
        LinearSoftmax<double> m(4, 3);
        m.weight() = Eigen::Map<const RowMatrix<double>>(x.data(), 3, 4);
        m.bias() = x.tail(3);
        oracle.set_model(m);
        Gradient<double> g;
        const double value = oracle.objective(data, pre, &g);
        grad.head(12) = Eigen::Map<const Eigen::VectorXd>(g.weight.data(), 12);
        grad.tail(3) = g.bias;
        return value;
    };
    LBFGSpp::LBFGSParam<double> param;
    // On ||g||_2. LBFGSpp 0.1.0 runs on into NaN when asked for more than the gradient's rounding
    // allows: 1e-9 failed with every kernel set, 1e-8 with clang's AVX-512 build.
    param.epsilon = 1e-7;
    param.epsilon_rel = 0;
    param.max_iterations = 1000;
    param.linesearch = LBFGSpp::LBFGS_LINESEARCH_BACKTRACKING_STRONG_WOLFE;
    LBFGSpp::LBFGSSolver<double, LBFGSpp::LineSearchNocedalWright> solver(param);
    Eigen::VectorXd x = Eigen::VectorXd::Zero(15);
    double fx = 0;
    const int iterations = solver.minimize(f, x, fx);
    CAPTURE(iterations, fx, x.transpose());
    REQUIRE(fx == Approx(ours.objective(data, pre)).epsilon(1e-14));
    // Gradients below 1e-7 with curvature >= l2 = 0.05: the minimizers agree to about 1e-6.
    REQUIRE(logreg_test::rel_error(Eigen::Map<const Eigen::VectorXd>(ours.model().weight().data(), 12), x.head(12)) <
            1e-6);
    // The unpenalized bias is defined up to a common shift (softmax ignores it): compare centred.
    const Eigen::VectorXd b = x.tail(3);
    REQUIRE(logreg_test::rel_error(ours.model().bias().array() - ours.model().bias().mean(), b.array() - b.mean()) <
            1e-6);
}
#endif

TEST_CASE("a warm start from SGD reaches the same optimum as a cold start", "[lbfgs]") {
    const Dataset<double> data = lbfgs_test::noisy_blobs<double>(250, 5, 4, 507);
    const auto pre = Preprocessor<double>::identity(5);
    const LBFGSOptions o = lbfgs_test::exact_options<double>(0.02);
    LBFGS<double> cold(LinearSoftmax<double>(5, 4), o);
    const SolverReport rc = cold.fit(data, pre);
    TrainOptions t;
    t.epochs = 3;
    t.batch_size = 32;
    t.sgd.lr = 0.1;
    Trainer<double> sgd(LinearSoftmax<double>(5, 4, Init::uniform, 3), t);
    sgd.fit(data, pre);
    LBFGS<double> warm(sgd.model(), o);
    const SolverReport rw = warm.fit(data, pre);
    REQUIRE(rw.reason == SolverStop::gradient_tol);
    REQUIRE(rw.history.front().objective < rc.history.front().objective);  // SGD got it closer already
    // Both stop at a gradient below tol = 1e-8; with the curvature l2 = 0.02 that leaves them within ~1e-6.
    REQUIRE(logreg_test::rel_error(warm.model().weight(), cold.model().weight()) < 1e-6);
    // The unpenalized bias is defined up to a common shift (softmax ignores it): compare centred.
    const Vector<double> bw = warm.model().bias(), bc = cold.model().bias();
    REQUIRE(logreg_test::rel_error(bw.array() - bw.mean(), bc.array() - bc.mean()) < 1e-6);
}

TEMPLATE_TEST_CASE("L-BFGS continues bitwise: fit() twice, and state() into a new solver", "[lbfgs]", float, double) {
    using Scalar = TestType;
    const Dataset<Scalar> data = lbfgs_test::noisy_blobs<Scalar>(200, 6, 3, 508);
    const auto pre = Preprocessor<Scalar>::identity(6);
    LBFGSOptions o;
    o.l2 = 0.01;
    o.tol = 0;
    o.ftol = 0;
    o.max_iter = 9;
    o.memory = 4;  // wraps around within the run
    LBFGS<Scalar> whole(LinearSoftmax<Scalar>(6, 3, Init::uniform, 1), o);
    const SolverReport rw = whole.fit(data, pre);
    REQUIRE(rw.iterations == 9);

    LBFGSOptions first = o;
    first.max_iter = 4;
    LBFGS<Scalar> part(LinearSoftmax<Scalar>(6, 3, Init::uniform, 1), first);
    part.fit(data, pre);
    LBFGS<Scalar> resumed(LinearSoftmax<Scalar>(6, 3), first);
    resumed.restore(part.state());
    REQUIRE(resumed.iterations_done() == 4);
    LBFGSOptions rest = o;
    rest.max_iter = 5;
    resumed.set_options(rest);
    part.set_options(rest);
    const SolverReport rr = resumed.fit(data, pre);
    part.fit(data, pre);
    REQUIRE(rr.history.back().iteration == 9);
    REQUIRE(rr.history.back().objective == rw.history.back().objective);
    for (const LBFGS<Scalar>* s : {&resumed, &part}) {
        REQUIRE(s->model().weight() == whole.model().weight());
        REQUIRE(s->model().bias() == whole.model().bias());
    }
}

TEST_CASE("restore() refuses a state that does not fit and leaves the solver unchanged", "[lbfgs]") {
    LBFGS<double> solver(LinearSoftmax<double>(4, 3, Init::uniform, 2));
    const LinearSoftmax<double> before = solver.model();
    TrainerState<double> s = solver.state();
    s.optimizer_name = "sgd";
    REQUIRE_THROWS_WITH(solver.restore(s), logreg_test::contains("'sgd'"));
    s = solver.state();
    s.model = LinearSoftmax<double>(5, 3);
    REQUIRE_THROWS_WITH(solver.restore(s), logreg_test::contains("5"));
    s = solver.state();
    s.optimizer.matrices.emplace("weight_s0", RowMatrix<double>::Ones(3, 4));
    s.optimizer.matrices.emplace("weight_y0", RowMatrix<double>::Ones(3, 4));
    s.optimizer.vectors.emplace("bias_s0", Vector<double>::Ones(3));
    s.optimizer.vectors.emplace("bias_y0", -Vector<double>::Ones(3) * 10);  // s'y < 0
    REQUIRE_THROWS_WITH(solver.restore(s), logreg_test::contains("s'y"));
    REQUIRE(solver.model().weight() == before.weight());
}

TEST_CASE("the callback and the stop flag end fit() at an iterate", "[lbfgs]") {
    const Dataset<double> data = lbfgs_test::noisy_blobs<double>(150, 4, 3, 509);
    const auto pre = Preprocessor<double>::identity(4);
    LBFGS<double> solver(LinearSoftmax<double>(4, 3), lbfgs_test::exact_options<double>(0.01));
    solver.set_callback([](const SolverIteration& it) { return it.iteration < 2; });
    SolverReport r = solver.fit(data, pre);
    REQUIRE(r.reason == SolverStop::callback);
    REQUIRE(solver.iterations_done() == 2);
    REQUIRE(r.objective == r.history.back().objective);
    LBFGS<double> check(solver.model(), solver.options());
    REQUIRE(check.objective(data, pre) == r.objective);  // the model is the last iterate
    std::atomic<bool> stop{true};
    solver.set_callback({});
    solver.set_stop_flag(&stop);
    r = solver.fit(data, pre);
    REQUIRE(r.reason == SolverStop::interrupted);
    REQUIRE(r.iterations == 1);
    REQUIRE(solver.iterations_done() == 3);
}

TEST_CASE("L-BFGS options are validated, naming the field", "[lbfgs][errors]") {
    const auto bad = [](auto change, const char* field) {
        LBFGSOptions o;
        change(o);
        REQUIRE_THROWS_WITH(o.validate(), logreg_test::contains(field));
        REQUIRE_THROWS_AS(LBFGS<float>(LinearSoftmax<float>(3, 2), o), InvalidParameter);
    };
    bad([](LBFGSOptions& o) { o.l2 = -1; }, "'l2'");
    bad([](LBFGSOptions& o) { o.l2 = std::numeric_limits<double>::infinity(); }, "'l2'");
    bad([](LBFGSOptions& o) { o.tol = std::numeric_limits<double>::quiet_NaN(); }, "'tol'");
    bad([](LBFGSOptions& o) { o.ftol = 1; }, "'ftol'");
    bad([](LBFGSOptions& o) { o.max_iter = -1; }, "'max_iter'");
    bad([](LBFGSOptions& o) { o.memory = 0; }, "'memory'");
    bad([](LBFGSOptions& o) { o.max_linesearch = 0; }, "'max_linesearch'");
    bad([](LBFGSOptions& o) { o.threads = 0; }, "'threads'");
    const Dataset<float> data = lbfgs_test::noisy_blobs<float>(20, 3, 2, 510);
    LBFGS<float> solver(LinearSoftmax<float>(4, 2));
    REQUIRE_THROWS_AS(solver.fit(data, Preprocessor<float>::identity(3)), ShapeError);
}

TEST_CASE("standardized features converge in fewer iterations than raw ones", "[lbfgs]") {
    // Features on very different scales: the standardizing preprocessor makes the problem
    // well conditioned, as it does for scikit-learn.
    Dataset<double> data = lbfgs_test::noisy_blobs<double>(300, 4, 3, 511);
    RowMatrix<double> x = data.features();
    x.col(0) *= 100;
    x.col(1) = x.col(1) * 0.01 + Vector<double>::Constant(x.rows(), 5.0);
    const Dataset<double> skewed(x, data.labels(), 3);
    LBFGSOptions o = lbfgs_test::exact_options<double>(1e-3);
    o.tol = 1e-8;
    LBFGS<double> raw(LinearSoftmax<double>(4, 3), o), standard(LinearSoftmax<double>(4, 3), o);
    const SolverReport rr = raw.fit(skewed, Preprocessor<double>::identity(4));
    const SolverReport rs = standard.fit(skewed, Preprocessor<double>::standard(skewed, iota(skewed.size())));
    CAPTURE(rr.iterations, rs.iterations);
    REQUIRE(rs.reason == SolverStop::gradient_tol);
    REQUIRE(rs.iterations < rr.iterations);
}

namespace lbfgs_test {

/// Mostly-zero data like images: about `zeros` of the entries are 0, the rest in 1..255.
template <typename Feature>
Dataset<Feature> sparse_data(Index n, Index features, int classes, double zeros, std::uint64_t salt) {
    auto gen = logreg_test::rng(salt);
    std::uniform_real_distribution<double> u(0, 1);
    std::uniform_int_distribution<int> px(1, 255);
    RowMatrix<Feature> x(n, features);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = u(gen) < zeros ? Feature(0) : static_cast<Feature>(px(gen));
    Dataset<Feature> d(std::move(x), logreg_test::random_labels(n, classes, gen), classes);
    Vector<double> w(n);
    for (Index i = 0; i < n; ++i) w[i] = 0.25 + u(gen);
    d.set_sample_weights(w);
    return d;
}

/// Objective and gradient at a random model, with and without the sparse pass.
template <typename Scalar, typename Feature>
void sparse_matches_dense(Index features, int classes, int threads) {
    const Dataset<Feature> data =
        sparse_data<Feature>(333, features, classes, 0.8, 520 + static_cast<std::uint64_t>(classes));
    const IndexVector rows = shuffled_indices(333, 4).head(250);  // a subset, out of order
    auto gen = logreg_test::rng(521);
    LinearSoftmax<Scalar> m(features, classes);
    m.weight() = logreg_test::random_matrix<Scalar>(classes, features, gen);
    m.bias() = logreg_test::random_matrix<Scalar>(classes, 1, gen);
    const auto pre = Preprocessor<Scalar>::unit(features);
    REQUIRE(detail::SparseGradient<Scalar>::suitable(data, rows, pre));
    LBFGSOptions o;
    o.l2 = 0.01;
    o.threads = threads;
    LBFGSOptions dense_o = o;
    dense_o.sparse = false;
    LBFGS<Scalar> sparse(m, o), dense(m, dense_o);
    Gradient<Scalar> gs, gd;
    const double fs = sparse.objective(data, pre, &gs, &rows), fd = dense.objective(data, pre, &gd, &rows);
    const double tol = std::is_same_v<Scalar, float> ? 1e-5 : 1e-13;
    CAPTURE(features, classes, threads);
    REQUIRE(fs == Approx(fd).epsilon(tol));
    REQUIRE(logreg_test::rel_error(gs.weight, gd.weight) < tol);
    REQUIRE(logreg_test::rel_error(gs.bias, gd.bias) < tol);
}

}  // namespace lbfgs_test

TEMPLATE_TEST_CASE("the sparse pass gives the dense engine's objective and gradient", "[lbfgs]", float, double) {
    using Scalar = TestType;
    // 3, 20 and 40 classes: one packet, two packets and the run-time width (float); uint8 and float features.
    for (int classes : {3, 20, 40})
        for (int threads : {1, 2}) {
            lbfgs_test::sparse_matches_dense<Scalar, std::uint8_t>(70, classes, threads);
            lbfgs_test::sparse_matches_dense<Scalar, float>(70, classes, threads);
        }
}

TEST_CASE("the sparse pass is used only when it is exact and pays off", "[lbfgs]") {
    const Dataset<std::uint8_t> sparse = lbfgs_test::sparse_data<std::uint8_t>(100, 20, 3, 0.8, 522);
    const Dataset<std::uint8_t> dense = lbfgs_test::sparse_data<std::uint8_t>(100, 20, 3, 0.2, 523);
    const IndexVector all = iota(100);
    REQUIRE(detail::SparseGradient<float>::suitable(sparse, all, Preprocessor<float>::unit(20)));
    REQUIRE_FALSE(detail::SparseGradient<float>::suitable(dense, all, Preprocessor<float>::unit(20)));
    // An offset turns every zero into a nonzero.
    REQUIRE_FALSE(detail::SparseGradient<float>::suitable(sparse, all, Preprocessor<float>::standard(sparse, all)));
}

TEST_CASE("L-BFGS on sparse data: bitwise reproducible per thread count, close across them", "[lbfgs]") {
    const Dataset<std::uint8_t> data = lbfgs_test::sparse_data<std::uint8_t>(400, 60, 5, 0.8, 524);
    const auto pre = Preprocessor<float>::unit(60);
    LBFGSOptions o;
    o.l2 = 1e-3;
    o.max_iter = 15;
    std::vector<LinearSoftmax<float>> models;
    for (int threads : {1, 2, 2}) {
        o.threads = threads;
        LBFGS<float> s(LinearSoftmax<float>(60, 5), o);
        s.fit(data, pre);
        models.push_back(s.model());
    }
    REQUIRE(models[1].weight() == models[2].weight());
    REQUIRE(logreg_test::rel_error(models[0].weight(), models[1].weight()) < 1e-3);
}
