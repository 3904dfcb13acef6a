// The fork-join pool: every task runs once per run(), a barrier orders the tasks' memory,
// exceptions reach the caller (also from a step that uses barriers), and the sleeping paths
// (tasks or gaps longer than the spin time) wake up.
#include "test_support.hpp"

#include <logreg/detail/batch_gradient.hpp>
#include <logreg/detail/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

// In a namespace of its own: the file may share a unity translation unit with other tests.
namespace thread_pool_test {

using namespace logreg;
using detail::ThreadPool;

namespace {

struct Counting {
    std::vector<std::atomic<int>> runs;
    explicit Counting(int n) : runs(static_cast<std::size_t>(n)) {}
    static void task(void* c, int t) { static_cast<Counting*>(c)->runs[static_cast<std::size_t>(t)]++; }
};

/// Each task writes its slot, waits at the barrier, then reads every other slot.
struct Exchange {
    ThreadPool* pool;
    int round = 0;
    std::vector<int> slots, seen_sum;
    static void task(void* c, int t) {
        auto* x = static_cast<Exchange*>(c);
        for (int phase = 0; phase < 3; ++phase) {
            x->slots[static_cast<std::size_t>(t)] = x->round * 100 + phase * 10 + t;
            x->pool->barrier();
            int sum = 0;
            for (int v : x->slots) sum += v;
            x->seen_sum[static_cast<std::size_t>(t)] = sum;
            x->pool->barrier();  // nobody overwrites a slot before everyone has read them all
        }
    }
};

}  // namespace

TEST_CASE("every task runs exactly once per run, with any thread count", "[threads]") {
    for (int threads : {1, 2, 3, 4}) {
        ThreadPool pool(threads);
        Counting c(threads);
        for (int i = 0; i < 2000; ++i) pool.run(&Counting::task, &c);
        for (const auto& r : c.runs) REQUIRE(r.load() == 2000);
    }
}

TEST_CASE("a barrier makes every task's writes visible to all", "[threads]") {
    ThreadPool three(3);
    for (int threads : {1, 2, 3}) {
        ThreadPool own(threads);
        // a pool of its own size, and 1 or 2 tasks of a larger pool (the others stay out)
        for (ThreadPool* pool : {&own, &three}) {
            Exchange x{pool, 0, std::vector<int>(static_cast<std::size_t>(threads)),
                       std::vector<int>(static_cast<std::size_t>(threads))};
            for (int round = 0; round < 500; ++round) {
                x.round = round;
                pool->run(&Exchange::task, &x, threads);
                int expected = 0;
                for (int t = 0; t < threads; ++t) expected += round * 100 + 2 * 10 + t;
                for (int s : x.seen_sum) REQUIRE(s == expected);
            }
        }
    }
}

TEST_CASE("the pool wakes sleeping threads: long tasks and long gaps between runs", "[threads]") {
    ThreadPool pool(2);
    Counting c(2);
    struct Slow {
        static void task(void* ctx, int t) {
            if (t == 1) std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the caller sleeps
            Counting::task(ctx, t);
        }
    };
    for (int i = 0; i < 5; ++i) {
        pool.run(&Slow::task, &c);
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the worker sleeps
        pool.run(&Counting::task, &c);
    }
    REQUIRE(c.runs[0].load() == 10);
    REQUIRE(c.runs[1].load() == 10);
}

TEST_CASE("an exception in a task reaches the caller and the pool stays usable", "[threads]") {
    ThreadPool pool(3);
    struct Throwing {
        static void task(void*, int t) {
            if (t == 2) throw std::runtime_error("task 2 failed");
        }
    };
    REQUIRE_THROWS_WITH(pool.run(&Throwing::task, nullptr), "task 2 failed");
    Counting c(3);
    pool.run(&Counting::task, &c);
    for (const auto& r : c.runs) REQUIRE(r.load() == 1);
}

TEST_CASE("a failing slice of a multi-thread step throws instead of hanging the others at the barrier", "[threads]") {
    // A label outside [0, C) makes the loss throw in whichever slice holds it; the other
    // slices are waiting at the reduction's barrier. 96 rows: enough for 3 threads to join.
    const Index n = 96, d = 5, c = 3;
    RowMatrix<float> x = RowMatrix<float>::Random(n, d);
    LabelVector y = LabelVector::Zero(n);
    y[n - 1] = 7;  // the last slice's
    const LinearSoftmax<float> model(d, c);
    const CrossEntropy<float> loss;
    const auto pre = Preprocessor<float>::identity(d);
    IndexVector rows(n);
    for (Index i = 0; i < n; ++i) rows[i] = i;
    for (int threads : {1, 2, 3}) {
        CAPTURE(threads);
        ThreadPool pool(threads);
        detail::BatchGradient<float> engine;
        engine.reserve(n, d, c, threads);
        REQUIRE_THROWS_AS(engine.compute(model, loss, x, y, Vector<double>(), rows.data(), n, pre, pool), DataError);
        // and the engine and pool still work on good data
        y[n - 1] = 1;
        const LossSums sums = engine.compute(model, loss, x, y, Vector<double>(), rows.data(), n, pre, pool);
        REQUIRE(sums.weight_sum == Approx(static_cast<double>(n)));
        y[n - 1] = 7;
    }
}

TEST_CASE("a step uses only the threads that get enough rows, and then gives one thread's result", "[threads]") {
    using Engine = detail::BatchGradient<double>;
    REQUIRE(Engine::threads_for(1, 4) == 1);
    REQUIRE(Engine::threads_for(Engine::min_rows_per_thread * 2 - 1, 4) == 1);
    REQUIRE(Engine::threads_for(Engine::min_rows_per_thread * 2, 4) == 2);
    REQUIRE(Engine::threads_for(Engine::min_rows_per_thread * 100, 4) == 4);
    // Too few rows for two threads: a 2-thread pool gives bitwise the 1-thread result.
    const Index n = 30, d = 9, c = 4;
    std::mt19937_64 gen(logreg_test::seed());
    const RowMatrix<double> x = logreg_test::random_matrix<double>(n, d, gen, 1.0);
    const LabelVector y = logreg_test::random_labels(n, static_cast<int>(c), gen);
    const LinearSoftmax<double> model(d, c, Init::uniform, 4);
    const auto pre = Preprocessor<double>::identity(d);
    IndexVector rows(n);
    for (Index i = 0; i < n; ++i) rows[i] = n - 1 - i;
    Engine one, two;
    ThreadPool p1(1), p2(2);
    one.reserve(n, d, c, 1);
    two.reserve(n, d, c, 2);
    const CrossEntropy<double> loss;
    one.compute(model, loss, x, y, Vector<double>(), rows.data(), n, pre, p1);
    two.compute(model, loss, x, y, Vector<double>(), rows.data(), n, pre, p2);
    REQUIRE(one.gradient().weight == two.gradient().weight);
    REQUIRE(one.gradient().bias == two.gradient().bias);
}

TEMPLATE_TEST_CASE("the threads' fused gradient-and-update equals the gradient followed by SGD::step, bitwise",
                   "[threads]", float, double) {
    // compute_and_step splits the update by classes across threads; compute() + step() does it
    // whole on one thread. Same sums in the same order, elementwise update: identical results.
    const Index n = 150, d = 37, c = 7;
    std::mt19937_64 gen(logreg_test::seed());
    const RowMatrix<std::uint8_t> x =
        (logreg_test::random_matrix<double>(n, d, gen, 1.0).array() * 127 + 128).cast<std::uint8_t>().matrix();
    const LabelVector y = logreg_test::random_labels(n, static_cast<int>(c), gen);
    const auto pre = Preprocessor<TestType>::unit(d);
    IndexVector rows(n);
    for (Index i = 0; i < n; ++i) rows[i] = (i * 37) % n;
    for (int variant = 0; variant < 3; ++variant) {
        SGDParams prm;
        prm.lr = 0.3;
        prm.momentum = variant >= 1 ? 0.9 : 0.0;
        prm.nesterov = variant == 2;
        prm.weight_decay = variant == 2 ? 0.01 : 0.0;
        for (int threads : {1, 2, 3}) {
            CAPTURE(variant, threads);
            LinearSoftmax<TestType> fused(d, c, Init::uniform, 11), plain = fused;
            SGD<TestType> opt_fused(prm), opt_plain(prm);
            detail::BatchGradient<TestType> a, b;
            ThreadPool pool(threads);
            a.reserve(n, d, c, threads);
            b.reserve(n, d, c, threads);
            const CrossEntropy<TestType> loss;
            for (Index step = 0; step < 3; ++step) {
                const Index count = step == 2 ? 60 : 90;  // the last one shorter (2 threads at most)
                const Index* r = rows.data() + step * 30;
                const LossSums sa =
                    a.compute_and_step(fused, opt_fused, prm.lr, loss, x, y, Vector<double>(), r, count, pre, pool);
                const LossSums sb = b.compute(plain, loss, x, y, Vector<double>(), r, count, pre, pool);
                opt_plain.step(plain, b.gradient(), prm.lr);
                REQUIRE(sa.loss_sum == sb.loss_sum);
                REQUIRE(a.updated_finite());
                REQUIRE(fused.weight() == plain.weight());
                REQUIRE(fused.bias() == plain.bias());
            }
            REQUIRE(opt_fused.steps() == opt_plain.steps());
        }
    }
}

TEMPLATE_TEST_CASE("with more threads than classes the update is shared by columns, bitwise as by classes", "[threads]",
                   float, double) {
    // 16 threads (oversubscribed on a small machine) and 4 threads on 10 and 3 classes: sharing
    // the combine-and-update phase by feature columns must give exactly the bits of sharing it by
    // classes (the sums run in the same slice order; every update rule is elementwise), run after run.
    // d is a multiple of 16: Eigen's vectorised float sqrt (EIGEN_FAST_MATH) differs from
    // std::sqrt in the last bit, so Adam's bits depend on which elements are done in vectors,
    // which with rows of 16 floats is the same whatever the share.
    using Share = typename detail::BatchGradient<TestType>::Share;
    const Index n = 420, d = 64;
    std::mt19937_64 gen(logreg_test::seed() + 17);
    const RowMatrix<std::uint8_t> x =
        (logreg_test::random_matrix<double>(n, d, gen, 1.0).array() * 127 + 128).cast<std::uint8_t>().matrix();
    const auto pre = Preprocessor<TestType>::unit(d);
    const IndexVector rows = shuffled_indices(n, 5);
    for (const Index c : {Index{10}, Index{3}})
        for (const int threads : {16, 4}) {
            const LabelVector y = logreg_test::random_labels(n, static_cast<int>(c), gen);
            ThreadPool pool(threads);
            const CrossEntropy<TestType> loss;
            // The gradient alone: by columns, by classes, and on one thread (a different sum order).
            detail::BatchGradient<TestType> cols, rows_shared, one;
            cols.reserve(n, d, c, threads);
            rows_shared.reserve(n, d, c, threads);
            rows_shared.set_share(Share::classes);
            one.reserve(n, d, c, 1);
            const LinearSoftmax<TestType> m(d, c, Init::uniform, 3);
            cols.compute(m, loss, x, y, Vector<double>(), rows.data(), n, pre, pool);
            rows_shared.compute(m, loss, x, y, Vector<double>(), rows.data(), n, pre, pool);
            ThreadPool single(1);
            one.compute(m, loss, x, y, Vector<double>(), rows.data(), n, pre, single);
            CAPTURE(c, threads);
            REQUIRE(cols.gradient().weight == rows_shared.gradient().weight);
            REQUIRE(cols.gradient().bias == rows_shared.gradient().bias);
            CHECK(logreg_test::rel_error(cols.gradient().weight, one.gradient().weight) <
                  (std::is_same_v<TestType, float> ? 1e-5 : 1e-13));
            // Steps of each optimizer.
            const auto run = [&](auto optimizer, double lr, Share share) {
                LinearSoftmax<TestType> model(d, c, Init::uniform, 11);
                detail::BatchGradient<TestType> engine;
                engine.reserve(n, d, c, threads);
                engine.set_share(share);
                for (Index step = 0; step < 3; ++step) {
                    const Index count = step == 2 ? n / 2 : n;
                    engine.compute_and_step(model, optimizer, lr, loss, x, y, Vector<double>(), rows.data(), count, pre,
                                            pool);
                    REQUIRE(engine.updated_finite());
                }
                return model;
            };
            SGDParams sgd;
            sgd.momentum = 0.9;
            sgd.nesterov = true;
            sgd.weight_decay = 0.01;
            AdamParams adam;
            adam.amsgrad = true;
            AdamWParams adamw;
            adamw.weight_decay = 0.1;
            const auto same = [](const LinearSoftmax<TestType>& a, const LinearSoftmax<TestType>& b) {
                return a.weight() == b.weight() && a.bias() == b.bias();
            };
            // Columns against classes (forced: with 4 threads on 10 classes automatic picks classes),
            // and automatic run after run.
            const auto s1 = run(SGD<TestType>(sgd), 0.3, Share::columns);
            CHECK(same(s1, run(SGD<TestType>(sgd), 0.3, Share::classes)));
            CHECK(same(s1, run(SGD<TestType>(sgd), 0.3, Share::automatic)));
            // Plain SGD (no momentum, no decay) takes the kernel set's one-pass step.
            const auto p1 = run(SGD<TestType>(SGDParams{}), 0.3, Share::columns);
            CHECK(same(p1, run(SGD<TestType>(SGDParams{}), 0.3, Share::classes)));
            CHECK_FALSE(same(p1, s1));  // a different update indeed
            const auto a1 = run(Adam<TestType>(adam), 0.01, Share::columns);
            CHECK(same(a1, run(Adam<TestType>(adam), 0.01, Share::classes)));
            const auto w1 = run(AdamW<TestType>(adamw), 0.01, Share::columns);
            CHECK(same(w1, run(AdamW<TestType>(adamw), 0.01, Share::classes)));
            CHECK(same(w1, run(AdamW<TestType>(adamw), 0.01, Share::automatic)));
        }
}

}  // namespace thread_pool_test
