// logreg/detail/simd/portable.hpp - the portable kernel set: Eigen's packets for the build's flags.
//
// Runs on any CPU Eigen supports (NEON, SSE2, ... or plain scalars) at the width the compile
// flags give Eigen; on x86-64 the explicit sets of x86.hpp are chosen over it at run time.
#pragma once

#include <logreg/detail/kernel_set.hpp>
#include <logreg/types.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cstdint>

namespace logreg::detail::kernels {
inline namespace LOGREG_KERNEL_FLAGS {
namespace portable {

constexpr Isa this_isa = Isa::portable;
constexpr int vector_registers = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS;
constexpr bool bytes_in_kernels = false;  // Eigen has no byte packets: load_bytes goes through memory

template <typename Scalar>
struct Vec {
    using R = typename Eigen::internal::packet_traits<Scalar>::type;
    static constexpr Index width = Eigen::internal::unpacket_traits<R>::size;
    static R zero() { return Eigen::internal::pset1<R>(Scalar(0)); }
    static R load(const Scalar* p) { return Eigen::internal::ploadu<R>(p); }
    static void store(Scalar* p, const R& v) { Eigen::internal::pstoreu(p, v); }
    static R set1(Scalar s) { return Eigen::internal::pset1<R>(s); }
    static R madd(const R& a, const R& b, const R& c) { return Eigen::internal::pmadd(a, b, c); }
    static Scalar madd1(Scalar a, Scalar b, Scalar c) {  // rounded twice, whatever the compiler may contract
        Scalar p = a * b;
        LOGREG_OPAQUE(p);
        return p + c;
    }
    static R sub(const R& a, const R& b) { return Eigen::internal::psub(a, b); }
    static R mul(const R& a, const R& b) { return Eigen::internal::pmul(a, b); }
    static Scalar sum(const R& v) { return Eigen::internal::predux(v); }
    static R load_bytes(const std::uint8_t* p) {  // Eigen has no byte packets
        alignas(64) Scalar widened[width];
        for (Index i = 0; i < width; ++i) widened[i] = static_cast<Scalar>(p[i]);
        return load(widened);
    }
    static R min(const R& a, const R& b) { return Eigen::internal::pmin<Eigen::PropagateNaN>(a, b); }
    static R max(const R& a, const R& b) { return Eigen::internal::pmax<Eigen::PropagateNaN>(a, b); }
    static R round(const R& v) { return Eigen::internal::print(v); }
    static R pow2(const R& k) { return Eigen::internal::pldexp(set1(Scalar(1)), k); }
};

#include <logreg/detail/simd/kernels_impl.hpp>

}  // namespace portable
}  // namespace LOGREG_KERNEL_FLAGS
}  // namespace logreg::detail::kernels
