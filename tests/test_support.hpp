// tests/test_support.hpp - Catch2 v2/v3 compatibility and shared helpers for the tests.
#pragma once

#ifdef LOGREG_CATCH_V3
#include <catch2/catch_all.hpp>
using Catch::Approx;
#else
#include <catch2/catch.hpp>
#endif

#include <logreg/logreg.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace logreg_test {

/// The MNIST folder of a test that needs the real data: $LOGREG_MNIST_DIR, else
/// $LOGREG_MNIST_FALLBACK_DIR (set by CTest to the build's LOGREG_DATA_DIR, where the README's main
/// job puts MNIST) when it holds the four files. Empty after printing the line that the tests'
/// SKIP_REGULAR_EXPRESSION ("skipped: no MNIST data") turns into a skip with the reason.
inline std::string mnist_dir_or_skip() {
    const char* env = std::getenv("LOGREG_MNIST_DIR");
    if (env && *env) return env;
    const char* fallback = std::getenv("LOGREG_MNIST_FALLBACK_DIR");
    if (fallback && *fallback) {
        bool complete = true;
        for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                 "t10k-labels-idx1-ubyte"}) {
            const std::filesystem::path p = std::filesystem::path(fallback) / name;
            std::error_code ec;
            if (!std::filesystem::exists(p, ec) && !std::filesystem::exists(p.string() + ".gz", ec)) complete = false;
        }
        if (complete) return fallback;
    }
    std::cout << "skipped: no MNIST data: LOGREG_MNIST_DIR is not set and "
              << (fallback ? fallback : "the build's data folder")
              << " does not hold the four MNIST files. Run `cmake --build <build> --target mnist_data` (downloads and "
                 "verifies them there) or set LOGREG_MNIST_DIR to a folder with them, then run the tests again.\n";
    return {};
}

/// A fresh folder under the system temp directory, removed with everything in it at scope exit.
struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& tag = "logreg_test") {
        // create_directory says whether this call made the folder, so parallel test processes never
        // share one: a name that is taken only means drawing another.
        static std::atomic<unsigned> counter{0};
        std::random_device entropy;
        const auto base = std::filesystem::temp_directory_path();
        for (int attempt = 0; attempt < 100; ++attempt) {
            path = base / (tag + "_" + std::to_string(entropy()) + "_" + std::to_string(counter++));
            if (std::filesystem::create_directory(path)) return;
        }
        throw std::runtime_error("cannot create a fresh folder under " + base.string());
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string operator/(const std::string& name) const { return (path / name).string(); }

    /// Names of the entries in the folder, sorted (to find left-over temporaries).
    std::vector<std::string> files() const {
        std::vector<std::string> names;
        for (const auto& e : std::filesystem::directory_iterator(path)) names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        return names;
    }
};

/// Substring matcher under its Catch2 v2 and v3 names.
inline auto contains(const std::string& s) {
#ifdef LOGREG_CATCH_V3
    return Catch::Matchers::ContainsSubstring(s);
#else
    return Catch::Contains(s);
#endif
}

/// The seed of every randomised test: LOGREG_TEST_SEED if set, else a fixed default.
/// It is printed once so that a failure can be reproduced.
inline std::uint64_t seed() {
    static const std::uint64_t s = [] {
        const char* env = std::getenv("LOGREG_TEST_SEED");
        std::uint64_t v = (env && *env) ? std::strtoull(env, nullptr, 10) : 20261129u;
        std::cerr << "logreg tests: LOGREG_TEST_SEED=" << v << "\n";
        return v;
    }();
    return s;
}

/// A generator seeded from seed() and a per-test salt, so tests do not share a stream.
inline std::mt19937_64 rng(std::uint64_t salt) {
    return std::mt19937_64(seed() * 0x9E3779B97F4A7C15ull + salt);
}

/// Random matrix with entries uniform in [-scale, scale].
template <typename Scalar>
logreg::RowMatrix<Scalar> random_matrix(logreg::Index rows, logreg::Index cols, std::mt19937_64& gen,
                                        double scale = 1.0) {
    std::uniform_real_distribution<double> u(-scale, scale);
    logreg::RowMatrix<Scalar> m(rows, cols);
    for (logreg::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<Scalar>(u(gen));
    return m;
}

inline logreg::LabelVector random_labels(logreg::Index n, int classes, std::mt19937_64& gen) {
    std::uniform_int_distribution<int> u(0, classes - 1);
    logreg::LabelVector y(n);
    for (logreg::Index i = 0; i < n; ++i) y[i] = u(gen);
    return y;
}

/// max |a - b| / max(1, max |b|): relative to the reference's scale.
template <typename A, typename B>
double rel_error(const A& a, const B& b) {
    const double diff = (a.template cast<double>() - b.template cast<double>()).cwiseAbs().maxCoeff();
    const double scale = std::max(1.0, b.template cast<double>().cwiseAbs().maxCoeff());
    return diff / scale;
}

/// Well-separated Gaussian blobs: class c centred at 4 * e_c (features >= classes).
template <typename Scalar>
logreg::Dataset<Scalar> blobs(logreg::Index n, logreg::Index features, int classes, std::uint64_t salt) {
    auto gen = rng(salt);
    std::normal_distribution<double> noise(0.0, 0.5);
    logreg::RowMatrix<Scalar> x(n, features);
    logreg::LabelVector y = random_labels(n, classes, gen);
    for (logreg::Index i = 0; i < n; ++i)
        for (logreg::Index j = 0; j < features; ++j)
            x(i, j) = static_cast<Scalar>(noise(gen) + (j == y[i] ? 4.0 : 0.0));
    return logreg::Dataset<Scalar>(std::move(x), std::move(y), classes);
}

}  // namespace logreg_test
