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

namespace logreg::detail::kernels {

template <typename Scalar>
struct KernelSet {
    Isa isa;
    Index packet;      ///< Scalars per vector register: column chunks are whole packets
    int forward_rows;  ///< rows per logits tile: callers step through a batch by this many

    /// Z = X W^T + b for `rows` rows of X (row-major, leading dimension ldx) and `classes` rows of
    /// W (row-major, ldw), over d features; Z is row-major with leading dimension ldz.
    void (*logits)(const Scalar* x, Index ldx, Index rows, const Scalar* w, Index ldw, Index classes, Index d,
                   const Scalar* bias, Scalar* z, Index ldz);

    /// G += dZ^T X over `rows` rows (G = dZ^T X if `overwrite`: G's old values are never read);
    /// X row-major (ldx), dZ row-major (ldz), G `classes` x d row-major (ldg).
    void (*add_weight_gradient)(const Scalar* x, Index ldx, Index rows, const Scalar* dz, Index ldz, Index classes,
                                Scalar* g, Index ldg, Index d, bool overwrite);

    /// dst[j] = (Scalar(src[j]) - offset[j]) * scale[j] for j < d: one row of bytes converted
    /// with Preprocessor's arithmetic.
    void (*convert_bytes)(const std::uint8_t* src, Index d, const Scalar* offset, const Scalar* scale, Scalar* dst);
};

}  // namespace logreg::detail::kernels
