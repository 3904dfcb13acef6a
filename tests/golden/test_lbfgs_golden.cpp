// tests/golden/test_lbfgs_golden.cpp - logreg::LBFGS against scikit-learn's optimum (tests/golden/lbfgs_golden.json).
//
// make_lbfgs_golden.py fitted LogisticRegression(solver="lbfgs", multinomial) with C = 1 / (l2 sum_i s_i)
// on each case, checked that the gradient of logreg's objective
//   F(W, b) = sum_i s_i l_i / sum_i s_i + (l2 / 2) ||W||_F^2   (bias unpenalized)
// is below 1e-7 at sklearn's answer, and stored that answer with F there. Here LBFGS fits the same
// data from a zero model and must reach the same optimum: in double, converged on the gradient
// (tol 1e-8), W within 1e-5 of sklearn's relative to its largest entry, the bias within 1e-5 once
// both bias vectors are centred (F does not change when every b_k moves by the same amount) and F
// within 1e-9 relative; in float (tol 1e-4), F within 1e-5 relative.
// The fixture is found through LOGREG_LBFGS_GOLDEN_FIXTURE (environment first, then the path compiled in).
#include "test_support.hpp"

#include <logreg/lbfgs.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace lbfgs_golden_test {

namespace {

using json = nlohmann::json;
using logreg::Index;

const json& fixture() {
    static const json j = [] {
        const char* env = std::getenv("LOGREG_LBFGS_GOLDEN_FIXTURE");
#ifdef LOGREG_LBFGS_GOLDEN_FIXTURE
        const std::string path = (env && *env) ? env : LOGREG_LBFGS_GOLDEN_FIXTURE;
#else
        const std::string path = (env && *env) ? env : "lbfgs_golden.json";
#endif
        std::ifstream in(path);
        if (!in) throw std::runtime_error("cannot open the L-BFGS golden fixture '" + path + "'");
        return json::parse(in);
    }();
    return j;
}

logreg::RowMatrix<double> to_matrix(const json& rows) {
    const auto r = static_cast<Index>(rows.size());
    const auto c = static_cast<Index>(rows.at(0).size());
    logreg::RowMatrix<double> m(r, c);
    for (Index i = 0; i < r; ++i) {
        const json& row = rows.at(static_cast<std::size_t>(i));
        REQUIRE(static_cast<Index>(row.size()) == c);
        for (Index k = 0; k < c; ++k) m(i, k) = row.at(static_cast<std::size_t>(k)).get<double>();
    }
    return m;
}

logreg::Vector<double> to_vector(const json& values) {
    logreg::Vector<double> v(static_cast<Index>(values.size()));
    for (Index i = 0; i < v.size(); ++i) v[i] = values.at(static_cast<std::size_t>(i)).get<double>();
    return v;
}

logreg::LabelVector to_labels(const json& values) {
    logreg::LabelVector y(static_cast<Index>(values.size()));
    for (Index i = 0; i < y.size(); ++i) y[i] = values.at(static_cast<std::size_t>(i)).get<std::int32_t>();
    return y;
}

/// One case of the fixture: the data (double features, exactly the decimals sklearn saw) and
/// sklearn's answer.
struct Case {
    std::string name;
    Index features = 0;
    Index classes = 0;
    double l2 = 0;
    logreg::Dataset<double> data;
    logreg::RowMatrix<double> coef;
    logreg::Vector<double> intercept;
    double objective = 0;
};

Case load_case(const json& c) {
    Case k;
    k.name = c.at("name").get<std::string>();
    k.features = c.at("features").get<Index>();
    k.classes = c.at("classes").get<Index>();
    k.l2 = c.at("l2").get<double>();
    logreg::RowMatrix<double> x = to_matrix(c.at("X"));
    REQUIRE(x.rows() == c.at("samples").get<Index>());
    REQUIRE(x.cols() == k.features);
    k.data = logreg::Dataset<double>(std::move(x), to_labels(c.at("y")), static_cast<int>(k.classes));
    if (!c.at("sample_weights").is_null()) k.data.set_sample_weights(to_vector(c.at("sample_weights")));
    k.coef = to_matrix(c.at("coef"));
    k.intercept = to_vector(c.at("intercept"));
    REQUIRE(k.coef.rows() == k.classes);
    REQUIRE(k.coef.cols() == k.features);
    REQUIRE(k.intercept.size() == k.classes);
    k.objective = c.at("objective").get<double>();
    return k;
}

std::vector<Case> cases() {
    std::vector<Case> out;
    for (const json& c : fixture().at("cases")) out.push_back(load_case(c));
    REQUIRE(!out.empty());  // a fixture without cases proves nothing
    return out;
}

/// max |got - want| / max |want|, as in test_golden.cpp.
template <typename A, typename B>
double rel_error(const A& got, const B& want) {
    const double diff = (got.template cast<double>() - want.template cast<double>()).cwiseAbs().maxCoeff();
    const double scale = want.template cast<double>().cwiseAbs().maxCoeff();
    return scale > 0 ? diff / scale : diff;
}

double rel_error(double got, double want) {
    return want != 0 ? std::abs(got - want) / std::abs(want) : std::abs(got);
}

/// max |(b - mean b) - (b_ref - mean b_ref)|: the bias is defined up to a common shift.
double centred_bias_error(const logreg::Vector<double>& got, const logreg::Vector<double>& want) {
    const logreg::Vector<double> g = got.array() - got.mean();
    const logreg::Vector<double> w = want.array() - want.mean();
    return (g - w).cwiseAbs().maxCoeff();
}

template <typename Scalar>
double max_entry(const logreg::Gradient<Scalar>& g) {
    return std::max(static_cast<double>(g.weight.cwiseAbs().maxCoeff()),
                    static_cast<double>(g.bias.cwiseAbs().maxCoeff()));
}

/// All 17 significant digits, so a failure message shows the real difference.
std::string full(double v) {
    std::ostringstream os;
    os << std::setprecision(17) << v;
    return os.str();
}

logreg::LBFGSOptions options(double l2, double tol) {
    logreg::LBFGSOptions o;
    o.l2 = l2;
    o.tol = tol;
    o.ftol = 0;  // only the gradient test may stop a converging run
    o.max_iter = 1000;
    return o;
}

}  // namespace

