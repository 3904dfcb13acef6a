// An optimizer written outside the library, as a user would (sign-SGD: p -= lr * sign(g)), trains
// through the same Trainer as SGD: one and two threads, fit() with validation, and a checkpoint
// that resumes to bitwise the uninterrupted weights. Only logreg/optimizer.hpp's members.
#include "test_support.hpp"

#include <logreg/io/checkpoint.hpp>

#include <atomic>

namespace user_code {

struct SignSGDParams {
    double lr = 0.01;
    void validate() const {
        if (!(std::isfinite(lr) && lr > 0)) throw logreg::InvalidParameter("SignSGDParams: 'lr' must be > 0");
    }
};

/// p -= lr * sign(g): no state but the step count.
template <typename Scalar>
class SignSGD {
public:
    using Params = SignSGDParams;
    static constexpr const char* name = "sign_sgd";

    SignSGD() = default;
    explicit SignSGD(Params p) : params_(p) { params_.validate(); }
    const Params& params() const { return params_; }
    void set_params(const Params& p) {
        p.validate();
        params_ = p;
    }

    void begin_step(const logreg::LinearSoftmax<Scalar>&, const logreg::Gradient<Scalar>&, double) {}
    bool update_rows(logreg::LinearSoftmax<Scalar>& model, logreg::Gradient<Scalar>& grad, double lr,
                     logreg::Index first, logreg::Index count, Scalar /*grad_scale: a sign ignores it*/) {
        auto w = model.weight().middleRows(first, count);
        auto b = model.bias().segment(first, count);
        w -= static_cast<Scalar>(lr) * grad.weight.middleRows(first, count).array().sign().matrix();
        b -= static_cast<Scalar>(lr) * grad.bias.segment(first, count).array().sign().matrix();
        return w.allFinite() && b.allFinite();
    }
    void end_step() { ++steps_; }

    long long steps() const { return steps_; }
    void reset() { steps_ = 0; }
    logreg::OptimizerState<Scalar> state() const { return {steps_, {}, {}}; }
    void restore(const logreg::OptimizerState<Scalar>& s) {
        if (!s.matrices.empty() || !s.vectors.empty())
            throw logreg::InvalidParameter("SignSGD::restore: sign-SGD keeps no tensors");
        steps_ = s.steps;
    }

private:
    Params params_;
    long long steps_ = 0;
};

}  // namespace user_code

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace custom_optimizer_test {

using namespace logreg;
using user_code::SignSGD;

TEST_CASE("a user's optimizer trains through the Trainer like SGD", "[optimizer][custom]") {
    const auto data = logreg_test::blobs<double>(400, 8, 4, 81);
    const auto pre = Preprocessor<double>::identity(8);
    TrainOptions o;
    o.epochs = 8;
    o.batch_size = 100;  // 50 rows per thread with two: the step really shares its rows
    o.validation_fraction = 0.25;
    for (const int threads : {1, 2}) {
        CAPTURE(threads);
        o.threads = threads;
        // A random start: from zeros, a batch with equal class counts has an exactly zero bias
        // gradient, whose sign then depends on rounding.
        Trainer<double, SignSGD<double>> t(LinearSoftmax<double>(8, 4, Init::uniform, 3), o, SignSGD<double>({0.05}));
        const TrainReport r = t.fit(data, pre);
        REQUIRE(r.reason == StopReason::max_epochs);
        REQUIRE(t.optimizer().steps() == 8 * 3);  // 300 training rows in batches of 100
        REQUIRE(r.history.back().train_loss < r.history.front().train_loss);
        REQUIRE(r.history.back().val_accuracy > 0.9);

        // The same steps by hand: the mean gradient of each batch (one thread's sums), its sign.
        LinearSoftmax<double> ref(8, 4, Init::uniform, 3);
        const Split s = train_validation_split(data.size(), o.validation_fraction, o.seed);
        detail::Rng rng(o.seed);
        const CrossEntropy<double> loss;
        for (int e = 0; e < o.epochs; ++e) {
            IndexVector order = s.train;
            detail::shuffle(order.data(), order.size(), rng);
            for (Index b = 0; b < order.size(); b += o.batch_size) {
                const Index n = std::min(o.batch_size, order.size() - b);
                RowMatrix<double> x(n, 8);
                LabelVector y(n);
                for (Index i = 0; i < n; ++i) {
                    x.row(i) = data.features().row(order[b + i]);
                    y[i] = data.labels()[order[b + i]];
                }
                RowMatrix<double> z;
                ref.logits(x, z);
                loss.loss_and_gradient(z, y);
                Gradient<double> g;
                g.resize(4, 8);
                ref.backward(x, z, g);
                ref.weight() -= 0.05 * g.weight.array().sign().matrix();
                ref.bias() -= 0.05 * g.bias.array().sign().matrix();
            }
        }
        REQUIRE((t.model().weight() - ref.weight()).cwiseAbs().maxCoeff() < 1e-12);
        REQUIRE((t.model().bias() - ref.bias()).cwiseAbs().maxCoeff() < 1e-12);
    }
}

TEST_CASE("a user's optimizer is checkpointed and resumed bitwise", "[optimizer][custom][checkpoint]") {
    const auto data = logreg_test::blobs<float>(200, 6, 3, 82);
    const auto pre = Preprocessor<float>::identity(6);
    TrainOptions o;
    o.epochs = 3;
    o.batch_size = 50;
    o.threads = 2;
    Trainer<float, SignSGD<float>> whole(LinearSoftmax<float>(6, 3), o, SignSGD<float>({0.02}));
    whole.fit(data, pre);

    std::atomic<bool> stop{false};
    Trainer<float, SignSGD<float>> first(LinearSoftmax<float>(6, 3), o, SignSGD<float>({0.02}));
    Callbacks cb;
    int batches = 0;
    cb.on_batch = [&](const BatchRecord&) {
        if (++batches == 6) stop = true;
        return true;
    };
    cb.stop = &stop;
    first.set_callbacks(cb);
    REQUIRE(first.fit(data, pre).reason == StopReason::interrupted);
    const logreg_test::TempDir dir("logreg-sign-sgd");
    const std::string path = dir / "sign-sgd.ckpt";
    io::save_checkpoint(path, first);

    Trainer<float, SignSGD<float>> second(LinearSoftmax<float>(6, 3), o, SignSGD<float>({0.02}));
    io::load_checkpoint(path, second);
    REQUIRE(second.optimizer().steps() == 6);
    o.epochs = 3 - second.epochs_done();
    second.set_options(o);
    second.fit(data, pre);
    REQUIRE(second.model().weight() == whole.model().weight());
    REQUIRE(second.model().bias() == whole.model().bias());
}

}  // namespace custom_optimizer_test
