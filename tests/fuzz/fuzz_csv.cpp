// libFuzzer target "csv" (see fuzz_entries.hpp); built with LOGREG_BUILD_FUZZERS=ON and clang.
#include "fuzz_entries.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    return logreg_fuzz::csv_entry(data, size);
}
