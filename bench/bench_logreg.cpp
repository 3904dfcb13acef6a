// bench_logreg: Google Benchmark of the training step, kernel by kernel, each fast path
// beside a textbook Eigen reference (Z = X W^T + b, softmax, G = (P - Y)/B, dW = G^T X),
// so that every speed-up is a measured ratio. Shapes are MNIST's: 784 features, 10 classes,
// 60000 uint8 samples. LOGREG_BENCH_SMALL=1 shrinks the data set to 2048 rows (the CTest
// smoke run checks that the code runs, not how fast).
//
// Counters: items_per_second = samples/s, FLOP/s = useful multiply-adds x 2 per second,
// bytes_per_second (epochs) = uint8 feature bytes read per second.
#include <logreg/detail/kernels.hpp>
#include <logreg/detail/sparse_gradient.hpp>
#include <logreg/detail/thread_pool.hpp>
#include <logreg/logreg.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

namespace {

using logreg::Index;
template <typename T>
using RowMatrix = logreg::RowMatrix<T>;

constexpr Index kFeatures = 784;
constexpr Index kClasses = 10;

Index dataset_rows() {
    const char* small = std::getenv("LOGREG_BENCH_SMALL");
    return (small && *small && *small != '0') ? 2048 : 60000;
}

/// MNIST-shaped random data, built once: uint8 pixels and labels in [0, 10).
const logreg::Dataset<std::uint8_t>& mnist_like() {
    static const logreg::Dataset<std::uint8_t> data = [] {
        std::mt19937_64 gen(42);
        std::uniform_int_distribution<int> px(0, 255), label(0, kClasses - 1);
        const Index n = dataset_rows();
        RowMatrix<std::uint8_t> x(n, kFeatures);
        for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<std::uint8_t>(px(gen));
        logreg::LabelVector y(n);
        for (Index i = 0; i < n; ++i) y[i] = label(gen);
        return logreg::Dataset<std::uint8_t>(std::move(x), std::move(y), kClasses);
    }();
    return data;
}

/// The same shape with MNIST's sparsity: 19% of the pixels nonzero (MNIST's training set: 19.1%).
const logreg::Dataset<std::uint8_t>& mnist_sparse_like() {
    static const logreg::Dataset<std::uint8_t> data = [] {
        std::mt19937_64 gen(43);
        std::uniform_real_distribution<double> u(0, 1);
        std::uniform_int_distribution<int> px(1, 255), label(0, kClasses - 1);
        const Index n = dataset_rows();
        RowMatrix<std::uint8_t> x(n, kFeatures);
        for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<std::uint8_t>(u(gen) < 0.19 ? px(gen) : 0);
        logreg::LabelVector y(n);
        for (Index i = 0; i < n; ++i) y[i] = label(gen);
        return logreg::Dataset<std::uint8_t>(std::move(x), std::move(y), kClasses);
    }();
    return data;
}

template <typename T>
RowMatrix<T> random_matrix(Index rows, Index cols, double scale, std::uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<double> u(-scale, scale);
    RowMatrix<T> m(rows, cols);
    for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<T>(u(gen));
    return m;
}

logreg::LabelVector random_labels(Index n, std::uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::uniform_int_distribution<int> u(0, kClasses - 1);
    logreg::LabelVector y(n);
    for (Index i = 0; i < n; ++i) y[i] = u(gen);
    return y;
}

void set_rates(benchmark::State& state, Index samples_per_iter, double flops_per_iter) {
    const auto iters = static_cast<double>(state.iterations());
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * samples_per_iter);
    if (flops_per_iter > 0)
        state.counters["FLOP/s"] = benchmark::Counter(flops_per_iter * iters, benchmark::Counter::kIsRate);
}

double gemm_flops(Index b) {
    return 2.0 * static_cast<double>(b * kFeatures * kClasses);
}

// ---- textbook reference pieces ----

template <typename T>
void ref_logits(const RowMatrix<T>& x, const RowMatrix<T>& w, const logreg::Vector<T>& b, RowMatrix<T>& z) {
    z.noalias() = x * w.transpose();
    z.rowwise() += b.transpose();
}

