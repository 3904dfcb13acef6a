// libFuzzer target "npy" (see fuzz_entries.hpp); built with LOGREG_BUILD_FUZZERS=ON and clang.
#include "fuzz_entries.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return logreg_fuzz::npy_entry(data, size);
}
