// logreg/detail/kernels.hpp - the hot path's kernels, in the instruction set chosen at run time.
//
// The kernels (logits, weight gradient, byte conversion, plain SGD's step, exp) are written once
// (simd/kernels_impl.hpp)
// and compiled for each instruction set (simd/x86.hpp: SSE2, AVX2+FMA, AVX-512; simd/portable.hpp:
// Eigen's packets for the build's flags). active<Scalar>() is the set of logreg::kernel_isa():
// the best the CPU has, or the one LOGREG_ISA names. Also here: row prefetching and the gather of
// shuffled rows, which are not instruction-set specific.
#pragma once

#include <logreg/detail/kernel_set.hpp>
#include <logreg/detail/simd/portable.hpp>
#include <logreg/detail/simd/x86.hpp>
#include <logreg/kernel_isa.hpp>
#include <logreg/types.hpp>

#include <algorithm>
#include <cstdint>
#include <type_traits>

namespace logreg::detail::kernels {

inline namespace LOGREG_KERNEL_FLAGS {  // the sets' tables differ with the flags, like the sets (kernel_set.hpp)

/// The kernel set of `isa`; one this build lacks (an x86 set off x86) gives the portable set.
template <typename Scalar>
const KernelSet<Scalar>& kernel_set(Isa isa) {
#ifdef LOGREG_X86_KERNELS
    static constexpr KernelSet<Scalar> sets[] = {portable::make_kernel_set<Scalar>(), sse2::make_kernel_set<Scalar>(),
                                                 avx2::make_kernel_set<Scalar>(), avx512::make_kernel_set<Scalar>()};
    return sets[static_cast<int>(isa)];
#else
    (void)isa;
    static constexpr KernelSet<Scalar> set = portable::make_kernel_set<Scalar>();
    return set;
#endif
}

#ifdef LOGREG_EXTERN_KERNELS
// The sets are compiled in one translation unit of the program, the one that includes
// <logreg/kernel_instances.hpp>, instead of in every unit that trains (see that header).
extern template const KernelSet<float>& kernel_set<float>(Isa);
extern template const KernelSet<double>& kernel_set<double>(Isa);
#endif

/// The set training uses now: kernel_set(kernel_isa()).
template <typename Scalar>
const KernelSet<Scalar>& active() {
    return kernel_set<Scalar>(kernel_isa());
}

}  // namespace LOGREG_KERNEL_FLAGS

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

/// out[i][j] = (Scalar(data[rows[i]][j]) - offset[j]) * scale[j]: the gather of shuffled rows
/// and their conversion (uint8 -> float, say) in one pass, bytes by the set's vector code (for
/// bytes, a null `offset` means zeros, as in KernelSet).
template <typename Scalar, typename Feature>
inline void gather_rows(const KernelSet<Scalar>& set, const Feature* data, Index ld_data, const Index* rows, Index n,
                        Index d, const Scalar* offset, const Scalar* scale, Scalar* out) {
    for (Index i = 0; i < n; ++i) {
        const Feature* src = data + rows[i] * ld_data;
        Scalar* dst = out + i * d;
        if constexpr (std::is_same_v<Feature, std::uint8_t>) {
            set.convert_bytes(src, d, offset, scale, dst);
        } else {
            for (Index j = 0; j < d; ++j) dst[j] = (static_cast<Scalar>(src[j]) - offset[j]) * scale[j];
        }
    }
}

/// Z = X W^T + b with the active set (see KernelSet::logits).
template <typename Scalar>
inline void logits(const Scalar* x, Index ldx, Index rows, const Scalar* w, Index ldw, Index classes, Index d,
                   const Scalar* bias, Scalar* z, Index ldz) {
    active<Scalar>().logits(x, ldx, rows, w, ldw, classes, d, bias, z, ldz);
}

/// G += dZ^T X with the active set (see KernelSet::add_weight_gradient).
template <typename Scalar>
inline void add_weight_gradient(const Scalar* x, Index ldx, Index rows, const Scalar* dz, Index ldz, Index classes,
                                Scalar* g, Index ldg, Index d, bool overwrite = false) {
    active<Scalar>().add_weight_gradient(x, ldx, rows, dz, ldz, classes, g, ldg, d, overwrite);
}

}  // namespace logreg::detail::kernels