/// Softmax, mean cross-entropy and G = (P - Y) / B, the way a textbook writes them.
template <typename T>
double ref_softmax_ce(RowMatrix<T>& z, const std::int32_t* y) {
    const Index b = z.rows();
    z.colwise() -= z.rowwise().maxCoeff();
    z = z.array().exp().matrix();
    z.array().colwise() /= z.rowwise().sum().array();
    double loss = 0;
    for (Index i = 0; i < b; ++i) loss -= std::log(static_cast<double>(z(i, y[i])));
    for (Index i = 0; i < b; ++i) z(i, y[i]) -= T(1);
    z /= static_cast<T>(b);
    return loss / static_cast<double>(b);
}

/// One textbook SGD step on rows[0..b) of the uint8 data: gather + /255, Z, softmax-CE, dW, db, update.
template <typename T>
struct RefStep {
    RowMatrix<T> w, x, z, dw;
    logreg::Vector<T> bias, db;
    logreg::LabelVector y;

    explicit RefStep(Index max_batch)
        : w(random_matrix<T>(kClasses, kFeatures, 0.03, 1)),
          x(max_batch, kFeatures),
          z(max_batch, kClasses),
          dw(kClasses, kFeatures),
          bias(logreg::Vector<T>::Zero(kClasses)),
          db(kClasses),
          y(max_batch) {}

    double step(const logreg::Dataset<std::uint8_t>& data, const Index* rows, Index b, T lr) {
        if (x.rows() != b) {  // the short last batch of an epoch
            x.resize(b, kFeatures);
            z.resize(b, kClasses);
            y.resize(b);
        }
        for (Index i = 0; i < b; ++i) {
            x.row(i) = data.features().row(rows[i]).template cast<T>() / T(255);
            y[i] = data.labels()[rows[i]];
        }
        ref_logits(x, w, bias, z);
        const double loss = ref_softmax_ce(z, y.data());
        dw.noalias() = z.transpose() * x;
        db = z.colwise().sum().transpose();
        w -= lr * dw;
        bias -= lr * db;
        return loss;
    }
};

// ---- kernels: forward logits ----

template <typename T>
void BM_Logits_Fast(benchmark::State& state) {
    const Index b = state.range(0);
    const RowMatrix<T> x = random_matrix<T>(b, kFeatures, 1.0, 1), w = random_matrix<T>(kClasses, kFeatures, 0.1, 2);
    const logreg::Vector<T> bias = random_matrix<T>(kClasses, 1, 0.1, 3);
    RowMatrix<T> z(b, kClasses);
    for (auto _ : state) {
        logreg::detail::kernels::logits(x.data(), kFeatures, b, w.data(), kFeatures, kClasses, kFeatures, bias.data(),
                                        z.data(), kClasses);
        benchmark::DoNotOptimize(z.data());
        benchmark::ClobberMemory();
    }
    set_rates(state, b, gemm_flops(b));
}

template <typename T>
void BM_Logits_Ref(benchmark::State& state) {
    const Index b = state.range(0);
    const RowMatrix<T> x = random_matrix<T>(b, kFeatures, 1.0, 1), w = random_matrix<T>(kClasses, kFeatures, 0.1, 2);
    const logreg::Vector<T> bias = random_matrix<T>(kClasses, 1, 0.1, 3);
    RowMatrix<T> z(b, kClasses);
    for (auto _ : state) {
        ref_logits(x, w, bias, z);
        benchmark::DoNotOptimize(z.data());
        benchmark::ClobberMemory();
    }
    set_rates(state, b, gemm_flops(b));
}

// ---- kernels: softmax + cross-entropy with its gradient (both copy the logits in first) ----

template <typename T>
void BM_SoftmaxCE_Fast(benchmark::State& state) {
    const Index b = state.range(0);
    const RowMatrix<T> logits = random_matrix<T>(b, kClasses, 5.0, 4);
    const logreg::LabelVector y = random_labels(b, 5);
    const logreg::CrossEntropy<T> ce;
    RowMatrix<T> z(b, kClasses);
    for (auto _ : state) {
        z = logits;
        const logreg::LossSums s = ce.accumulate(z, y.data(), nullptr);
        z *= static_cast<T>(1.0 / s.weight_sum);
        benchmark::DoNotOptimize(s);
        benchmark::DoNotOptimize(z.data());
    }
    set_rates(state, b, 0);
}

