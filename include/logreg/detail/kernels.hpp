// logreg/detail/kernels.hpp - fused, register-blocked kernels for the few-class linear layer.
//
// A softmax-regression step multiplies a tall batch by a very flat weight matrix
// (C = 10 outputs, D = 784 inputs). General GEMM packs both operands for every call and
// blocks for large square shapes, which is wasted work here. These kernels instead walk
// the D axis once per small tile, keeping all partial sums in registers:
//   logits:   z[r][c] = sum_j x[r][j] w[c][j] + b[c]   (RB rows x CB classes of accumulators)
//   gradient: g[c][j] += sum_r dz[r][c] x[r][j]         (CB classes of g kept in registers
//                                                        while every row of the block is added)
// They use Eigen's packet layer (SSE2, AVX, AVX-512, NEON, ... or plain scalars), so the
// width follows whatever the user compiles for; nothing here forces an instruction set.
#pragma once

#include <logreg/types.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace logreg::detail::kernels {

/// The SIMD packet Eigen uses for Scalar under the current compile flags (a scalar when none).
template <typename Scalar>
struct Simd {
    using Packet = typename Eigen::internal::packet_traits<Scalar>::type;
    static constexpr Index size = Eigen::internal::unpacket_traits<Packet>::size;
};

/// Rows per logits tile: 4 x 5 accumulators fit 32 vector registers, 2 x 5 fit 16.
constexpr int forward_rows = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32 ? 4 : 2;
/// Classes per logits tile.
constexpr int forward_classes = 5;
/// Largest class tile of the gradient kernel (CB accumulators + one x packet + one broadcast).
constexpr int gradient_classes = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32 ? 16 : 12;

/// Asks the cache to start loading rows[0..n) of a row-major matrix. A shuffled batch reads
/// rows scattered over the whole data set: without this, converting each row waits for its
/// cache misses one row at a time, which cost more than all the arithmetic of a step.
template <typename Feature>
inline void prefetch_rows(const Feature* data, Index ld_data, const Index* rows, Index n) {
#if defined(__GNUC__) || defined(__clang__)
    constexpr Index line = 64;
    const Index bytes = ld_data * static_cast<Index>(sizeof(Feature));
    for (Index i = 0; i < n; ++i) {
        const char* p = reinterpret_cast<const char*>(data + rows[i] * ld_data);
        for (Index off = 0; off < bytes; off += line) __builtin_prefetch(p + off, 0, 3);
    }
#else
    (void)data, (void)ld_data, (void)rows, (void)n;  // no portable prefetch: rely on the hardware
#endif
}

/// Prefetches, in order, the rows a thread will read: rows[0..n) of this step, then
/// next[0..next_n) of the next. upto(k) requests everything before position k not yet requested.
template <typename Feature>
class RowPrefetcher {
public:
    RowPrefetcher(const Feature* data, Index ld_data, const Index* rows, Index n, const Index* next, Index next_n)
        : data_(data), ld_(ld_data), rows_(rows), n_(n), next_(next), next_n_(next ? next_n : 0) {}

    void upto(Index k) {
        k = std::min(k, n_ + next_n_);
        if (k <= done_) return;
        if (done_ < n_) {
            const Index e = std::min(k, n_);
            prefetch_rows(data_, ld_, rows_ + done_, e - done_);
            done_ = e;
        }
        if (k > done_) {
            prefetch_rows(data_, ld_, next_ + (done_ - n_), k - done_);
            done_ = k;
        }
    }

private:
    const Feature* data_;
    Index ld_;
    const Index* rows_;
    Index n_;
    const Index* next_;
    Index next_n_;
    Index done_ = 0;
};

