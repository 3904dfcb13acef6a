// logreg/kernel_isa.hpp - which SIMD kernel set the hot path runs, chosen when the program runs.
//
// The training kernels (logits, weight gradient, byte-to-float conversion) exist once per
// instruction set: AVX-512 (F/BW/VL), AVX2 with FMA and SSE2 on x86-64, plus the portable set
// written on Eigen's packets for the flags of the build (any CPU Eigen supports). One binary
// built with default flags takes the best set the CPU has; LOGREG_ISA=avx2 (or sse2, portable)
// forces a lower one for tests and comparisons. docs/design.md says why it works this way.
#pragma once

#include <logreg/error.hpp>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <vector>

// LOGREG_X86_KERNELS: this build contains the x86 kernel sets (x86-64 with GCC or Clang, not on
// Windows: they are compiled with target attributes, whatever the global flags). Not on Windows:
// clang-cl does not link the CPU model __builtin_cpu_supports reads, and MinGW's GCC may spill AVX
// registers to a stack aligned for SSE only (GCC bug 54412).
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(_WIN32)
#define LOGREG_X86_KERNELS 1
#endif

namespace logreg {

/// A kernel set, lowest to highest.
enum class Isa { portable = 0, sse2 = 1, avx2 = 2, avx512 = 3 };

namespace detail {
struct IsaInfo {
    const char* name;         // what LOGREG_ISA takes
    const char* description;  // what the set needs of the CPU
};
/// Indexed by Isa.
inline constexpr IsaInfo isa_info[] = {{"portable", "Eigen packets of the build's flags"},
                                       {"sse2", "SSE2"},
                                       {"avx2", "AVX2+FMA"},
                                       {"avx512", "AVX-512 F/BW/VL"}};
static_assert(sizeof(isa_info) / sizeof(isa_info[0]) == static_cast<std::size_t>(Isa::avx512) + 1, "one entry per Isa");
/// isa_info's entry for `isa`; a value outside the enum reads as portable.
inline const IsaInfo& info(Isa isa) {
    const int i = static_cast<int>(isa);
    return isa_info[i >= 0 && i <= static_cast<int>(Isa::avx512) ? i : 0];
}
}  // namespace detail

/// The name LOGREG_ISA takes for it: "portable", "sse2", "avx2", "avx512".
inline const char* isa_name(Isa isa) {
    return detail::info(isa).name;
}

/// What the set needs of the CPU, for messages and the programs' build line.
inline const char* isa_description(Isa isa) {
    return detail::info(isa).description;
}

namespace detail {

/// True if this build contains the x86 kernel sets (LOGREG_X86_KERNELS above).
constexpr bool has_x86_kernels() {
#ifdef LOGREG_X86_KERNELS
    return true;
#else
    return false;
#endif
}

/// True if the CPU (and the operating system, which must save the wider registers) can run `isa`.
inline bool cpu_supports(Isa isa) {
    if (isa == Isa::portable) return true;
#ifdef LOGREG_X86_KERNELS
    // __builtin_cpu_supports checks the OS's XSAVE state too (libgcc / compiler-rt cpu model).
    __builtin_cpu_init();
    switch (isa) {
        case Isa::sse2:
            return true;  // part of x86-64
        case Isa::avx2:
            return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        case Isa::avx512:
            return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
                   __builtin_cpu_supports("fma");
        case Isa::portable:
            break;
    }
#endif
    return false;
}

}  // namespace detail

/// The kernel sets this build and CPU can run, best first (the portable set is always last).
inline std::vector<Isa> supported_isas() {
    std::vector<Isa> out;
    for (Isa isa : {Isa::avx512, Isa::avx2, Isa::sse2})
        if (detail::has_x86_kernels() && detail::cpu_supports(isa)) out.push_back(isa);
    out.push_back(Isa::portable);
    return out;
}

namespace detail {

/// Set by tests (ScopedKernelIsa) to run one set in-process; -1 when unset.
inline std::atomic<int> isa_override{-1};

/// What LOGREG_ISA asked for, read once: the set, or the message of why it cannot be used.
struct IsaRequest {
    Isa isa = Isa::portable;
    std::string error;  // non-empty: LOGREG_ISA names no set, or one the CPU cannot run
};

inline IsaRequest read_isa_request() {
    IsaRequest r;
    r.isa = supported_isas().front();
    const char* env = std::getenv("LOGREG_ISA");
    if (env == nullptr || *env == '\0' || std::string(env) == "auto" || std::string(env) == "best") return r;
    const std::string want(env);
    std::string known;
    for (Isa isa : {Isa::avx512, Isa::avx2, Isa::sse2, Isa::portable}) {
        const bool built = isa == Isa::portable || has_x86_kernels();
        if (want == isa_name(isa)) {
            if (!built || !cpu_supports(isa)) {
                r.error = std::string("LOGREG_ISA=") + want + ": this CPU or build cannot run the " +
                          isa_description(isa) + " kernels (best here: " + isa_name(r.isa) + ")";
            } else {
                r.isa = isa;
            }
            return r;
        }
        known += known.empty() ? "" : ", ";
        known += isa_name(isa);
    }
    r.error = "LOGREG_ISA=" + want.substr(0, 32) + ": expected auto, " + known;
    return r;
}

}  // namespace detail

/// The kernel set training runs: the best this CPU supports, or the one LOGREG_ISA names.
/// Throws InvalidParameter when LOGREG_ISA names no set or one this CPU cannot run.
inline Isa kernel_isa() {
    const int forced = detail::isa_override.load(std::memory_order_relaxed);
    if (forced >= 0) return static_cast<Isa>(forced);
    static const detail::IsaRequest request = detail::read_isa_request();
    if (!request.error.empty()) throw InvalidParameter(request.error);
    return request.isa;
}

namespace detail {

/// Runs the kernels of `isa` in this process until destroyed (tests; not for concurrent training).
class ScopedKernelIsa {
public:
    explicit ScopedKernelIsa(Isa isa) : previous_(isa_override.exchange(static_cast<int>(isa))) {}
    ~ScopedKernelIsa() { isa_override.store(previous_); }
    ScopedKernelIsa(const ScopedKernelIsa&) = delete;
    ScopedKernelIsa& operator=(const ScopedKernelIsa&) = delete;

private:
    int previous_;
};

}  // namespace detail
}  // namespace logreg