template <typename T>
void BM_SoftmaxCE_Ref(benchmark::State& state) {
    const Index b = state.range(0);
    const RowMatrix<T> logits = random_matrix<T>(b, kClasses, 5.0, 4);
    const logreg::LabelVector y = random_labels(b, 5);
    RowMatrix<T> z(b, kClasses);
    for (auto _ : state) {
        z = logits;
        benchmark::DoNotOptimize(ref_softmax_ce(z, y.data()));
        benchmark::DoNotOptimize(z.data());
    }
    set_rates(state, b, 0);
}

// ---- kernels: weight gradient dW = G^T X ----

template <typename T>
void BM_WeightGrad_Fast(benchmark::State& state) {
    const Index b = state.range(0);
    const RowMatrix<T> x = random_matrix<T>(b, kFeatures, 1.0, 1), g = random_matrix<T>(b, kClasses, 0.1, 6);
    RowMatrix<T> dw(kClasses, kFeatures);
    for (auto _ : state) {
        dw.setZero();
        logreg::detail::kernels::add_weight_gradient(x.data(), kFeatures, b, g.data(), kClasses, kClasses, dw.data(),
                                                     kFeatures, kFeatures);
        benchmark::DoNotOptimize(dw.data());
        benchmark::ClobberMemory();
    }
    set_rates(state, b, gemm_flops(b));
}

template <typename T>
void BM_WeightGrad_Ref(benchmark::State& state) {
    const Index b = state.range(0);
    const RowMatrix<T> x = random_matrix<T>(b, kFeatures, 1.0, 1), g = random_matrix<T>(b, kClasses, 0.1, 6);
    RowMatrix<T> dw(kClasses, kFeatures);
    for (auto _ : state) {
        dw.noalias() = g.transpose() * x;
        benchmark::DoNotOptimize(dw.data());
        benchmark::ClobberMemory();
    }
    set_rates(state, b, gemm_flops(b));
}

// ---- one whole SGD step (gather + convert uint8, forward, loss, backward, update) ----

template <typename T>
void BM_Step_Fast(benchmark::State& state) {
    const Index b = state.range(0);
    const auto& data = mnist_like();
    logreg::TrainOptions o;
    o.threads = static_cast<int>(state.range(1));
    o.batch_size = b;
    logreg::Trainer<T> trainer(logreg::LinearSoftmax<T>(kFeatures, kClasses, logreg::Init::uniform, 1), o);
    const auto pre = logreg::Preprocessor<T>::unit(kFeatures);
    const logreg::IndexVector order = logreg::shuffled_indices(data.size(), 7);
    trainer.step(data, order.data(), b, pre);  // sizes the workspaces, starts the threads
    Index at = 0;
    for (auto _ : state) {
        if (at + b > data.size()) at = 0;
        benchmark::DoNotOptimize(trainer.step(data, order.data() + at, b, pre));
        at += b;
    }
    set_rates(state, b, 2 * gemm_flops(b));
}

template <typename T>
void BM_Step_Ref(benchmark::State& state) {
    const Index b = state.range(0);
    const auto& data = mnist_like();
    const logreg::IndexVector order = logreg::shuffled_indices(data.size(), 7);
    RefStep<T> ref(b);
    Index at = 0;
    for (auto _ : state) {
        if (at + b > data.size()) at = 0;
        benchmark::DoNotOptimize(ref.step(data, order.data() + at, b, T(0.01)));
        at += b;
    }
    set_rates(state, b, 2 * gemm_flops(b));
}

// ---- one core's arithmetic peak with the kernel set chosen at run time ----
//
// Independent multiply-add chains in registers, nothing from memory: the most FLOP/s a core can
// do with the vectors the kernels use (a GEMM gets to about 90% of it). The floor of an epoch in
// docs/performance.md is its FLOP count at this rate.

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
template <typename T>
__attribute__((target("avx512f"))) double fma_peak_avx512(Index n) {
    constexpr int K = 12;  // chains: > latency (4) x FMA units (2)
    __m512 acc[K];
    for (int k = 0; k < K; ++k) acc[k] = _mm512_set1_ps(static_cast<float>(k));
    const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-3f);
    for (Index i = 0; i < n; ++i)
        for (int k = 0; k < K; ++k) acc[k] = _mm512_fmadd_ps(acc[k], a, b);
    for (int k = 1; k < K; ++k) acc[0] = _mm512_add_ps(acc[0], acc[k]);
    benchmark::DoNotOptimize(acc[0]);
    return 2.0 * 16 * K * static_cast<double>(n) / (sizeof(T) / sizeof(float));
}
template <typename T>
__attribute__((target("avx2,fma"))) double fma_peak_avx2(Index n) {
    constexpr int K = 12;
    __m256 acc[K];
    for (int k = 0; k < K; ++k) acc[k] = _mm256_set1_ps(static_cast<float>(k));
    const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-3f);
    for (Index i = 0; i < n; ++i)
        for (int k = 0; k < K; ++k) acc[k] = _mm256_fmadd_ps(acc[k], a, b);
    for (int k = 1; k < K; ++k) acc[0] = _mm256_add_ps(acc[0], acc[k]);
    benchmark::DoNotOptimize(acc[0]);
    return 2.0 * 8 * K * static_cast<double>(n) / (sizeof(T) / sizeof(float));
}
template <typename T>
double fma_peak_sse2(Index n) {  // no FMA: a multiply and an add per pair of FLOPs
    constexpr int K = 12;
    __m128 acc[K];
    for (int k = 0; k < K; ++k) acc[k] = _mm_set1_ps(static_cast<float>(k));
    const __m128 a = _mm_set1_ps(0.999f), b = _mm_set1_ps(1e-3f);
    for (Index i = 0; i < n; ++i)
        for (int k = 0; k < K; ++k) acc[k] = _mm_add_ps(_mm_mul_ps(acc[k], a), b);
    for (int k = 1; k < K; ++k) acc[0] = _mm_add_ps(acc[0], acc[k]);
    benchmark::DoNotOptimize(acc[0]);
    return 2.0 * 4 * K * static_cast<double>(n) / (sizeof(T) / sizeof(float));
}
#endif

/// FLOPs of n rounds of the multiply-add loop of the active kernel set (0: no x86 sets here).
/// Doubles fill half the lanes of floats: the double peak is half the float peak.
template <typename T>
double fma_peak_round(Index n) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    switch (logreg::kernel_isa()) {
        case logreg::Isa::avx512:
            return fma_peak_avx512<T>(n);
        case logreg::Isa::avx2:
            return fma_peak_avx2<T>(n);
        case logreg::Isa::sse2:
            return fma_peak_sse2<T>(n);
        case logreg::Isa::portable:
            break;
    }
#endif
    (void)n;
    return 0;
}

/// The peak BM_FmaPeak<T> measured in this run (0 before it ran).
template <typename T>
double& peak_flops() {
    static double peak = 0;
    return peak;
}

template <typename T>
void BM_FmaPeak(benchmark::State& state) {
    double flops = 0;
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) flops += fma_peak_round<T>(1 << 16);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (flops == 0) {
        state.SkipWithError("no x86 kernel sets in this build: no peak to measure");
        return;
    }
    peak_flops<T>() = flops / seconds;
    state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsRate);
    state.SetLabel(logreg::isa_name(logreg::kernel_isa()));
}

// ---- a whole epoch: shuffled order, every batch, as Trainer::fit runs it ----

void set_epoch_rates(benchmark::State& state, Index n) {
    set_rates(state, n, 2 * gemm_flops(n));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * n * kFeatures);
}

template <typename T>
void BM_Epoch_Fast(benchmark::State& state) {
    const Index b = state.range(0);
    const auto& data = mnist_like();
    logreg::TrainOptions o;
    o.threads = static_cast<int>(state.range(1));
    o.batch_size = b;
    o.epochs = 1;
    o.sgd.lr = 0.01;
    logreg::Trainer<T> trainer(logreg::LinearSoftmax<T>(kFeatures, kClasses, logreg::Init::uniform, 1), o);
    const auto pre = logreg::Preprocessor<T>::unit(kFeatures);
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) benchmark::DoNotOptimize(trainer.fit(data, pre).history.size());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    set_epoch_rates(state, data.size());
    // x_floor: this epoch's time over the floor, the epoch's FLOPs at one core's peak measured by
    // BM_FmaPeak in this run (per thread, so 2 threads have a floor of half of it).
    const double peak = peak_flops<T>() * static_cast<double>(o.threads);
    if (peak > 0 && state.iterations() > 0)
        state.counters["x_floor"] =
            seconds / static_cast<double>(state.iterations()) / (2.0 * gemm_flops(data.size()) / peak);
}

