// logreg/detail/simd/x86.hpp - the x86-64 kernel sets: SSE2, AVX2+FMA and AVX-512 (F/BW/VL).
//
// Each set is compiled under its own target attribute (a pragma around its namespace), so one
// build with default flags holds all three and kernels.hpp calls the best the CPU has. Eigen
// picks its packets from the global flags only, so these sets use the intrinsics directly;
// the kernels themselves are kernels_impl.hpp, included once per set.
#pragma once

#include <logreg/detail/kernel_set.hpp>
#include <logreg/types.hpp>

#ifdef LOGREG_X86_KERNELS  // kernel_isa.hpp: x86-64 with GCC or Clang, not Windows

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

// Everything between LOGREG_TARGET_BEGIN and LOGREG_TARGET_END is compiled for that target.
// GCC 12 warns about the deliberately uninitialised vectors inside some AVX-512 intrinsics when
// they are compiled under a target pragma (GCC bug 105593, fixed in GCC 13).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(__clang__)
#define LOGREG_TARGET_BEGIN_(target) _Pragma(#target)
#define LOGREG_TARGET_BEGIN(isa) \
    LOGREG_TARGET_BEGIN_(clang attribute push(__attribute__((target(isa))), apply_to = function))
#define LOGREG_TARGET_END _Pragma("clang attribute pop")
#else
#define LOGREG_TARGET_BEGIN_(target) _Pragma(#target)
#define LOGREG_TARGET_BEGIN(isa) _Pragma("GCC push_options") LOGREG_TARGET_BEGIN_(GCC target(isa))
#define LOGREG_TARGET_END _Pragma("GCC pop_options")
#endif

namespace logreg::detail::kernels {

/// Four bytes as the low 32 bits of a vector (an unaligned load without undefined behaviour).
inline __m128i load_4_bytes(const std::uint8_t* p) {
    std::int32_t v;
    std::memcpy(&v, p, sizeof v);
    return _mm_cvtsi32_si128(v);
}

}  // namespace logreg::detail::kernels

// ---- SSE2: every x86-64 CPU; no FMA, so madd is a multiply and an add (which a build with FMA
// in its global flags may still fuse, the same way in every kernel) ----
namespace logreg::detail::kernels {
inline namespace LOGREG_KERNEL_FLAGS {
namespace sse2 {

constexpr Isa this_isa = Isa::sse2;
constexpr int vector_registers = 16;
constexpr bool bytes_in_kernels = false;

/// a * b + c rounded twice, as the scalar tails of this set round (see LOGREG_OPAQUE).
template <typename Scalar>
inline Scalar unfused_madd(Scalar a, Scalar b, Scalar c) {
    Scalar p = a * b;
    LOGREG_OPAQUE(p);
    return p + c;
}

template <typename Scalar>
struct Vec;

template <>
struct Vec<float> {
    using R = __m128;
    static constexpr Index width = 4;
    static R zero() { return _mm_setzero_ps(); }
    static R load(const float* p) { return _mm_loadu_ps(p); }
    static void store(float* p, R v) { _mm_storeu_ps(p, v); }
    static R set1(float s) { return _mm_set1_ps(s); }
    static R madd(R a, R b, R c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
    static float madd1(float a, float b, float c) { return unfused_madd(a, b, c); }
    static R sub(R a, R b) { return _mm_sub_ps(a, b); }
    static R mul(R a, R b) { return _mm_mul_ps(a, b); }
    static float sum(R v) {
        const R s = _mm_add_ps(v, _mm_movehl_ps(v, v));
        return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
    }
    static R load_bytes(const std::uint8_t* p) {
        const __m128i zero = _mm_setzero_si128();
        return _mm_cvtepi32_ps(_mm_unpacklo_epi16(_mm_unpacklo_epi8(load_4_bytes(p), zero), zero));
    }
    static R min(R a, R b) { return _mm_min_ps(a, b); }
    static R max(R a, R b) { return _mm_max_ps(a, b); }
    static R round(R v) { return _mm_cvtepi32_ps(_mm_cvtps_epi32(v)); }  // |v| < 2^31 here
    static R pow2(R k) {
        return _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(_mm_cvtps_epi32(k), _mm_set1_epi32(127)), 23));
    }
};

template <>
struct Vec<double> {
    using R = __m128d;
    static constexpr Index width = 2;
    static R zero() { return _mm_setzero_pd(); }
    static R load(const double* p) { return _mm_loadu_pd(p); }
    static void store(double* p, R v) { _mm_storeu_pd(p, v); }
    static R set1(double s) { return _mm_set1_pd(s); }
    static R madd(R a, R b, R c) { return _mm_add_pd(_mm_mul_pd(a, b), c); }
    static double madd1(double a, double b, double c) { return unfused_madd(a, b, c); }
    static R sub(R a, R b) { return _mm_sub_pd(a, b); }
    static R mul(R a, R b) { return _mm_mul_pd(a, b); }
    static double sum(R v) { return _mm_cvtsd_f64(_mm_add_sd(v, _mm_unpackhi_pd(v, v))); }
    static R load_bytes(const std::uint8_t* p) { return _mm_set_pd(p[1], p[0]); }
    static R min(R a, R b) { return _mm_min_pd(a, b); }
    static R max(R a, R b) { return _mm_max_pd(a, b); }
    static R round(R v) { return _mm_cvtepi32_pd(_mm_cvtpd_epi32(v)); }
    static R pow2(R k) {  // the biased exponents, widened to the two 64-bit lanes
        const __m128i e = _mm_add_epi32(_mm_cvtpd_epi32(k), _mm_set1_epi32(1023));
        return _mm_castsi128_pd(_mm_slli_epi64(_mm_unpacklo_epi32(e, _mm_setzero_si128()), 52));
    }
};

#include <logreg/detail/simd/kernels_impl.hpp>

}  // namespace sse2
}  // namespace LOGREG_KERNEL_FLAGS
}  // namespace logreg::detail::kernels

