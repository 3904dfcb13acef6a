// logreg/detail/denormals.hpp - flush denormal floats to zero for the duration of an update.
//
// An optimizer's running averages (SGD's momentum buffer, Adam's moments) decay geometrically for
// parameters whose gradient has become zero - on MNIST the weights of border pixels after a rare
// stroke - and then spend hundreds of steps in the denormal range, where every arithmetic
// operation on x86 takes a microcode assist: the update, a small part of a step otherwise, becomes
// slower than the whole gradient. Values below 1e-38 (float) change nothing an optimizer could
// see, so the updates run with denormals flushed to zero, as PyTorch does after
// torch.set_flush_denormal(True).
#pragma once

#if defined(__SSE2__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

namespace logreg::detail {

/// While alive, the calling thread treats denormal floats as zero and flushes denormal results to
/// zero (x86's FTZ and DAZ bits; elsewhere nothing); the previous mode is restored on exit.
class FlushDenormals {
public:
#if defined(__SSE2__) || defined(_M_X64)
    FlushDenormals() : saved_(_mm_getcsr()) {
        _mm_setcsr(saved_ | 0x8040u);
    }  // FTZ (0x8000) | DAZ (0x0040)
    ~FlushDenormals() {
        _mm_setcsr(saved_);
    }
#else
    FlushDenormals() = default;
#endif
    FlushDenormals(const FlushDenormals&) = delete;
    FlushDenormals& operator=(const FlushDenormals&) = delete;

#if defined(__SSE2__) || defined(_M_X64)
private:
    unsigned saved_;
#endif
};

}  // namespace logreg::detail
