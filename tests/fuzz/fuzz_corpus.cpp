// fuzz_corpus seeds OUT | replay TARGET PATH...: the fuzzers' seed corpora (make_seeds.cpp) and
// their replay with the normal compiler (replay.cpp), in one program: both instantiate the same
// parsers, which then compile once.
#include <cstring>
#include <iostream>

namespace fuzz_seeds {
int main(int argc, char** argv);
}
namespace fuzz_replay {
int main(int argc, char** argv);
}

int main(int argc, char** argv) {
    if (argc >= 2 && std::strcmp(argv[1], "seeds") == 0) return fuzz_seeds::main(argc - 1, argv + 1);
    if (argc >= 2 && std::strcmp(argv[1], "replay") == 0) return fuzz_replay::main(argc - 1, argv + 1);
    std::cerr << "usage: fuzz_corpus seeds OUT\n       fuzz_corpus replay idx|idx_gzip|safetensors|checkpoint "
                 "FILE_OR_DIR...\n";
    return 2;
}