/// dst[j] = (Scalar(src[j]) - offset[j]) * scale[j] for j < d: one row's conversion, the same
/// arithmetic as Preprocessor. Eigen has no packets of bytes and compilers widen bytes to
/// floats clumsily (four shuffles per eight values), so bytes to float or double get the
/// one-instruction widening of AVX-512 or AVX2 when the build enables them.
template <typename Scalar, typename Feature>
inline void convert_row(const Feature* src, Index d, const Scalar* offset, const Scalar* scale, Scalar* dst) {
    Index j = 0;
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<Feature, std::uint8_t> && std::is_same_v<Scalar, float>) {
        for (; j + 16 <= d; j += 16) {
            const __m512 x =
                _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + j))));
            _mm512_storeu_ps(dst + j,
                             _mm512_mul_ps(_mm512_sub_ps(x, _mm512_loadu_ps(offset + j)), _mm512_loadu_ps(scale + j)));
        }
    } else if constexpr (std::is_same_v<Feature, std::uint8_t> && std::is_same_v<Scalar, double>) {
        for (; j + 8 <= d; j += 8) {
            const __m512d x =
                _mm512_cvtepi32_pd(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + j))));
            _mm512_storeu_pd(dst + j,
                             _mm512_mul_pd(_mm512_sub_pd(x, _mm512_loadu_pd(offset + j)), _mm512_loadu_pd(scale + j)));
        }
    }
#elif defined(__AVX2__)
    if constexpr (std::is_same_v<Feature, std::uint8_t> && std::is_same_v<Scalar, float>) {
        for (; j + 8 <= d; j += 8) {
            const __m256 x =
                _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + j))));
            _mm256_storeu_ps(dst + j,
                             _mm256_mul_ps(_mm256_sub_ps(x, _mm256_loadu_ps(offset + j)), _mm256_loadu_ps(scale + j)));
        }
    }
#endif
    for (; j < d; ++j) dst[j] = (static_cast<Scalar>(src[j]) - offset[j]) * scale[j];
}

/// out[i][j] = (Scalar(data[rows[i]][j]) - offset[j]) * scale[j]: the gather of shuffled rows
/// and their conversion (uint8 -> float, say) in one pass.
template <typename Scalar, typename Feature>
inline void gather_rows(const Feature* data, Index ld_data, const Index* rows, Index n, Index d, const Scalar* offset,
                        const Scalar* scale, Scalar* out) {
    for (Index i = 0; i < n; ++i) convert_row(data + rows[i] * ld_data, d, offset, scale, out + i * d);
}

/// z[r][c] = x[r] . w[c] + b[c] for RB rows and CB classes; every w packet is loaded once per
/// tile and shared by RB rows, every x packet shared by CB classes.
template <int RB, int CB, typename Scalar>
inline void logits_tile(const Scalar* x, Index ldx, const Scalar* w, Index ldw, Index d, const Scalar* bias, Scalar* z,
                        Index ldz) {
    using namespace Eigen::internal;
    using P = typename Simd<Scalar>::Packet;
    constexpr Index S = Simd<Scalar>::size;
    P acc[RB][CB];
    for (int r = 0; r < RB; ++r)
        for (int c = 0; c < CB; ++c) acc[r][c] = pset1<P>(Scalar(0));
    const Index dv = d - d % S;  // the packet part of each row; the rest is done in scalars
    for (Index j = 0; j < dv; j += S) {
        P xp[RB];
        for (int r = 0; r < RB; ++r) xp[r] = ploadu<P>(x + r * ldx + j);
        for (int c = 0; c < CB; ++c) {
            const P wp = ploadu<P>(w + c * ldw + j);
            for (int r = 0; r < RB; ++r) acc[r][c] = pmadd(xp[r], wp, acc[r][c]);
        }
    }
    for (int r = 0; r < RB; ++r)
        for (int c = 0; c < CB; ++c) {
            Scalar s = predux(acc[r][c]);
            for (Index k = dv; k < d; ++k) s += x[r * ldx + k] * w[c * ldw + k];
            z[r * ldz + c] = s + bias[c];
        }
}

/// Runs logits_tile<RB, n> for a run-time n in [1, CB] (the last, narrower class tile).
template <int RB, int CB, typename Scalar>
inline void logits_tile_n(int n, const Scalar* x, Index ldx, const Scalar* w, Index ldw, Index d, const Scalar* bias,
                          Scalar* z, Index ldz) {
    if constexpr (CB >= 1) {
        if (n == CB)
            logits_tile<RB, CB>(x, ldx, w, ldw, d, bias, z, ldz);
        else
            logits_tile_n<RB, CB - 1>(n, x, ldx, w, ldw, d, bias, z, ldz);
    }
}