template <typename T>
void BM_Epoch_Ref(benchmark::State& state) {
    const Index b = state.range(0);
    const auto& data = mnist_like();
    logreg::IndexVector order = logreg::iota(data.size());
    std::mt19937_64 gen(9);
    RefStep<T> ref(b);
    for (auto _ : state) {
        std::shuffle(order.data(), order.data() + order.size(), gen);
        double loss = 0;
        for (Index at = 0; at < data.size(); at += b)
            loss += ref.step(data, order.data() + at, std::min(b, data.size() - at), T(0.01));
        benchmark::DoNotOptimize(loss);
    }
    set_epoch_rates(state, data.size());
}

// ---- one full-batch loss and gradient (an L-BFGS evaluation): sparse pass vs dense engine ----

template <typename T>
void set_full_batch_rates(benchmark::State& state, Index rows) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * rows);
    state.counters["FLOP/s"] = benchmark::Counter(
        static_cast<double>(state.iterations()) * 4.0 * static_cast<double>(rows * kFeatures * kClasses),
        benchmark::Counter::kIsRate);  // the dense count, for both
}

template <typename T>
void BM_FullBatch_Sparse(benchmark::State& state) {
    const auto& data = mnist_sparse_like();
    const int threads = static_cast<int>(state.range(0));
    logreg::detail::ThreadPool pool(threads);
    logreg::detail::SparseGradient<T> sparse;
    sparse.build(data, logreg::iota(data.size()), kClasses, threads);
    const logreg::LinearSoftmax<T> model(kFeatures, kClasses, logreg::Init::uniform, 1);
    const auto pre = logreg::Preprocessor<T>::unit(kFeatures);
    const logreg::CrossEntropy<T> loss;
    for (auto _ : state) benchmark::DoNotOptimize(sparse.compute(model, loss, pre, pool).loss_sum);
    set_full_batch_rates<T>(state, data.size());
}

template <typename T>
void BM_FullBatch_Dense(benchmark::State& state) {
    const auto& data = mnist_sparse_like();
    const int threads = static_cast<int>(state.range(0));
    logreg::detail::ThreadPool pool(threads);
    logreg::detail::BatchGradient<T> engine;
    engine.reserve(data.size(), kFeatures, kClasses, threads);
    const logreg::IndexVector rows = logreg::iota(data.size());
    const logreg::LinearSoftmax<T> model(kFeatures, kClasses, logreg::Init::uniform, 1);
    const auto pre = logreg::Preprocessor<T>::unit(kFeatures);
    const logreg::CrossEntropy<T> loss;
    for (auto _ : state)
        benchmark::DoNotOptimize(engine
                                     .compute(model, loss, data.features(), data.labels(), data.sample_weights(),
                                              rows.data(), rows.size(), pre, pool)
                                     .loss_sum);
    set_full_batch_rates<T>(state, data.size());
}

// ---- the hardware: GEMM peak and memory bandwidth, for the floor in docs/performance.md ----

