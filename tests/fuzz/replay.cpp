// fuzz_corpus replay TARGET PATH...: runs the fuzz target's entry on every file (and every file in each
// folder) given, with the normal compiler, so the seed corpora and every crashing input ever
// found (tests/fuzz/regressions/TARGET/) are replayed by the ordinary test suite.
#include "fuzz_entries.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>

namespace fuzz_replay {

namespace fs = std::filesystem;

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: fuzz_corpus replay idx|idx_gzip|safetensors|checkpoint|png|pgm|npy|csv FILE_OR_DIR...\n";
        return 2;
    }
    const logreg_fuzz::Entry entry = logreg_fuzz::entry_for(argv[1]);
    if (!entry) {
        std::cerr << "fuzz_replay: unknown target '" << argv[1] << "'\n";
        return 2;
    }
    std::vector<fs::path> files;
    for (int i = 2; i < argc; ++i) {
        std::error_code ec;
        if (fs::is_directory(argv[i], ec)) {
            for (const auto& e : fs::directory_iterator(argv[i]))
                if (e.is_regular_file() && e.path().filename().string()[0] != '.') files.push_back(e.path());
        } else if (fs::is_regular_file(argv[i], ec)) {
            files.push_back(argv[i]);
        } else {
            std::cerr << "fuzz_replay: '" << argv[i] << "' is neither a file nor a folder\n";
            return 2;
        }
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& p : files) {
        std::ifstream in(p, std::ios::binary);
        const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        entry(bytes.data(), bytes.size());  // a bug crashes or aborts here
    }
    std::cout << "fuzz_replay " << argv[1] << ": " << files.size() << " inputs, no failure\n";
    return 0;
}

}  // namespace fuzz_replay