/// Z = X W^T + b for `rows` rows of X (row-major, leading dimension ldx) and `classes` rows of
/// W (row-major, leading dimension ldw); Z is row-major with leading dimension ldz.
template <typename Scalar>
inline void logits(const Scalar* x, Index ldx, Index rows, const Scalar* w, Index ldw, Index classes, Index d,
                   const Scalar* bias, Scalar* z, Index ldz) {
    constexpr int RB = forward_rows, CB = forward_classes;
    Index r = 0;
    for (; r + RB <= rows; r += RB)
        for (Index c = 0; c < classes; c += CB) {
            const int n = static_cast<int>(std::min<Index>(CB, classes - c));
            logits_tile_n<RB, CB>(n, x + r * ldx, ldx, w + c * ldw, ldw, d, bias + c, z + r * ldz + c, ldz);
        }
    for (; r < rows; ++r)
        for (Index c = 0; c < classes; c += CB) {
            const int n = static_cast<int>(std::min<Index>(CB, classes - c));
            logits_tile_n<1, CB>(n, x + r * ldx, ldx, w + c * ldw, ldw, d, bias + c, z + r * ldz + c, ldz);
        }
}

/// g[c][j] += sum_r dz[r][c] x[r][j] for CB classes: the CB rows of g stay in registers while
/// all `rows` rows of the block are added, so g is read and written once per block.
template <int CB, typename Scalar>
inline void gradient_tile(const Scalar* x, Index ldx, Index rows, const Scalar* dz, Index ldz, Scalar* g, Index ldg,
                          Index d, bool overwrite) {
    using namespace Eigen::internal;
    using P = typename Simd<Scalar>::Packet;
    constexpr Index S = Simd<Scalar>::size;
    const Index dv = d - d % S;
    for (Index j = 0; j < dv; j += S) {
        P acc[CB];
        for (int c = 0; c < CB; ++c) acc[c] = overwrite ? pset1<P>(Scalar(0)) : ploadu<P>(g + c * ldg + j);
        for (Index r = 0; r < rows; ++r) {
            const P xp = ploadu<P>(x + r * ldx + j);
            const Scalar* dzr = dz + r * ldz;
            for (int c = 0; c < CB; ++c) acc[c] = pmadd(pset1<P>(dzr[c]), xp, acc[c]);
        }
        for (int c = 0; c < CB; ++c) pstoreu(g + c * ldg + j, acc[c]);
    }
    for (Index j = dv; j < d; ++j)
        for (int c = 0; c < CB; ++c) {
            Scalar s = overwrite ? Scalar(0) : g[c * ldg + j];
            for (Index r = 0; r < rows; ++r) s += dz[r * ldz + c] * x[r * ldx + j];
            g[c * ldg + j] = s;
        }
}

template <int CB, typename Scalar>
inline void gradient_tile_n(int n, const Scalar* x, Index ldx, Index rows, const Scalar* dz, Index ldz, Scalar* g,
                            Index ldg, Index d, bool overwrite) {
    if constexpr (CB >= 1) {
        if (n == CB)
            gradient_tile<CB>(x, ldx, rows, dz, ldz, g, ldg, d, overwrite);
        else
            gradient_tile_n<CB - 1>(n, x, ldx, rows, dz, ldz, g, ldg, d, overwrite);
    }
}

/// G += dZ^T X (G = dZ^T X if `overwrite`: G's old values are never read): `rows` rows of X
/// (row-major, ldx) and dZ (row-major, ldz) into the `classes` x d row-major G (leading dimension ldg).
template <typename Scalar>
inline void add_weight_gradient(const Scalar* x, Index ldx, Index rows, const Scalar* dz, Index ldz, Index classes,
                                Scalar* g, Index ldg, Index d, bool overwrite = false) {
    constexpr int CB = gradient_classes;
    // Split the classes into near-equal tiles (10 -> one tile of 10; 20 -> 10 + 10 on 16
    // registers) rather than CB + a thin remainder.
    const Index tiles = (classes + CB - 1) / CB;
    const Index per = (classes + tiles - 1) / tiles;
    for (Index c = 0; c < classes; c += per) {
        const int n = static_cast<int>(std::min<Index>(per, classes - c));
        gradient_tile_n<CB>(n, x, ldx, rows, dz + c, ldz, g + c * ldg, ldg, d, overwrite);
    }
}

}  // namespace logreg::detail::kernels