template <typename T>
void BM_GemmPeak(benchmark::State& state) {
    const Index n = state.range(0);
    const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> a = random_matrix<T>(n, n, 1.0, 1),
                                                           b = random_matrix<T>(n, n, 1.0, 2);
    Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> c(n, n);
    for (auto _ : state) {
        c.noalias() = a * b;
        benchmark::DoNotOptimize(c.data());
    }
    const double flops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
    state.counters["FLOP/s"] =
        benchmark::Counter(flops * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_MemoryRead(benchmark::State& state) {
    const Index n = state.range(0);  // bytes
    const RowMatrix<std::uint8_t> bytes = RowMatrix<std::uint8_t>::Constant(n / 4096, 4096, std::uint8_t{1});
    for (auto _ : state) {
        // Summing as 64-bit words is far faster than the memory, so this measures the memory.
        const auto* p = reinterpret_cast<const std::uint64_t*>(bytes.data());
        std::uint64_t s = 0;
        for (Index i = 0; i < bytes.size() / 8; ++i) s += p[i];
        benchmark::DoNotOptimize(s);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * bytes.size());
}

/// What a step with 2 threads pays beyond its arithmetic: one fork-join of the pool (argument
/// 0), or a fork-join in which each thread reads the half of a C x D float matrix that the
/// other thread wrote in the previous run and then writes its own half (argument 1): the
/// traffic of combining two partial gradients and updating W by halves.
void BM_TwoThreadStep(benchmark::State& state) {
    struct Context {
        std::vector<float> m = std::vector<float>(static_cast<std::size_t>(kFeatures * kClasses), 1.0f);
        bool exchange = false;
        static void task(void* c, int t) {
            auto* x = static_cast<Context*>(c);
            if (!x->exchange) return;
            const std::size_t half = x->m.size() / 2, mine = t == 0 ? 0 : half, other = half - mine;
            float sum = 0;
            for (std::size_t i = 0; i < half; ++i) sum += x->m[other + i];
            for (std::size_t i = 0; i < half; ++i) x->m[mine + i] = sum * 1e-9f + 1.0f;
        }
    } context;
    context.exchange = state.range(0) != 0;
    logreg::detail::ThreadPool pool(2);
    for (auto _ : state) pool.run(&Context::task, &context);
    benchmark::DoNotOptimize(context.m.data());
}

// ---- where a step's time goes, per phase, from 1 to 16 threads (the scaling model's inputs) ----
//
// SGD steps over a shuffled epoch with BatchGradient's phase timers on. Counters are microseconds
// per step, averaged over the threads: gather (rows read and converted), logits, loss (softmax
// and its gradient), dW (and db), wait (at the barrier: load imbalance and the slowest
// thread's lateness), reduce (summing the threads' partial gradients) and update (the
// optimizer). Beyond the machine's cores the threads take turns, so only the sums of work
// (gather ... dW) stay meaningful there; docs/performance.md says what they predict.

template <typename T>
void step_phases(benchmark::State& state, Index cycle) {
    const Index b = state.range(0);
    // As the Trainer does: a pool of only the threads a step of B rows can use (idle workers
    // would spin beside the working ones).
    const int threads = logreg::detail::BatchGradient<T>::threads_for(b, static_cast<int>(state.range(1)));
    const auto& data = mnist_like();
    logreg::detail::ThreadPool pool(threads);
    logreg::detail::BatchGradient<T> engine;
    engine.reserve(b, kFeatures, kClasses, threads);
    logreg::LinearSoftmax<T> model(kFeatures, kClasses, logreg::Init::uniform, 1);
    logreg::SGD<T> sgd;
    const logreg::CrossEntropy<T> loss;
    const auto pre = logreg::Preprocessor<T>::unit(kFeatures);
    const logreg::IndexVector order = logreg::shuffled_indices(data.size(), 7);
    const logreg::Vector<double> no_weights;
    engine.compute_and_step(model, sgd, 0.01, loss, data.features(), data.labels(), no_weights, order.data(), b, pre,
                            pool);
    engine.profile_phases(true);
    Index at = 0;
    for (auto _ : state) {
        if (at + 2 * b > cycle) at = 0;
        engine.compute_and_step(model, sgd, 0.01, loss, data.features(), data.labels(), no_weights, order.data() + at,
                                b, pre, pool, order.data() + at + b, b);
        at += b;
    }
    using Times = typename logreg::detail::BatchGradient<T>::PhaseTimes;
    // Microseconds per step, the mean over the threads (B=64 runs on 2 at most: 24 rows each).
    const double per_step = 1e6 / static_cast<double>(state.iterations()) / threads;
    const auto mean = [&](double Times::*phase) {
        double sum = 0;
        for (const Times& t : engine.phase_times()) sum += t.*phase;
        return sum * per_step;
    };
    state.counters["threads_used"] = threads;
    state.counters["gather_us"] = mean(&Times::gather);
    state.counters["logits_us"] = mean(&Times::logits);
    state.counters["loss_us"] = mean(&Times::loss);
    state.counters["dW_us"] = mean(&Times::weight_gradient);
    state.counters["wait_us"] = mean(&Times::wait);
    state.counters["reduce_us"] = mean(&Times::reduce);
    state.counters["update_us"] = mean(&Times::update);
    set_rates(state, b, 2 * gemm_flops(b));
    state.SetLabel(logreg::isa_name(logreg::kernel_isa()));
}

/// Steps through the whole shuffled data set, as an epoch does: rows come from memory.
template <typename T>
void BM_StepPhases(benchmark::State& state) {
    step_phases<T>(state, mnist_like().size());
}

/// The same steps cycling through the first 512 rows of the shuffled order (400 KB, inside the
/// L2 cache of every machine in docs/performance.md): the difference from BM_StepPhases is
/// what fetching rows from memory costs a step.
template <typename T>
void BM_StepPhasesInL2(benchmark::State& state) {
    step_phases<T>(state, std::min<Index>(512, mnist_like().size()));
}

void batch_sizes(benchmark::internal::Benchmark* b) {
    for (int size : {16, 64, 256, 1024}) b->Arg(size);
}
void batch_sizes_threads(benchmark::internal::Benchmark* b) {
    for (int threads : {1, 2})
        for (int size : {16, 64, 256, 1024}) b->Args({size, threads});
    b->ArgNames({"B", "threads"})->UseRealTime();  // several threads: wall time is what counts
}
void batch_sizes_ref(benchmark::internal::Benchmark* b) {
    for (int size : {16, 64, 256, 1024}) b->Args({size});
    b->ArgNames({"B"})->UseRealTime();
}

}  // namespace

BENCHMARK_TEMPLATE(BM_FmaPeak, float)->Unit(benchmark::kMillisecond);  // first: the epochs' x_floor needs it
BENCHMARK_TEMPLATE(BM_FmaPeak, double)->Unit(benchmark::kMillisecond);

#define LOGREG_BENCH_KERNELS(T)                                                                      \
    BENCHMARK_TEMPLATE(BM_Logits_Fast, T)->Apply(batch_sizes);                                       \
    BENCHMARK_TEMPLATE(BM_Logits_Ref, T)->Apply(batch_sizes);                                        \
    BENCHMARK_TEMPLATE(BM_SoftmaxCE_Fast, T)->Apply(batch_sizes);                                    \
    BENCHMARK_TEMPLATE(BM_SoftmaxCE_Ref, T)->Apply(batch_sizes);                                     \
    BENCHMARK_TEMPLATE(BM_WeightGrad_Fast, T)->Apply(batch_sizes);                                   \
    BENCHMARK_TEMPLATE(BM_WeightGrad_Ref, T)->Apply(batch_sizes);                                    \
    BENCHMARK_TEMPLATE(BM_Step_Fast, T)->Apply(batch_sizes_threads);                                 \
    BENCHMARK_TEMPLATE(BM_Step_Ref, T)->Apply(batch_sizes_ref);                                      \
    BENCHMARK_TEMPLATE(BM_Epoch_Fast, T)->Apply(batch_sizes_threads)->Unit(benchmark::kMillisecond); \
    BENCHMARK_TEMPLATE(BM_Epoch_Ref, T)->Apply(batch_sizes_ref)->Unit(benchmark::kMillisecond)

LOGREG_BENCH_KERNELS(float);
LOGREG_BENCH_KERNELS(double);
BENCHMARK_TEMPLATE(BM_FullBatch_Sparse, float)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_FullBatch_Dense, float)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_GemmPeak, float)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_GemmPeak, double)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MemoryRead)->Arg(1 << 20)->Arg(256 << 20)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TwoThreadStep)->Arg(0)->Arg(1)->ArgName("exchange")->UseRealTime();
BENCHMARK_TEMPLATE(BM_StepPhases, float)
    ->ArgsProduct({{64, 1024}, {1, 2, 16}})
    ->ArgNames({"B", "threads"})
    ->UseRealTime();
BENCHMARK_TEMPLATE(BM_StepPhasesInL2, float)->Args({64, 1})->ArgNames({"B", "threads"})->UseRealTime();

BENCHMARK_MAIN();
