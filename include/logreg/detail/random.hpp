// logreg/detail/random.hpp - seeded random numbers that are identical on every platform.
//
// std::uniform_*_distribution and std::shuffle are implementation-defined; we
// need the same permutation and the same initial weights for the same seed
// everywhere, so the few draws we need are written against std::mt19937_64,
// whose output sequence the standard does fix.
#pragma once

#include <cstdint>
#include <random>

namespace logreg::detail {

using Rng = std::mt19937_64;

/// Uniform double in [0, 1) from the top 53 bits of one draw.
inline double uniform01(Rng& rng) {
    return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

/// Uniform integer in [0, bound), unbiased (Lemire's rejection on 64-bit draws).
inline std::uint64_t uniform_below(Rng& rng, std::uint64_t bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        const std::uint64_t r = rng();
        if (r >= threshold) return r % bound;
    }
}

/// Fisher-Yates shuffle of [first, first + n).
template <typename T>
void shuffle(T* first, std::int64_t n, Rng& rng) {
    for (std::int64_t i = n - 1; i > 0; --i) {
        const auto j = static_cast<std::int64_t>(uniform_below(rng, static_cast<std::uint64_t>(i) + 1));
        std::swap(first[i], first[j]);
    }
}

}  // namespace logreg::detail