// ---- AVX2 + FMA: Haswell (2013) and Zen on ----
LOGREG_TARGET_BEGIN("avx2,fma")
namespace logreg::detail::kernels {
inline namespace LOGREG_KERNEL_FLAGS {
namespace avx2 {

constexpr Isa this_isa = Isa::avx2;
constexpr int vector_registers = 16;
constexpr bool bytes_in_kernels = false;

template <typename Scalar>
struct Vec;

template <>
struct Vec<float> {
    using R = __m256;
    static constexpr Index width = 8;
    static R zero() { return _mm256_setzero_ps(); }
    static R load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, R v) { _mm256_storeu_ps(p, v); }
    static R set1(float s) { return _mm256_set1_ps(s); }
    static R madd(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
    static float madd1(float a, float b, float c) {  // one rounding, always the instruction
        return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
    }
    static R sub(R a, R b) { return _mm256_sub_ps(a, b); }
    static R mul(R a, R b) { return _mm256_mul_ps(a, b); }
    static float sum(R v) {
        __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
        s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
    }
    static R load_bytes(const std::uint8_t* p) {
        return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
    }
    static R min(R a, R b) { return _mm256_min_ps(a, b); }
    static R max(R a, R b) { return _mm256_max_ps(a, b); }
    static R round(R v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    static R pow2(R k) {
        return _mm256_castsi256_ps(
            _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23));
    }
};

template <>
struct Vec<double> {
    using R = __m256d;
    static constexpr Index width = 4;
    static R zero() { return _mm256_setzero_pd(); }
    static R load(const double* p) { return _mm256_loadu_pd(p); }
    static void store(double* p, R v) { _mm256_storeu_pd(p, v); }
    static R set1(double s) { return _mm256_set1_pd(s); }
    static R madd(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
    static double madd1(double a, double b, double c) {
        return _mm_cvtsd_f64(_mm_fmadd_sd(_mm_set_sd(a), _mm_set_sd(b), _mm_set_sd(c)));
    }
    static R sub(R a, R b) { return _mm256_sub_pd(a, b); }
    static R mul(R a, R b) { return _mm256_mul_pd(a, b); }
    static double sum(R v) {
        const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
        return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
    }
    static R load_bytes(const std::uint8_t* p) { return _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(load_4_bytes(p))); }
    static R min(R a, R b) { return _mm256_min_pd(a, b); }
    static R max(R a, R b) { return _mm256_max_pd(a, b); }
    static R round(R v) { return _mm256_round_pd(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    static R pow2(R k) {
        const __m128i e = _mm_add_epi32(_mm256_cvtpd_epi32(k), _mm_set1_epi32(1023));
        return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_cvtepi32_epi64(e), 52));
    }
};

#include <logreg/detail/simd/kernels_impl.hpp>

}  // namespace avx2
}  // namespace LOGREG_KERNEL_FLAGS
}  // namespace logreg::detail::kernels
LOGREG_TARGET_END

