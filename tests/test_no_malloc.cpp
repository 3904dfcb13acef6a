// The training step does not touch the heap after the first batch (Eigen's malloc guard).
// This executable is compiled with EIGEN_RUNTIME_NO_MALLOC, which makes any Eigen
// allocation assert while set_is_malloc_allowed(false) is in effect.
#include <stdexcept>

// The guard reports through eigen_assert, which NDEBUG (every Release and sanitizer build)
// compiles away: here it throws whatever the build type, so an allocation under the guard
// fails the test instead of passing unseen. (It also turns on Eigen's other checks, such as
// index bounds, in this executable.)
namespace logreg_test {
struct EigenAssertionFailed : std::logic_error {
    using std::logic_error::logic_error;
};
}  // namespace logreg_test
#define eigen_assert(condition)                                                                 \
    do {                                                                                        \
        if (!(condition)) throw logreg_test::EigenAssertionFailed("eigen_assert: " #condition); \
    } while (false)

#include "test_support.hpp"

using namespace logreg;

namespace {
/// Allows Eigen allocations again when the scope ends, however it ends: a guard left off by a
/// failed check would fail every later test with a misleading message.
struct AllowMallocOnExit {
    AllowMallocOnExit() = default;
    AllowMallocOnExit(const AllowMallocOnExit&) = delete;
    AllowMallocOnExit& operator=(const AllowMallocOnExit&) = delete;
    ~AllowMallocOnExit() { Eigen::internal::set_is_malloc_allowed(true); }
};
}  // namespace

/// A trainer with `optimizer`, stepped after its first step (which creates the buffers) under the
/// guard, with 1 and 2 threads, full batches and a short one.
template <typename Scalar, typename Optimizer>
void steady_steps_allocate_nothing(const Optimizer& optimizer) {
    const AllowMallocOnExit allow_on_exit;
    for (int threads : {1, 2}) {
        for (Index batch : {16, 64, 100}) {
            auto gen = logreg_test::rng(71);
            std::uniform_int_distribution<int> px(0, 255);
            RowMatrix<std::uint8_t> bytes(300, 784);
            for (Index i = 0; i < bytes.size(); ++i) bytes.data()[i] = static_cast<std::uint8_t>(px(gen));
            const Dataset<std::uint8_t> data(bytes, logreg_test::random_labels(300, 10, gen), 10);
            TrainOptions o;
            o.threads = threads;
            o.batch_size = batch;
            Trainer<Scalar, Optimizer> t(LinearSoftmax<Scalar>(784, 10, Init::uniform, 1), o, optimizer);
            const auto pre = Preprocessor<Scalar>::unit(784);
            const IndexVector order = shuffled_indices(300, 3);
            t.step(data, order.data(), batch, pre);  // first step: the optimizer's buffers are created
            Eigen::internal::set_is_malloc_allowed(false);
            Index steps = 1;
            for (Index b = 0; b + batch <= 300; b += batch, ++steps) t.step(data, order.data() + b, batch, pre);
            t.step(data, order.data(), 7, pre);  // a short last batch
            Eigen::internal::set_is_malloc_allowed(true);
            REQUIRE(t.model().all_finite());
            REQUIRE(t.optimizer().steps() == steps + 1);
        }
    }
}

TEMPLATE_TEST_CASE("steady-state SGD steps allocate nothing", "[no-malloc]", float, double) {
    SGDParams sgd;
    sgd.lr = 0.1;
    sgd.momentum = 0.9;
    sgd.weight_decay = 1e-4;
    sgd.nesterov = true;
    steady_steps_allocate_nothing<TestType>(SGD<TestType>(sgd));
}

TEMPLATE_TEST_CASE("steady-state Adam and AdamW steps allocate nothing", "[no-malloc][adam]", float, double) {
    AdamParams adam;
    adam.weight_decay = 1e-4;
    adam.amsgrad = true;
    steady_steps_allocate_nothing<TestType>(Adam<TestType>(adam));
    steady_steps_allocate_nothing<TestType>(AdamW<TestType>());
}

TEMPLATE_TEST_CASE("the epoch driver allocates nothing between the first and the last batch of an epoch", "[no-malloc]",
                   float, double) {
    const AllowMallocOnExit allow_on_exit;
    auto gen = logreg_test::rng(72);
    const Dataset<TestType> data(RowMatrix<TestType>::Random(500, 20), logreg_test::random_labels(500, 4, gen), 4);
    for (int threads : {1, 2}) {
        TrainOptions o;
        o.threads = threads;
        o.batch_size = 32;
        o.epochs = 3;
        o.schedule_per_step = true;
        o.schedule = Schedule::cosine(3 * 16);
        Trainer<TestType, Adam<TestType>> t(LinearSoftmax<TestType>(20, 4), o);
        const std::atomic<bool> never{false};
        Callbacks cb;
        Index guarded = 0;
        // The guard is switched on after the first batch of each epoch (whose step may create the
        // optimizer's buffers) and off again at the last batch, before the epoch's bookkeeping.
        cb.on_batch = [&](const BatchRecord& b) {
            if (!Eigen::internal::is_malloc_allowed()) ++guarded;
            Eigen::internal::set_is_malloc_allowed(b.batch + 1 == b.batches_in_epoch);
            return true;
        };
        cb.stop = &never;
        t.set_callbacks(cb);
        const TrainReport r = t.fit(data, Preprocessor<TestType>::identity(20));
        Eigen::internal::set_is_malloc_allowed(true);
        REQUIRE(r.reason == StopReason::max_epochs);
        REQUIRE(guarded == 3 * 15);
    }
}

TEST_CASE("the guard is live: an Eigen allocation under it fails", "[no-malloc]") {
    const AllowMallocOnExit allow_on_exit;
    // If EIGEN_RUNTIME_NO_MALLOC were not defined, or the guard's assertion compiled away, the
    // tests above would prove nothing.
#ifndef EIGEN_RUNTIME_NO_MALLOC
    FAIL("test_no_malloc must be compiled with EIGEN_RUNTIME_NO_MALLOC");
#endif
    REQUIRE(Eigen::internal::is_malloc_allowed());
    Eigen::internal::set_is_malloc_allowed(false);
    bool threw = false;
    try {
        Eigen::VectorXf heap(1000);
        heap.setZero();
    } catch (const logreg_test::EigenAssertionFailed&) {
        threw = true;
    }
    Eigen::internal::set_is_malloc_allowed(true);
    REQUIRE(threw);
    Eigen::VectorXf allowed(1000);  // and allocation works again once allowed
    REQUIRE(allowed.size() == 1000);
}

TEMPLATE_TEST_CASE("L-BFGS iterations allocate nothing after the first", "[no-malloc][lbfgs]", float, double) {
    const AllowMallocOnExit allow_on_exit;
    using Scalar = TestType;
    auto gen = logreg_test::rng(72);
    std::uniform_real_distribution<double> u(0, 1);
    RowMatrix<std::uint8_t> bytes(300, 100);
    for (Index i = 0; i < bytes.size(); ++i)
        bytes.data()[i] = static_cast<std::uint8_t>(u(gen) < 0.8 ? 0 : 1 + static_cast<int>(u(gen) * 254));
    const Dataset<std::uint8_t> data(bytes, logreg_test::random_labels(300, 10, gen), 10);
    // unit: the sparse pass; standard (offsets): the dense engine.
    for (const auto& pre : {Preprocessor<Scalar>::unit(100), Preprocessor<Scalar>::standard(data, iota(300))}) {
        for (int threads : {1, 2}) {
            LBFGSOptions o;
            o.l2 = 1e-3;
            o.tol = 0;
            o.ftol = 0;
            o.max_iter = 12;
            o.threads = threads;
            LBFGS<Scalar> solver(LinearSoftmax<Scalar>(100, 10), o);
            int guarded = 0;
            solver.set_callback([&](const SolverIteration& it) {
                if (it.iteration == 1) Eigen::internal::set_is_malloc_allowed(false);
                guarded += it.iteration > 1;
                return true;
            });
            const SolverReport r = solver.fit(data, pre);
            Eigen::internal::set_is_malloc_allowed(true);
            CAPTURE(threads, r.message);
            REQUIRE(r.iterations == 12);
            REQUIRE(guarded == 11);
        }
    }
}