TEST_CASE("golden: LBFGS reaches the optimum of scikit-learn LogisticRegression lbfgs", "[lbfgs][golden]") {
    const double tol = 1e-8;
    for (const Case& c : cases()) {
        INFO("case '" << c.name << "' (" << c.data.size() << " samples, " << c.features << " features, " << c.classes
                      << " classes, l2 " << full(c.l2) << (c.data.sample_weights().size() ? ", sample weights" : "")
                      << ")");
        const auto pre = logreg::Preprocessor<double>::identity(c.features);
        logreg::LBFGS<double> solver(logreg::LinearSoftmax<double>(c.features, c.classes), options(c.l2, tol));
        const logreg::SolverReport report = solver.fit(c.data, pre);
        INFO("solver: " << logreg::to_string(report.reason) << ": " << report.message);
        CHECK(report.reason == logreg::SolverStop::gradient_tol);
        CHECK(report.gradient_norm <= tol);

        // The same point evaluated afresh: what fit() reports is what the model holds.
        logreg::Gradient<double> g;
        const double f = solver.objective(c.data, pre, &g);
        const double g_max = max_entry(g);
        INFO("objective() " << full(f) << ", gradient max |entry| " << g_max);
        CHECK(g_max <= tol);
        CHECK(f == report.objective);

        const logreg::LinearSoftmax<double>& m = solver.model();
        const double e_w = rel_error(m.weight(), c.coef);
        const double e_b = centred_bias_error(m.bias(), c.intercept);
        const double e_f = rel_error(report.objective, c.objective);
        std::cout << "lbfgs golden double '" << c.name << "': " << report.iterations << " iterations, "
                  << report.evaluations << " evaluations, gradient max |entry| " << report.gradient_norm
                  << "; vs sklearn: W relative error " << e_w << ", centred bias error " << e_b
                  << ", objective relative error " << e_f << "\n";
        INFO("W expected\n" << c.coef << "\ngot\n" << m.weight());
        INFO("b expected " << c.intercept.transpose() << ", got " << m.bias().transpose());
        INFO("objective: expected " << full(c.objective) << ", got " << full(report.objective));
        CHECK(e_w < 1e-5);
        CHECK(e_b < 1e-5);
        CHECK(e_f < 1e-9);
    }
}

TEST_CASE("golden: LBFGS in float reaches the objective of scikit-learn LogisticRegression lbfgs", "[lbfgs][golden]") {
    const double tol = 1e-4;
    for (const Case& c : cases()) {
        INFO("case '" << c.name << "' (float, l2 " << full(c.l2) << ")");
        const auto pre = logreg::Preprocessor<float>::identity(c.features);
        logreg::LBFGS<float> solver(logreg::LinearSoftmax<float>(c.features, c.classes), options(c.l2, tol));
        const logreg::SolverReport report = solver.fit(c.data, pre);
        INFO("solver: " << logreg::to_string(report.reason) << ": " << report.message);
        CHECK(logreg::converged(report.reason));

        // The float model's objective in float (what the solver saw) and in double (an exact check).
        logreg::LinearSoftmax<double> as_double(c.features, c.classes);
        as_double.weight() = solver.model().weight().cast<double>();
        as_double.bias() = solver.model().bias().cast<double>();
        logreg::LBFGS<double> oracle(as_double, options(c.l2, tol));  // only its objective()
        const double f_double = oracle.objective(c.data, logreg::Preprocessor<double>::identity(c.features));

        const double e_f = rel_error(report.objective, c.objective);
        const double e_f_double = rel_error(f_double, c.objective);
        const double e_w = rel_error(solver.model().weight(), c.coef);
        std::cout << "lbfgs golden float '" << c.name << "': " << logreg::to_string(report.reason) << " after "
                  << report.iterations << " iterations, gradient max |entry| " << report.gradient_norm
                  << "; vs sklearn: objective relative error " << e_f << " (in double " << e_f_double
                  << "), W relative error " << e_w << "\n";
        INFO("objective: expected " << full(c.objective) << ", got " << full(report.objective) << " (in double "
                                    << full(f_double) << ")");
        CHECK(e_f < 1e-5);
        CHECK(e_f_double < 1e-5);
    }
}

}  // namespace lbfgs_golden_test
