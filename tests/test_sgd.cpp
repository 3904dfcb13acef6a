// SGD: single steps against values computed by hand (PyTorch's rule, see sgd.hpp).
#include "test_support.hpp"

#include <limits>

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace sgd_test {

using namespace logreg;

namespace {
/// A 2-class, 1-feature model with w = [1, -2], b = [0.5, 0].
LinearSoftmax<double> tiny_model() {
    LinearSoftmax<double> m(1, 2);
    m.weight() << 1, -2;
    m.bias() << 0.5, 0;
    return m;
}
Gradient<double> tiny_grad(double gw0, double gw1, double gb0, double gb1) {
    Gradient<double> g;
    g.resize(2, 1);
    g.weight << gw0, gw1;
    g.bias << gb0, gb1;
    return g;
}
}  // namespace

TEST_CASE("plain SGD: p -= lr * g", "[sgd]") {
    auto m = tiny_model();
    SGDParams prm;
    prm.lr = 0.1;
    SGD<double> opt(prm);
    auto g = tiny_grad(1, 2, 3, 4);
    opt.step(m, g, 0.1);
    REQUIRE(m.weight()(0, 0) == Approx(0.9));
    REQUIRE(m.weight()(1, 0) == Approx(-2.2));
    REQUIRE(m.bias()[0] == Approx(0.2));
    REQUIRE(m.bias()[1] == Approx(-0.4));
}

TEST_CASE("momentum: first step has no dampening, later steps do", "[sgd]") {
    auto m = tiny_model();
    SGDParams prm;
    prm.lr = 0.1;
    prm.momentum = 0.9;
    prm.dampening = 0.5;
    SGD<double> opt(prm);
    auto g = tiny_grad(1, 0, 0, 0);
    opt.step(m, g, 0.1);  // buf = 1 -> w = 1 - 0.1 * 1 = 0.9
    REQUIRE(m.weight()(0, 0) == Approx(0.9));
    g = tiny_grad(1, 0, 0, 0);
    opt.step(m, g, 0.1);  // buf = 0.9 * 1 + 0.5 * 1 = 1.4 -> w = 0.9 - 0.14 = 0.76
    REQUIRE(m.weight()(0, 0) == Approx(0.76));
    REQUIRE(opt.weight_buffer()(0, 0) == Approx(1.4));
}

TEST_CASE("Nesterov: g + momentum * buf", "[sgd]") {
    auto m = tiny_model();
    SGDParams prm;
    prm.momentum = 0.9;
    prm.nesterov = true;
    SGD<double> opt(prm);
    auto g = tiny_grad(1, 0, 0, 0);
    opt.step(m, g, 0.1);  // buf = 1, d = 1 + 0.9 = 1.9 -> w = 1 - 0.19 = 0.81
    REQUIRE(m.weight()(0, 0) == Approx(0.81));
    g = tiny_grad(2, 0, 0, 0);
    opt.step(m, g, 0.1);  // buf = 0.9 + 2 = 2.9, d = 2 + 0.9 * 2.9 = 4.61 -> w = 0.81 - 0.461 = 0.349
    REQUIRE(m.weight()(0, 0) == Approx(0.349));
}

TEST_CASE("weight decay is added to the gradient before momentum, bias too by default", "[sgd]") {
    auto m = tiny_model();
    SGDParams prm;
    prm.momentum = 0.5;
    prm.weight_decay = 0.1;
    SGD<double> opt(prm);
    auto g = tiny_grad(0, 0, 0, 0);
    opt.step(m, g, 1.0);  // g = 0.1 * p; buf = g; p -= 1.0 * 0.1 * p
    REQUIRE(m.weight()(0, 0) == Approx(0.9));
    REQUIRE(m.weight()(1, 0) == Approx(-1.8));
    REQUIRE(m.bias()[0] == Approx(0.45));
    g = tiny_grad(0, 0, 0, 0);
    opt.step(m, g, 1.0);  // g = 0.09; buf = 0.5 * 0.1 + 0.09 = 0.14 -> w = 0.9 - 0.14 = 0.76
    REQUIRE(m.weight()(0, 0) == Approx(0.76));

    auto m2 = tiny_model();
    prm.decay_bias = false;
    SGD<double> no_bias_decay(prm);
    g = tiny_grad(0, 0, 0, 0);
    no_bias_decay.step(m2, g, 1.0);
    REQUIRE(m2.bias()[0] == 0.5);
    REQUIRE(m2.weight()(0, 0) == Approx(0.9));
}

TEST_CASE("SGDParams validate names the field", "[sgd][errors]") {
    auto bad = [](auto mutate, const char* field) {
        SGDParams p;
        mutate(p);
        REQUIRE_THROWS_AS(p.validate(), InvalidParameter);
        try {
            p.validate();
        } catch (const Error& e) {
            REQUIRE(std::string(e.what()).find(field) != std::string::npos);
        }
    };
    bad([](SGDParams& p) { p.lr = 0; }, "'lr'");
    bad([](SGDParams& p) { p.lr = -1; }, "'lr'");
    bad([](SGDParams& p) { p.lr = std::nan(""); }, "'lr'");
    bad([](SGDParams& p) { p.lr = HUGE_VAL; }, "'lr'");
    bad([](SGDParams& p) { p.momentum = 1; }, "'momentum'");
    bad([](SGDParams& p) { p.momentum = -0.1; }, "'momentum'");
    bad([](SGDParams& p) { p.dampening = 2; }, "'dampening'");
    bad([](SGDParams& p) { p.weight_decay = -1e-4; }, "'weight_decay'");
    bad([](SGDParams& p) { p.nesterov = true; }, "'nesterov'");
    SGDParams ok;
    REQUIRE_NOTHROW(ok.validate());
    REQUIRE(ok.momentum == 0);
    REQUIRE(ok.weight_decay == 0);
    REQUIRE(ok.decay_bias);
}

TEST_CASE("an update split into class ranges (as threads do it) equals the whole step bitwise", "[sgd][threads]") {
    std::mt19937_64 gen(logreg_test::seed());
    for (int variant = 0; variant < 4; ++variant) {
        SGDParams prm;
        prm.momentum = variant >= 1 ? 0.9 : 0.0;
        prm.nesterov = variant == 2;
        prm.weight_decay = variant == 3 ? 0.01 : 0.0;
        prm.dampening = variant == 3 ? 0.1 : 0.0;
        CAPTURE(variant);
        LinearSoftmax<float> whole(7, 5, Init::uniform, 3), split = whole;
        SGD<float> a(prm), b(prm);
        for (int step = 0; step < 3; ++step) {
            Gradient<float> g;
            g.weight = logreg_test::random_matrix<float>(5, 7, gen, 1.0);
            g.bias = logreg_test::random_matrix<float>(5, 1, gen, 1.0);
            Gradient<float> g2 = g;
            a.step(whole, g, 0.05);
            b.begin_step(split, g2, 0.05);
            b.update_rows(split, g2, 0.05, 3, 2);  // in any order, as threads finish
            b.update_rows(split, g2, 0.05, 0, 3);
            b.end_step();
            REQUIRE(whole.weight() == split.weight());
            REQUIRE(whole.bias() == split.bias());
        }
        REQUIRE(a.steps() == b.steps());
        REQUIRE(a.has_buffers() == b.has_buffers());
    }
}

/// True if the calling thread keeps denormal results (x * y below FLT_MIN is not flushed to zero).
bool keeps_denormals() {
    volatile float tiny = 1e-30f, small = 1e-10f;
    return tiny * small != 0.0f;
}

TEST_CASE("momentum and Adam moments decay to zero instead of through the denormals", "[sgd][adam][denormal]") {
    if (!keeps_denormals()) {
        WARN("skipped: this thread already flushes denormals (FTZ set by the caller), nothing to compare with");
        return;
    }
    // One gradient, then zeros: the buffers decay geometrically by 0.5 (SGD) / 0.5 (Adam's beta1).
    LinearSoftmax<float> model(1, 2);
    Gradient<float> g;
    g.resize(2, 1);
    SGDParams sp;
    sp.momentum = 0.5;
    SGD<float> sgd(sp);
    AdamParams ap;
    ap.beta1 = 0.5;
    Adam<float> adam(ap);
    LinearSoftmax<float> model2 = model;
    for (int step = 0; step < 200; ++step) {
        g.weight.setConstant(step == 0 ? 1.0f : 0.0f);
        g.bias.setConstant(step == 0 ? 1.0f : 0.0f);
        Gradient<float> g2 = g;
        sgd.step(model, g, 1e-3);
        apply_step(adam, model2, g2, 1e-3);
        const float buf = sgd.weight_buffer()(0, 0);
        const float m = adam.state().matrices.at("weight_exp_avg")(0, 0);
        CAPTURE(step, buf, m);
        // Never a denormal: either a normal float or exactly zero.
        REQUIRE((buf == 0.0f || std::abs(buf) >= std::numeric_limits<float>::min()));
        REQUIRE((m == 0.0f || std::abs(m) >= std::numeric_limits<float>::min()));
    }
    REQUIRE(sgd.weight_buffer()(0, 0) == 0.0f);  // 0.5^200 is far below the smallest float
    REQUIRE(adam.state().matrices.at("weight_exp_avg")(0, 0) == 0.0f);
    REQUIRE(keeps_denormals());  // the caller's floating-point mode is restored after each update
}

TEST_CASE("update_columns updates exactly its columns and biases, and refuses a block outside the model", "[sgd]") {
    LinearSoftmax<float> model(20, 3, Init::uniform, 4);
    Gradient<float> g;
    g.weight = RowMatrix<float>::Constant(3, 20, 1.0f);
    g.bias = Vector<float>::Constant(3, 1.0f);
    const LinearSoftmax<float> before = model;
    SGD<float> sgd(SGDParams{});
    sgd.begin_step(model, g, 0.5);
    REQUIRE(sgd.update_columns(model, g, 0.5, ColumnBlock{4, 8, 1, 1}));
    const Eigen::ArrayXXf dw = (before.weight() - model.weight()).array();
    CHECK(((dw.middleCols(4, 8) - 0.5f).abs() < 1e-6f).all());  // w - (w - 0.5) rounds
    CHECK((dw.leftCols(4) == 0.0f).all());
    CHECK((dw.rightCols(8) == 0.0f).all());
    CHECK(before.bias()[1] - model.bias()[1] == Approx(0.5f).epsilon(1e-5));
    CHECK(before.bias()[0] == model.bias()[0]);
    CHECK(before.bias()[2] == model.bias()[2]);
    REQUIRE_THROWS_AS(sgd.update_columns(model, g, 0.5, ColumnBlock{16, 8, 0, 0}), InvalidParameter);
    REQUIRE_THROWS_AS(sgd.update_columns(model, g, 0.5, ColumnBlock{0, 1, 2, 2}), InvalidParameter);
    Adam<float> adam;
    adam.begin_step(model, g, 0.1);
    REQUIRE_THROWS_AS(adam.update_columns(model, g, 0.1, ColumnBlock{-1, 2, 0, 0}), InvalidParameter);
}

}  // namespace sgd_test
