// logreg/kernel_instances.hpp - the hot path's kernel sets, compiled in one translation unit.
//
// Header-only by default: every translation unit that trains compiles the kernels for every
// instruction set (SSE2, AVX2, AVX-512 and the portable set, in float and double). That is about
// 10 s of g++ -O3 per unit, and three times that under AddressSanitizer. A program of several
// such units can compile them once instead:
//   - define LOGREG_EXTERN_KERNELS for every translation unit of the program (with CMake:
//     target_compile_definitions(app PRIVATE LOGREG_EXTERN_KERNELS));
//   - include this header in exactly one .cpp file of it.
// All units must be compiled with the same instruction-set flags (-march=...): the sets live in
// a namespace named after them, so a mismatch fails to link instead of mixing code.
#pragma once

#include <logreg/detail/kernels.hpp>

namespace logreg::detail::kernels {
inline namespace LOGREG_KERNEL_FLAGS {

template const KernelSet<float>& kernel_set<float>(Isa);
template const KernelSet<double>& kernel_set<double>(Isa);

}  // namespace LOGREG_KERNEL_FLAGS
}  // namespace logreg::detail::kernels
