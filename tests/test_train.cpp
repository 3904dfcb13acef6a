// The training loop: convergence, determinism, batches, validation, early stopping,
// weights, callbacks, divergence, continuation and threads.
#include "test_support.hpp"

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace train_test {

using namespace logreg;

namespace {
template <typename Scalar>
TrainOptions quick_options() {
    TrainOptions o;
    o.epochs = 5;
    o.batch_size = 16;
    o.seed = logreg_test::seed();
    o.sgd.lr = 0.1;
    return o;
}
}  // namespace

TEMPLATE_TEST_CASE("converges to > 99% training accuracy on separable data", "[train]", float, double) {
    const auto data = logreg_test::blobs<TestType>(600, 8, 4, 30);
    Trainer<TestType> t(LinearSoftmax<TestType>(8, 4, Init::uniform, logreg_test::seed()), quick_options<TestType>());
    const auto r = t.fit(data, Preprocessor<TestType>::identity(8));
    REQUIRE(r.reason == StopReason::max_epochs);
    REQUIRE(r.history.size() == 5);
    REQUIRE(r.history.back().train_loss < r.history.front().train_loss);
    const auto ev = evaluate(t.model(), data, Preprocessor<TestType>::identity(8));
    REQUIRE(ev.accuracy > 0.99);
}

TEMPLATE_TEST_CASE("the same seed gives bitwise-identical results", "[train][determinism]", float, double) {
    const auto data = logreg_test::blobs<TestType>(301, 8, 3, 31);
    for (int threads : {1, 2, 3}) {
        auto opts = quick_options<TestType>();
        opts.threads = threads;
        opts.batch_size = 75;  // 25 rows per thread: enough for 3 threads to share a step (24)
        opts.sgd.momentum = 0.9;
        opts.validation_fraction = 0.2;
        Trainer<TestType> a(LinearSoftmax<TestType>(8, 3, Init::uniform, 5), opts);
        Trainer<TestType> b(LinearSoftmax<TestType>(8, 3, Init::uniform, 5), opts);
        const auto ra = a.fit(data, Preprocessor<TestType>::identity(8));
        const auto rb = b.fit(data, Preprocessor<TestType>::identity(8));
        REQUIRE(a.model().weight() == b.model().weight());
        REQUIRE(a.model().bias() == b.model().bias());
        REQUIRE(ra.batch_losses == rb.batch_losses);
    }
    // A different seed shuffles differently.
    auto o1 = quick_options<TestType>(), o2 = quick_options<TestType>();
    o2.seed = o1.seed + 1;
    Trainer<TestType> c(LinearSoftmax<TestType>(8, 3), o1), d(LinearSoftmax<TestType>(8, 3), o2);
    c.fit(data, Preprocessor<TestType>::identity(8));
    d.fit(data, Preprocessor<TestType>::identity(8));
    REQUIRE(c.model().weight() != d.model().weight());
}

TEST_CASE("threads split the batch: same result as one thread up to rounding", "[train][threads]") {
    const auto data = logreg_test::blobs<double>(257, 8, 3, 32);
    auto o1 = quick_options<double>();
    o1.batch_size = 64;  // 32 rows per thread: two threads share each step
    auto o2 = o1;
    o2.threads = 2;
    Trainer<double> a(LinearSoftmax<double>(8, 3), o1), b(LinearSoftmax<double>(8, 3), o2);
    a.fit(data, Preprocessor<double>::identity(8));
    b.fit(data, Preprocessor<double>::identity(8));
    REQUIRE(logreg_test::rel_error(a.model().weight(), b.model().weight()) < 1e-12);
}

TEST_CASE("the short last batch is a mean over its own rows, weighted by its size in the epoch loss", "[train]") {
    // 10 samples, batch 4: batches of 4, 4 and 2. With lr tiny, the epoch loss is the
    // sample mean of the initial per-sample losses regardless of how batches fall.
    const auto data = logreg_test::blobs<double>(10, 4, 3, 33);
    auto opts = quick_options<double>();
    opts.epochs = 1;
    opts.batch_size = 4;
    opts.shuffle = false;
    std::vector<Index> sizes;
    Trainer<double> t(LinearSoftmax<double>(4, 3, Init::uniform, 9), opts);
    const LinearSoftmax<double> start = t.model();
    Callbacks cb;
    cb.on_batch = [&](const BatchRecord& b) {
        sizes.push_back(b.samples);
        return true;
    };
    t.set_callbacks(cb);
    const auto r = t.fit(data, Preprocessor<double>::identity(4));
    REQUIRE(sizes == std::vector<Index>{4, 4, 2});
    REQUIRE(r.batch_losses.size() == 3);
    const double weighted = (4 * r.batch_losses[0] + 4 * r.batch_losses[1] + 2 * r.batch_losses[2]) / 10;
    REQUIRE(r.history[0].train_loss == Approx(weighted).epsilon(1e-14));
    // The last batch's loss is the mean over its 2 rows, computed with the model after 2 steps.
    LinearSoftmax<double> replay = start;
    SGD<double> opt(opts.sgd);
    const CrossEntropy<double> ce;
    for (Index b = 0; b < 3; ++b) {
        const Index n = b < 2 ? 4 : 2;
        const RowMatrix<double> xb = data.features().middleRows(4 * b, n);
        const LabelVector yb = data.labels().segment(4 * b, n);
        RowMatrix<double> z = replay.logits(xb);
        const double loss = ce.loss_and_gradient(z, yb);
        REQUIRE(loss == Approx(r.batch_losses[static_cast<std::size_t>(b)]).epsilon(1e-12));
        Gradient<double> g;
        replay.backward(xb, z, g);
        opt.step(replay, g, opts.sgd.lr);
    }
    REQUIRE(logreg_test::rel_error(replay.weight(), t.model().weight()) < 1e-13);
}

TEST_CASE("sample weights behave like duplicated samples", "[train][weights]") {
    // Full-batch training makes the comparison exact: every step sees the whole data set.
    auto data = logreg_test::blobs<double>(20, 5, 3, 34);
    Vector<double> w = Vector<double>::Ones(20);
    w[3] = 3;
    w[7] = 2;
    w[11] = 0;
    std::vector<Index> rows;
    for (Index i = 0; i < 20; ++i)
        for (int k = 0; k < static_cast<int>(w[i]); ++k) rows.push_back(i);
    const auto dup = data.subset(Eigen::Map<IndexVector>(rows.data(), static_cast<Index>(rows.size())));
    data.set_sample_weights(w);

    auto opts = quick_options<double>();
    opts.epochs = 10;
    opts.sgd.momentum = 0.9;
    opts.batch_size = 1000;  // clamps to the data size: one batch per epoch
    CrossEntropyOptions ce;
    ce.class_weights = Vector<double>(3);
    ce.class_weights << 1.0, 2.0, 0.5;
    Trainer<double> a(LinearSoftmax<double>(5, 3), opts, ce), b(LinearSoftmax<double>(5, 3), opts, ce);
    const auto ra = a.fit(data, Preprocessor<double>::identity(5));
    const auto rb = b.fit(dup, Preprocessor<double>::identity(5));
    REQUIRE(logreg_test::rel_error(a.model().weight(), b.model().weight()) < 1e-12);
    REQUIRE(ra.history.back().train_loss == Approx(rb.history.back().train_loss).epsilon(1e-12));
}

TEST_CASE("validation history and early stopping restore the best weights", "[train][early-stopping]") {
    // Noisy labels on few samples: the validation loss bottoms out and then rises.
    auto gen = logreg_test::rng(35);
    const Index n = 120, d = 30;
    RowMatrix<double> x = logreg_test::random_matrix<double>(n, d, gen);
    LabelVector y = logreg_test::random_labels(n, 2, gen);
    for (Index i = 0; i < n / 2; ++i) y[i] = x(i, 0) > 0 ? 1 : 0;  // half the labels carry signal
    const Dataset<double> data(x, y, 2);
    auto opts = quick_options<double>();
    opts.epochs = 200;
    opts.batch_size = 8;
    opts.sgd.lr = 0.5;
    opts.validation_fraction = 0.3;
    opts.patience = 3;
    Trainer<double> t(LinearSoftmax<double>(d, 2), opts);
    std::vector<LinearSoftmax<double>> snapshots;
    Callbacks cb;
    cb.on_epoch = [&](const EpochRecord&) {
        snapshots.push_back(t.model());
        return true;
    };
    t.set_callbacks(cb);
    const auto r = t.fit(data, Preprocessor<double>::identity(d));
    REQUIRE(r.reason == StopReason::early_stop);
    REQUIRE(r.history.size() < 200);
    REQUIRE(r.best_epoch >= 1);
    REQUIRE(static_cast<int>(r.history.size()) == r.best_epoch + opts.patience);
    for (const auto& e : r.history) {
        REQUIRE(std::isfinite(e.val_loss));
        REQUIRE(e.val_accuracy >= 0);
        REQUIRE(e.seconds >= 0);
        REQUIRE(e.val_loss >= r.best_val_loss);
    }
    REQUIRE(t.model().weight() == snapshots[static_cast<std::size_t>(r.best_epoch - 1)].weight());
}

TEST_CASE("callbacks can stop training", "[train][callbacks]") {
    const auto data = logreg_test::blobs<float>(100, 4, 2, 36);
    auto opts = quick_options<float>();
    Trainer<float> t(LinearSoftmax<float>(4, 2), opts);
    Callbacks cb;
    int epochs_seen = 0;
    cb.on_epoch = [&](const EpochRecord& e) {
        ++epochs_seen;
        return e.epoch < 2;
    };
    t.set_callbacks(cb);
    const auto r = t.fit(data, Preprocessor<float>::identity(4));
    REQUIRE(r.reason == StopReason::callback);
    REQUIRE(epochs_seen == 2);
    REQUIRE(t.epochs_done() == 2);

    Trainer<float> u(LinearSoftmax<float>(4, 2), opts);
    Callbacks stop_batch;
    stop_batch.on_batch = [](const BatchRecord& b) { return b.batch < 3; };
    u.set_callbacks(stop_batch);
    const auto r2 = u.fit(data, Preprocessor<float>::identity(4));
    REQUIRE(r2.reason == StopReason::callback);
    REQUIRE(r2.batch_losses.size() == 4);
}

TEST_CASE("divergence stops with the epoch and batch and restores the epoch's start", "[train][divergence]") {
    const auto blobs = logreg_test::blobs<double>(64, 4, 3, 37);
    const Dataset<double> data(blobs.features() * 1e10, blobs.labels(), 3);
    auto opts = quick_options<double>();
    opts.sgd.lr = 1e300;  // gradients of ~1e10 times 1e300 overflow the weights
    Trainer<double> t(LinearSoftmax<double>(4, 3, Init::uniform, 1), opts);
    const LinearSoftmax<double> start = t.model();
    const auto r = t.fit(data, Preprocessor<double>::identity(4));
    REQUIRE(r.reason == StopReason::diverged);
    REQUIRE(r.diverged_epoch == 1);
    REQUIRE(r.diverged_batch >= 0);
    REQUIRE_THAT(r.message, logreg_test::contains("smaller learning rate"));
    REQUIRE(t.model().all_finite());
    REQUIRE(t.model().weight() == start.weight());
}

TEST_CASE("training continues where it stopped, optimizer state kept", "[train][continue]") {
    const auto data = logreg_test::blobs<double>(96, 4, 3, 38);
    auto opts = quick_options<double>();
    opts.sgd.momentum = 0.9;
    opts.epochs = 4;
    Trainer<double> whole(LinearSoftmax<double>(4, 3), opts);
    whole.fit(data, Preprocessor<double>::identity(4));

    opts.epochs = 2;
    Trainer<double> halves(LinearSoftmax<double>(4, 3), opts);
    halves.fit(data, Preprocessor<double>::identity(4));
    const auto r = halves.fit(data, Preprocessor<double>::identity(4));
    REQUIRE(r.history.front().epoch == 3);
    REQUIRE(halves.epochs_done() == 4);
    REQUIRE(halves.model().weight() == whole.model().weight());

    // partial_fit: one step per call, momentum carried over, same as two steps of SGD by hand.
    Trainer<double> p(LinearSoftmax<double>(4, 3), opts);
    const RowMatrix<double> xb = data.features().topRows(8);
    const LabelVector yb = data.labels().head(8);
    p.partial_fit(xb, yb);
    p.partial_fit(xb, yb);
    LinearSoftmax<double> ref(4, 3);
    SGD<double> opt(opts.sgd);
    for (int s = 0; s < 2; ++s) {
        RowMatrix<double> z = ref.logits(xb);
        CrossEntropy<double>().loss_and_gradient(z, yb);
        Gradient<double> g;
        ref.backward(xb, z, g);
        opt.step(ref, g, opts.sgd.lr);
    }
    REQUIRE(logreg_test::rel_error(p.model().weight(), ref.weight()) < 1e-14);
    REQUIRE(p.optimizer().steps() == 2);
}

TEST_CASE("uint8 features train like the same data pre-converted to float", "[train][uint8]") {
    auto gen = logreg_test::rng(39);
    std::uniform_int_distribution<int> px(0, 255);
    RowMatrix<std::uint8_t> bytes(80, 6);
    for (Index i = 0; i < bytes.size(); ++i) bytes.data()[i] = static_cast<std::uint8_t>(px(gen));
    LabelVector y(80);
    for (Index i = 0; i < 80; ++i) y[i] = bytes(i, 0) > bytes(i, 1) ? 1 : 0;
    const Dataset<std::uint8_t> raw(bytes, y, 2);
    const Dataset<float> converted(Preprocessor<float>::unit(6).transform(bytes), y, 2);
    auto opts = quick_options<float>();
    Trainer<float> a(LinearSoftmax<float>(6, 2), opts), b(LinearSoftmax<float>(6, 2), opts);
    a.fit(raw, Preprocessor<float>::unit(6));
    b.fit(converted, Preprocessor<float>::identity(6));
    REQUIRE(a.model().weight() == b.model().weight());
}

TEST_CASE("schedules drive the learning rate per epoch or per step", "[train][schedule]") {
    const auto data = logreg_test::blobs<double>(40, 4, 2, 40);
    auto opts = quick_options<double>();
    opts.epochs = 4;
    opts.schedule = Schedule::step(2, 0.5);
    Trainer<double> t(LinearSoftmax<double>(4, 2), opts);
    const auto r = t.fit(data, Preprocessor<double>::identity(4));
    REQUIRE(r.history[0].lr == Approx(0.1));
    REQUIRE(r.history[1].lr == Approx(0.1));
    REQUIRE(r.history[2].lr == Approx(0.05));
    REQUIRE(r.history[3].lr == Approx(0.05));
    opts.schedule_per_step = true;
    opts.schedule = Schedule::exponential(0.5);
    Trainer<double> s(LinearSoftmax<double>(4, 2), opts);
    std::vector<double> lrs;
    Callbacks cb;
    cb.on_batch = [&](const BatchRecord& b) {
        lrs.push_back(b.lr);
        return true;
    };
    s.set_callbacks(cb);
    s.fit(data, Preprocessor<double>::identity(4));
    REQUIRE(lrs[0] == Approx(0.1));
    REQUIRE(lrs[1] == Approx(0.05));
    REQUIRE(lrs[2] == Approx(0.025));
}

}  // namespace train_test
