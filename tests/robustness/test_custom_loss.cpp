// A loss written outside the library, as a user would: squared error between the logits and the
// one-hot label (a least-squares classifier), in the members of logreg/loss.hpp only. It trains
// through the same Trainer as cross-entropy, with its threads, the distributed-ready reduction
// and checkpoints; one step matches the closed-form gradient, and evaluate() reports its loss.
#include "test_support.hpp"

#include <logreg/io/checkpoint.hpp>

namespace user_code {

/// l_i = scale / 2 * ||z_i - e_{y_i}||^2, so dl_i/dz_i = scale * (z_i - e_{y_i}).
template <typename Scalar>
class SquaredError {
public:
    explicit SquaredError(double scale = 1.0) : scale_(scale) {}

    void validate(logreg::Index /*num_classes*/) const {
        if (!(std::isfinite(scale_) && scale_ > 0))
            throw logreg::InvalidParameter(
                logreg::detail::cat("SquaredError: 'scale' is ", scale_, "; it must be > 0"));
    }

    template <typename Derived>
    logreg::LossSums accumulate(Eigen::MatrixBase<Derived>& z, const std::int32_t* labels,
                                const double* sample_weights) const {
        logreg::LossSums sums;
        for (logreg::Index i = 0; i < z.rows(); ++i) {
            const double s = sample_weights ? sample_weights[i] : 1.0;
            z(i, labels[i]) -= Scalar(1);
            sums.loss_sum += s * scale_ / 2 * static_cast<double>(z.row(i).squaredNorm());
            sums.weight_sum += s;
            z.row(i) *= static_cast<Scalar>(s * scale_);
        }
        return sums;
    }

private:
    double scale_;
};

}  // namespace user_code

using namespace logreg;
using user_code::SquaredError;

TEST_CASE("a user's loss: one step equals the closed-form gradient step", "[custom-loss]") {
    const Dataset<double> data = logreg_test::blobs<double>(90, 5, 3, 61);
    const auto pre = Preprocessor<double>::identity(5);
    const LinearSoftmax<double> init(5, 3, Init::uniform, 2);
    for (int threads : {1, 2}) {
        TrainOptions o;
        o.batch_size = 90;  // one full batch: 45 rows per thread with two
        o.threads = threads;
        o.sgd.lr = 0.05;
        Trainer<double, SGD<double>, SquaredError<double>> t(init, o, SquaredError<double>(2.0));
        const IndexVector rows = iota(90);
        const double loss = t.step(data, rows.data(), 90, pre).mean();

        // Reference: Z = X W^T + b, G = 2 (Z - Y) / n, W -= lr G^T X, b -= lr colsum(G).
        const Eigen::MatrixXd x = data.features();
        Eigen::MatrixXd z = (x * init.weight().transpose()).rowwise() + init.bias().transpose();
        Eigen::MatrixXd y = Eigen::MatrixXd::Zero(90, 3);
        for (Index i = 0; i < 90; ++i) y(i, data.labels()[i]) = 1;
        const Eigen::MatrixXd g = 2.0 * (z - y) / 90.0;
        const Eigen::MatrixXd w = init.weight() - 0.05 * g.transpose() * x;
        const Eigen::VectorXd b = init.bias() - 0.05 * g.colwise().sum().transpose();
        CAPTURE(threads);
        REQUIRE(loss == Approx((z - y).squaredNorm() / 90.0).epsilon(1e-12));
        REQUIRE(logreg_test::rel_error(t.model().weight(), w) < 1e-12);
        REQUIRE(logreg_test::rel_error(t.model().bias(), b) < 1e-12);
    }
}

TEST_CASE("a user's loss trains with threads, validation and a checkpoint", "[custom-loss]") {
    const Dataset<float> train = logreg_test::blobs<float>(400, 6, 3, 62),
                         val = logreg_test::blobs<float>(200, 6, 3, 63);
    const auto pre = Preprocessor<float>::identity(6);
    TrainOptions o;
    o.batch_size = 50;
    o.epochs = 4;
    o.threads = 2;
    o.sgd.lr = 0.02;
    o.sgd.momentum = 0.9;
    using LeastSquares = Trainer<float, SGD<float>, SquaredError<float>>;
    LeastSquares whole(LinearSoftmax<float>(6, 3), o);
    const TrainReport r = whole.fit(train, val, pre);
    REQUIRE(r.reason == StopReason::max_epochs);
    REQUIRE(r.history.back().train_loss < r.history.front().train_loss);
    REQUIRE(r.history.back().val_accuracy > 0.9);
    // The validation loss is the user's loss, not cross-entropy.
    REQUIRE(r.history.back().val_loss == Approx(evaluate(whole.model(), val, pre, SquaredError<float>()).loss));
    REQUIRE(r.history.back().val_loss != Approx(evaluate(whole.model(), val, pre).loss));

    // Two epochs, a checkpoint, two more in a new trainer: bitwise the four-epoch run.
    const logreg_test::TempDir dir("logreg-custom-loss");
    const std::string path = dir / "least-squares.ckpt";
    o.epochs = 2;
    LeastSquares first(LinearSoftmax<float>(6, 3), o);
    first.fit(train, val, pre);
    io::save_checkpoint(path, first);
    LeastSquares second(LinearSoftmax<float>(6, 3), o);
    io::load_checkpoint(path, second);
    second.fit(train, val, pre);
    REQUIRE(second.model().weight() == whole.model().weight());
    REQUIRE(second.model().bias() == whole.model().bias());
}

TEST_CASE("a user's loss validates its options when the trainer is made", "[custom-loss]") {
    using T = Trainer<double, SGD<double>, SquaredError<double>>;
    REQUIRE_THROWS_WITH(T(LinearSoftmax<double>(4, 3), TrainOptions{}, SquaredError<double>(-1.0)),
                        logreg_test::contains("SquaredError: 'scale' is -1"));
}
