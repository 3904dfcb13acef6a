// logreg/detail/kernel_set.hpp - one instruction set's hot-path kernels, as function pointers.
//
// Every set (detail/simd/*.hpp) fills one of these; kernels.hpp picks the set at run time
// (logreg/kernel_isa.hpp). A call goes through a pointer because the callee is compiled for
// another instruction set than its caller and could not be inlined into it anyway; each call
// does a whole tile or row of work, so the indirection costs nothing measurable.
#pragma once

#include <logreg/kernel_isa.hpp>
#include <logreg/types.hpp>

#include <cstdint>

// The kernel sets are compiled with the translation unit's flags plus their own target (the
// target pragma adds to the global flags), so a -march=native unit and a default one would make
// different code under the same names, and the linker would keep one of them for both. An inline
// namespace named after the global vector flags (as Highway does) keeps them apart: a program
// that mixes such units links both, and each unit calls its own.
#if defined(__AVX512F__)
#define LOGREG_KERNEL_FLAGS flags_avx512
#elif defined(__AVX2__)
#define LOGREG_KERNEL_FLAGS flags_avx2
#elif defined(__AVX__)
#define LOGREG_KERNEL_FLAGS flags_avx
#elif defined(__SSE4_1__)
#define LOGREG_KERNEL_FLAGS flags_sse4
#else
#define LOGREG_KERNEL_FLAGS flags_base
#endif

// LOGREG_OPAQUE(v): from here on the compiler treats v as an unknown value in memory, so it
// cannot fuse the operation that computed v with those that use it. Vec::madd1 of the SSE2 and
// portable sets (whose scalar tails round twice) uses it: a compiler allowed to contract a * b + c
// (GCC's default -ffp-contract=fast, with FMA in the global flags) may otherwise contract some of
// a kernel's scalar tail and not the same tail of its twin (the Scalar and the byte kernels),
// which would change the last bit.
#if defined(__GNUC__) || defined(__clang__)
#define LOGREG_OPAQUE(v) __asm__("" : "+m"(v))
#else
#define LOGREG_OPAQUE(v) static_cast<void>(v)
#endif

namespace logreg::detail::kernels {

template <typename Scalar>
struct KernelSet {
    Isa isa;
    Index packet;      ///< Scalars per vector register: column chunks are whole packets
    int forward_rows;  ///< rows per logits tile: callers step through a batch by this many
    /// The engine hands uint8 rows to logits_bytes and add_weight_gradient_bytes rather than
    /// converting a copy first: true where that is faster (AVX-512: a 5 x 5 logits tile converts 5
    /// rows per 25 multiply-adds; with 16 registers the 2 x 5 tile converts 2 per 10, and SSE2's
    /// widening takes four instructions per 4 bytes; docs/performance.md has the measurements).
    bool bytes_in_kernels;

    /// Z = X W^T + b for `rows` rows of X (row-major, leading dimension ldx) and `classes` rows of
    /// W (row-major, ldw), over d features; Z is row-major with leading dimension ldz.
    void (*logits)(const Scalar* x, Index ldx, Index rows, const Scalar* w, Index ldw, Index classes, Index d,
                   const Scalar* bias, Scalar* z, Index ldz);

    /// G += dZ^T X over `rows` rows (G = dZ^T X if `overwrite`: G's old values are never read);
    /// X row-major (ldx), dZ row-major (ldz), G `classes` x d row-major (ldg).
    void (*add_weight_gradient)(const Scalar* x, Index ldx, Index rows, const Scalar* dz, Index ldz, Index classes,
                                Scalar* g, Index ldg, Index d, bool overwrite);

    /// logits() reading row r of X as the bytes x_rows[r][0..d), converted as convert_bytes does
    /// with offset and scale: bitwise logits() on the converted rows, without converting a copy.
    /// In the byte functions a null `offset` means every offset is 0 (x * scale: the same bits,
    /// one vector operation less per vector of bytes).
    void (*logits_bytes)(const std::uint8_t* const* x_rows, Index rows, const Scalar* offset, const Scalar* scale,
                         const Scalar* w, Index ldw, Index classes, Index d, const Scalar* bias, Scalar* z, Index ldz);

    /// add_weight_gradient() reading row r of X as the bytes x_rows[r][first..first + d), converted
    /// with offset[first..] and scale[first..]: bitwise add_weight_gradient() on the converted rows.
    void (*add_weight_gradient_bytes)(const std::uint8_t* const* x_rows, Index first, Index rows, const Scalar* offset,
                                      const Scalar* scale, const Scalar* dz, Index ldz, Index classes, Scalar* g,
                                      Index ldg, Index d, bool overwrite);

    /// dst[j] = (Scalar(src[j]) - offset[j]) * scale[j] for j < d: one row of bytes converted
    /// with Preprocessor's arithmetic.
    void (*convert_bytes)(const std::uint8_t* src, Index d, const Scalar* offset, const Scalar* scale, Scalar* dst);

    /// p[i] -= rate * (g[i] * scale) for i < n (plain SGD, rounded as the set rounds a
    /// multiply-add); true if every p[i] written is finite.
    bool (*sgd_step)(Scalar* p, const Scalar* g, Index n, Scalar scale, Scalar rate);

    /// x[i] = exp(x[i]) for i < n, in place, within 2 ulps of the exact value (the softmax's
    /// exponentials). Overflow gives +inf, underflow 0 through the subnormals, NaN stays NaN. An
    /// element's result depends on its value only, not on its place, so splitting an array into
    /// parts in any way gives the same bits.
    void (*exp_in_place)(Scalar* x, Index n);
};

}  // namespace logreg::detail::kernels
