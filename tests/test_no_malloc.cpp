// The training step does not touch the heap after the first batch (Eigen's malloc guard).
// This executable is compiled with EIGEN_RUNTIME_NO_MALLOC, which makes any Eigen
// allocation assert while set_is_malloc_allowed(false) is in effect.
#include "test_support.hpp"

using namespace logreg;

TEMPLATE_TEST_CASE("steady-state SGD steps allocate nothing", "[no-malloc]", float, double) {
    for (int threads : {1, 2}) {
        for (Index batch : {16, 64, 100}) {
            auto gen = logreg_test::rng(70);
            std::uniform_int_distribution<int> px(0, 255);
            RowMatrix<std::uint8_t> bytes(300, 784);
            for (Index i = 0; i < bytes.size(); ++i) bytes.data()[i] = static_cast<std::uint8_t>(px(gen));
            const Dataset<std::uint8_t> data(bytes, logreg_test::random_labels(300, 10, gen), 10);
            TrainOptions o;
            o.threads = threads;
            o.batch_size = batch;
            o.sgd.momentum = 0.9;
            o.sgd.weight_decay = 1e-4;
            o.sgd.nesterov = true;
            Trainer<TestType> t(LinearSoftmax<TestType>(784, 10, Init::uniform, 1), o);
            const auto pre = Preprocessor<TestType>::unit(784);
            const IndexVector order = shuffled_indices(300, 3);
            t.prepare(batch);
            t.step_rows(data, order.data(), batch, pre, 0.1);  // first step: momentum buffers are created
            Eigen::internal::set_is_malloc_allowed(false);
            for (Index b = 0; b + batch <= 300; b += batch) t.step_rows(data, order.data() + b, batch, pre, 0.1);
            t.step_rows(data, order.data(), 7, pre, 0.1);  // a short last batch
            Eigen::internal::set_is_malloc_allowed(true);
            REQUIRE(t.model().all_finite());
        }
    }
}

/// A trainer with `optimizer`, stepped after its first step (which creates the buffers) under the
/// guard, with 1 and 2 threads, full batches and a short one.
template <typename Scalar, typename Optimizer>
void steady_steps_allocate_nothing(const Optimizer& optimizer) {
    for (int threads : {1, 2}) {
        auto gen = logreg_test::rng(71);
        std::uniform_int_distribution<int> px(0, 255);
        RowMatrix<std::uint8_t> bytes(300, 784);
        for (Index i = 0; i < bytes.size(); ++i) bytes.data()[i] = static_cast<std::uint8_t>(px(gen));
        const Dataset<std::uint8_t> data(bytes, logreg_test::random_labels(300, 10, gen), 10);
        TrainOptions o;
        o.threads = threads;
        o.batch_size = 64;
        Trainer<Scalar, Optimizer> t(LinearSoftmax<Scalar>(784, 10, Init::uniform, 1), o, optimizer);
        const auto pre = Preprocessor<Scalar>::unit(784);
        const IndexVector order = shuffled_indices(300, 3);
        t.prepare(64);
        t.step_rows(data, order.data(), 64, pre, 0.01);  // first step: the moments are created
        Eigen::internal::set_is_malloc_allowed(false);
        for (Index b = 0; b + 64 <= 300; b += 64) t.step_rows(data, order.data() + b, 64, pre, 0.01);
        t.step_rows(data, order.data(), 7, pre, 0.01);
        Eigen::internal::set_is_malloc_allowed(true);
        REQUIRE(t.model().all_finite());
        REQUIRE(t.optimizer().steps() == 6);
    }
}

TEMPLATE_TEST_CASE("steady-state Adam and AdamW steps allocate nothing", "[no-malloc][adam]", float, double) {
    AdamParams adam;
    adam.weight_decay = 1e-4;
    adam.amsgrad = true;
    steady_steps_allocate_nothing<TestType>(Adam<TestType>(adam));
    steady_steps_allocate_nothing<TestType>(AdamW<TestType>());
}

TEST_CASE("the guard is live: an Eigen allocation under it would assert", "[no-malloc]") {
    // If EIGEN_RUNTIME_NO_MALLOC were not defined, the test above would prove nothing.
#ifndef EIGEN_RUNTIME_NO_MALLOC
    FAIL("test_no_malloc must be compiled with EIGEN_RUNTIME_NO_MALLOC");
#endif
    REQUIRE(Eigen::internal::is_malloc_allowed());
    Eigen::internal::set_is_malloc_allowed(false);
    REQUIRE_FALSE(Eigen::internal::is_malloc_allowed());
    Eigen::internal::set_is_malloc_allowed(true);
}