// ---- AVX-512 F/BW/VL: Skylake-SP (2017), Ice Lake, Sapphire Rapids, Zen 4 on ----
LOGREG_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx2,fma")
namespace logreg::detail::kernels {
inline namespace LOGREG_KERNEL_FLAGS {
namespace avx512 {

constexpr Isa this_isa = Isa::avx512;
constexpr int vector_registers = 32;
constexpr bool bytes_in_kernels = true;

template <typename Scalar>
struct Vec;

template <>
struct Vec<float> {
    using R = __m512;
    static constexpr Index width = 16;
    static R zero() { return _mm512_setzero_ps(); }
    static R load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, R v) { _mm512_storeu_ps(p, v); }
    static R set1(float s) { return _mm512_set1_ps(s); }
    static R madd(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
    static float madd1(float a, float b, float c) {  // one rounding, always the instruction
        return _mm_cvtss_f32(_mm_fmadd_ss(_mm_set_ss(a), _mm_set_ss(b), _mm_set_ss(c)));
    }
    static R sub(R a, R b) { return _mm512_sub_ps(a, b); }
    static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
    static float sum(R v) { return _mm512_reduce_add_ps(v); }
    static R load_bytes(const std::uint8_t* p) {
        return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
    }
    static R min(R a, R b) { return _mm512_min_ps(a, b); }
    static R max(R a, R b) { return _mm512_max_ps(a, b); }
    static R round(R v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    static R pow2(R k) {
        return _mm512_castsi512_ps(
            _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(k), _mm512_set1_epi32(127)), 23));
    }
};

template <>
struct Vec<double> {
    using R = __m512d;
    static constexpr Index width = 8;
    static R zero() { return _mm512_setzero_pd(); }
    static R load(const double* p) { return _mm512_loadu_pd(p); }
    static void store(double* p, R v) { _mm512_storeu_pd(p, v); }
    static R set1(double s) { return _mm512_set1_pd(s); }
    static R madd(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
    static double madd1(double a, double b, double c) {
        return _mm_cvtsd_f64(_mm_fmadd_sd(_mm_set_sd(a), _mm_set_sd(b), _mm_set_sd(c)));
    }
    static R sub(R a, R b) { return _mm512_sub_pd(a, b); }
    static R mul(R a, R b) { return _mm512_mul_pd(a, b); }
    static double sum(R v) { return _mm512_reduce_add_pd(v); }
    static R load_bytes(const std::uint8_t* p) {
        return _mm512_cvtepi32_pd(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
    }
    static R min(R a, R b) { return _mm512_min_pd(a, b); }
    static R max(R a, R b) { return _mm512_max_pd(a, b); }
    static R round(R v) { return _mm512_roundscale_pd(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
    static R pow2(R k) {
        const __m256i e = _mm256_add_epi32(_mm512_cvtpd_epi32(k), _mm256_set1_epi32(1023));
        return _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_cvtepi32_epi64(e), 52));
    }
};

#include <logreg/detail/simd/kernels_impl.hpp>

}  // namespace avx512
}  // namespace LOGREG_KERNEL_FLAGS
}  // namespace logreg::detail::kernels
LOGREG_TARGET_END

#undef LOGREG_TARGET_BEGIN
#undef LOGREG_TARGET_BEGIN_
#undef LOGREG_TARGET_END
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif
