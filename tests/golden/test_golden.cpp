// tests/golden/test_golden.cpp - logreg against values computed by PyTorch (tests/golden/golden.json).
//
// make_golden.py ran torch.optim.SGD, its lr schedulers and nn.CrossEntropyLoss in float64;
// here the same steps run through the library's public API and every lr, loss, W and b must
// agree to a relative error of 1e-6 in double (in practice ~1e-15) and 1e-4 in float.
// The fixture is found through LOGREG_GOLDEN_FIXTURE (environment first, then the path compiled in).
#include "test_support.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace golden_test {

namespace {

using json = nlohmann::json;
using logreg::Index;

template <typename Scalar>
struct Tolerance;
template <>
struct Tolerance<double> {
    static constexpr double value = 1e-6;
};
template <>
struct Tolerance<float> {
    static constexpr double value = 1e-4;
};

const json& fixture() {
    static const json j = [] {
        const char* env = std::getenv("LOGREG_GOLDEN_FIXTURE");
#ifdef LOGREG_GOLDEN_FIXTURE
        const std::string path = (env && *env) ? env : LOGREG_GOLDEN_FIXTURE;
#else
        const std::string path = (env && *env) ? env : "golden.json";
#endif
        std::ifstream in(path);
        if (!in) throw std::runtime_error("cannot open the golden fixture '" + path + "'");
        return json::parse(in);
    }();
    return j;
}

template <typename Scalar>
logreg::RowMatrix<Scalar> to_matrix(const json& rows) {
    const auto r = static_cast<Index>(rows.size());
    const auto c = static_cast<Index>(rows.at(0).size());
    logreg::RowMatrix<Scalar> m(r, c);
    for (Index i = 0; i < r; ++i) {
        const json& row = rows.at(static_cast<std::size_t>(i));
        REQUIRE(static_cast<Index>(row.size()) == c);
        for (Index k = 0; k < c; ++k) m(i, k) = static_cast<Scalar>(row.at(static_cast<std::size_t>(k)).get<double>());
    }
    return m;
}

template <typename Scalar>
logreg::Vector<Scalar> to_vector(const json& values) {
    logreg::Vector<Scalar> v(static_cast<Index>(values.size()));
    for (Index i = 0; i < v.size(); ++i)
        v[i] = static_cast<Scalar>(values.at(static_cast<std::size_t>(i)).get<double>());
    return v;
}

logreg::LabelVector to_labels(const json& values) {
    logreg::LabelVector y(static_cast<Index>(values.size()));
    for (Index i = 0; i < y.size(); ++i) y[i] = values.at(static_cast<std::size_t>(i)).get<std::int32_t>();
    return y;
}

logreg::SGDParams to_sgd(const json& j) {
    logreg::SGDParams p;
    p.lr = j.at("lr").get<double>();
    p.momentum = j.at("momentum").get<double>();
    p.dampening = j.at("dampening").get<double>();
    p.nesterov = j.at("nesterov").get<bool>();
    p.weight_decay = j.at("weight_decay").get<double>();
    p.decay_bias = j.at("decay_bias").get<bool>();
    return p;
}

logreg::AdamParams to_adam(const json& j) {
    logreg::AdamParams p;
    p.lr = j.at("lr").get<double>();
    p.beta1 = j.at("beta1").get<double>();
    p.beta2 = j.at("beta2").get<double>();
    p.eps = j.at("eps").get<double>();
    p.weight_decay = j.at("weight_decay").get<double>();
    p.amsgrad = j.at("amsgrad").get<bool>();
    p.decay_bias = j.at("decay_bias").get<bool>();
    return p;
}

logreg::Schedule to_schedule(const json& j) {
    const auto kind = j.at("kind").get<std::string>();
    if (kind == "constant") return logreg::Schedule::constant();
    if (kind == "step") return logreg::Schedule::step(j.at("step_size").get<long long>(), j.at("gamma").get<double>());
    if (kind == "exponential") return logreg::Schedule::exponential(j.at("gamma").get<double>());
    if (kind == "cosine")
        return logreg::Schedule::cosine(j.at("t_max").get<long long>(), j.at("eta_min").get<double>());
    throw std::runtime_error("unknown schedule kind '" + kind + "' in the golden fixture");
}

/// max |got - want| / max |want|: relative to the reference's scale, so entries near zero
/// do not blow it up (a zero reference falls back to the absolute error).
template <typename A, typename B>
double rel_error(const A& got, const B& want) {
    const double diff = (got.template cast<double>() - want.template cast<double>()).cwiseAbs().maxCoeff();
    const double scale = want.template cast<double>().cwiseAbs().maxCoeff();
    return scale > 0 ? diff / scale : diff;
}

double rel_error(double got, double want) {
    return want != 0 ? std::abs(got - want) / std::abs(want) : std::abs(got);
}

/// The largest relative error seen in one test case, printed at its end.
struct ErrorStats {
    explicit ErrorStats(std::string name) : what(std::move(name)) {}
    ErrorStats(const ErrorStats&) = delete;
    ErrorStats& operator=(const ErrorStats&) = delete;

    std::string what;
    double max = 0;
    long long count = 0;
    std::string where;
    void add(double e, const std::string& at) {
        ++count;
        if (e > max || count == 1) {
            max = e;
            where = at;
        }
    }
    ~ErrorStats() {
        std::cout << "golden " << what << ": max relative error " << max << " over " << count << " comparisons (at "
                  << where << ")\n";
    }
};

/// All 17 significant digits, so a failure message shows the real difference.
std::string full(double v) {
    std::ostringstream os;
    os << std::setprecision(17) << v;
    return os.str();
}

template <typename Scalar>
const char* type_name() {
    return sizeof(Scalar) == sizeof(double) ? "double" : "float";
}

/// Steps of one optimizer: SGD, Adam or AdamW from a case of the fixture.
template <typename Scalar>
struct AnyOptimizer {
    double base_lr = 0;
    std::function<void(logreg::LinearSoftmax<Scalar>&, logreg::Gradient<Scalar>&, double)> step;
};

template <typename Scalar>
AnyOptimizer<Scalar> optimizer_of(const json& c) {
    if (c.contains("sgd")) {
        auto sgd = std::make_shared<logreg::SGD<Scalar>>(to_sgd(c.at("sgd")));
        return {sgd->params().lr, [sgd](auto& model, auto& grad, double lr) { sgd->step(model, grad, lr); }};
    }
    const json& a = c.at("adam");
    if (a.at("optimizer").get<std::string>() == "adamw") {
        logreg::AdamWParams p;
        static_cast<logreg::AdamParams&>(p) = to_adam(a);
        auto opt = std::make_shared<logreg::AdamW<Scalar>>(p);
        return {p.lr, [opt](auto& model, auto& grad, double lr) { logreg::apply_step(*opt, model, grad, lr); }};
    }
    auto opt = std::make_shared<logreg::Adam<Scalar>>(to_adam(a));
    return {opt->params().lr, [opt](auto& model, auto& grad, double lr) { logreg::apply_step(*opt, model, grad, lr); }};
}

/// Replays the fixture's cases of `list` ("sgd_cases", "adam_cases") selected by `want` and
/// compares every step.
template <typename Scalar>
void check_cases(const char* list, const std::function<bool(const std::string& kind)>& want, ErrorStats& stats) {
    const double tol = Tolerance<Scalar>::value;
    const json& problem = fixture().at("problem");
    const auto features = problem.at("features").get<Index>();
    const auto classes = problem.at("classes").get<Index>();
    const json& batches = problem.at("batches");
    int cases = 0;
    for (const json& c : fixture().at(list)) {
        const std::string name = c.at("name").get<std::string>();
        const logreg::Schedule schedule = to_schedule(c.at("schedule"));
        if (!want(c.at("schedule").at("kind").get<std::string>())) continue;
        ++cases;
        AnyOptimizer<Scalar> optimizer = optimizer_of<Scalar>(c);
        logreg::LinearSoftmax<Scalar> model(features, classes);
        model.weight() = to_matrix<Scalar>(problem.at("W0"));
        model.bias() = to_vector<Scalar>(problem.at("b0"));
        const logreg::CrossEntropy<Scalar> loss_fn;
        logreg::RowMatrix<Scalar> z;
        logreg::Gradient<Scalar> grad;
        grad.resize(classes, features);
        const json& steps = c.at("steps");
        REQUIRE(steps.size() <= batches.size());
        for (std::size_t k = 0; k < steps.size(); ++k) {
            const json& s = steps[k];
            const std::string at = name + " step " + std::to_string(k);
            INFO(type_name<Scalar>() << " case '" << name << "', step " << k << " (t = " << k << ")");
            const logreg::RowMatrix<Scalar> x = to_matrix<Scalar>(batches[k].at("x"));
            const logreg::LabelVector y = to_labels(batches[k].at("y"));

            // The schedule's lr is what the library trains with; torch's scheduler gave s["lr"].
            const double lr = schedule(optimizer.base_lr, static_cast<long long>(k));
            const double want_lr = s.at("lr").get<double>();
            const double e_lr = rel_error(lr, want_lr);
            stats.add(e_lr, at + " lr");
            INFO("lr: expected " << full(want_lr) << ", got " << full(lr));
            CHECK(e_lr < 1e-12);  // the lr is double for both types; torch's cosine is recursive, so not exact

            model.logits(x, z);
            const double loss = loss_fn.loss_and_gradient(z, y);
            model.backward(x, z, grad);
            optimizer.step(model, grad, lr);

            const double want_loss = s.at("loss").get<double>();
            const double e_loss = rel_error(loss, want_loss);
            stats.add(e_loss, at + " loss");
            INFO("loss: expected " << full(want_loss) << ", got " << full(loss));
            CHECK(e_loss < tol);

            const logreg::RowMatrix<double> want_w = to_matrix<double>(s.at("W"));
            const logreg::Vector<double> want_b = to_vector<double>(s.at("b"));
            const double e_w = rel_error(model.weight(), want_w);
            const double e_b = rel_error(model.bias(), want_b);
            stats.add(e_w, at + " W");
            stats.add(e_b, at + " b");
            INFO("W expected\n" << want_w << "\ngot\n" << model.weight().template cast<double>());
            INFO("b expected " << want_b.transpose() << ", got " << model.bias().template cast<double>().transpose());
            CHECK(e_w < tol);
            CHECK(e_b < tol);
        }
    }
    REQUIRE(cases > 0);  // a fixture without these cases proves nothing
}

}  // namespace

TEMPLATE_TEST_CASE("golden: SGD settings match torch.optim.SGD step by step", "[golden][sgd]", double, float) {
    ErrorStats stats{std::string("SGD ") + type_name<TestType>()};
    check_cases<TestType>(
        "sgd_cases", [](const std::string& kind) { return kind == "constant"; }, stats);
}

TEMPLATE_TEST_CASE("golden: Adam and AdamW match torch.optim.Adam / AdamW step by step", "[golden][adam]", double,
                   float) {
    ErrorStats stats{std::string("Adam/AdamW ") + type_name<TestType>()};
    check_cases<TestType>(
        "adam_cases", [](const std::string&) { return true; }, stats);
}

TEMPLATE_TEST_CASE("golden: step and exponential schedules match StepLR and ExponentialLR", "[golden][schedule]",
                   double, float) {
    ErrorStats stats{std::string("StepLR/ExponentialLR ") + type_name<TestType>()};
    check_cases<TestType>(
        "sgd_cases", [](const std::string& kind) { return kind == "step" || kind == "exponential"; }, stats);
}

TEMPLATE_TEST_CASE("golden: cosine schedule matches CosineAnnealingLR", "[golden][schedule]", double, float) {
    ErrorStats stats{std::string("CosineAnnealingLR ") + type_name<TestType>()};
    check_cases<TestType>(
        "sgd_cases", [](const std::string& kind) { return kind == "cosine"; }, stats);
}

TEMPLATE_TEST_CASE("golden: CrossEntropy matches nn.CrossEntropyLoss", "[golden][cross_entropy]", double, float) {
    const double tol = Tolerance<TestType>::value;
    ErrorStats stats{std::string("CrossEntropy ") + type_name<TestType>()};
    int cases = 0;
    for (const json& c : fixture().at("cross_entropy_cases")) {
        ++cases;
        const std::string name = c.at("name").get<std::string>();
        INFO(type_name<TestType>() << " case '" << name << "'");
        logreg::CrossEntropyOptions options;
        if (!c.at("class_weights").is_null()) options.class_weights = to_vector<double>(c.at("class_weights"));
        options.label_smoothing = c.at("label_smoothing").get<double>();
        const logreg::CrossEntropy<TestType> loss_fn(options);
        // Integer sample weights here; torch saw each row repeated that many times.
        std::vector<double> sample_weights;
        if (!c.at("sample_weights").is_null()) sample_weights = c.at("sample_weights").get<std::vector<double>>();
        const double* sw = sample_weights.empty() ? nullptr : sample_weights.data();

        const logreg::LabelVector y = to_labels(c.at("y"));
        logreg::RowMatrix<TestType> z = to_matrix<TestType>(c.at("logits"));
        const double loss_only = loss_fn.loss(z, y, sw);
        const double loss = loss_fn.loss_and_gradient(z, y, sw);  // z becomes dL/dz

        const double want_loss = c.at("loss").get<double>();
        const logreg::RowMatrix<double> want_grad = to_matrix<double>(c.at("grad"));
        INFO("loss: expected " << full(want_loss) << ", got " << full(loss) << " (loss() alone: " << full(loss_only)
                               << ")");
        INFO("dL/dz expected\n" << want_grad << "\ngot\n" << z.template cast<double>());
        CHECK(std::isfinite(loss));
        CHECK(z.allFinite());
        const double e_loss = rel_error(loss, want_loss);
        const double e_grad = rel_error(z, want_grad);
        stats.add(e_loss, name + " loss");
        stats.add(e_grad, name + " grad");
        CHECK(e_loss < tol);
        CHECK(e_grad < tol);
        CHECK(loss_only == loss);  // one computation behind both entry points
    }
    REQUIRE(cases > 0);
}

}  // namespace golden_test
