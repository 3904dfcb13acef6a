// The SIGBUS guard of logreg/io/mmap_idx.hpp, in a process of its own (a signal handler belongs to
// the whole process, and the test ends it):
//   mapped_file_guard DIR guarded  maps an IDX file through MmapIdxDataset, truncates it and reads a
//                                  row of the mapping: the guard prints a line naming the file and
//                                  exits with 2 (without it, SIGBUS kills the process silently)
//   mapped_file_guard DIR chain    a SIGBUS in a mapping that is not the library's goes to the
//                                  handler installed before the guard (which exits with 7 here)
//   mapped_file_guard DIR default  ... and, with no handler before, kills the process by SIGBUS as
//                                  it would without the guard (checked in a child; exit 0 if so)
#include <logreg/io/mmap_idx.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

constexpr std::uint32_t rows = 100;  // 100 images of 28x28: 78 KB, many pages

void put_be32(std::ofstream& out, std::uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
    out.write(b, 4);
}

void write_files(const std::string& images, const std::string& labels) {
    std::ofstream img(images, std::ios::binary), lab(labels, std::ios::binary);
    put_be32(img, 0x803);
    put_be32(img, rows);
    put_be32(img, 28);
    put_be32(img, 28);
    const std::vector<char> pixels(std::size_t{rows} * 784, 1);
    img.write(pixels.data(), static_cast<std::streamsize>(pixels.size()));
    put_be32(lab, 0x801);
    put_be32(lab, rows);
    for (std::uint32_t i = 0; i < rows; ++i) lab.put(static_cast<char>(i % 10));
}

/// Writes `path`, maps it by hand (not through the library), truncates it and reads past the new end.
int read_truncated_mapping(const std::string& path) {
    std::ofstream(path, std::ios::binary) << std::string(std::size_t{rows} * 784 + 16, 'x');
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) return 1;
    const std::size_t length = std::size_t{rows} * 784 + 16;
    void* p = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) return 1;
    if (::truncate(path.c_str(), 16) != 0) return 1;
    const volatile unsigned char* bytes = static_cast<const unsigned char*>(p);
    std::printf("read %d\n", bytes[length - 1]);  // SIGBUS here
    return 1;
}

extern "C" void previous_handler(int, siginfo_t*, void*) {
    const char line[] = "previous SIGBUS handler called\n";
    (void)::write(STDERR_FILENO, line, sizeof line - 1);
    ::_exit(7);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: mapped_file_guard DIR guarded|chain|default\n");
        return 2;
    }
    const std::string dir = argv[1], mode = argv[2];
    std::filesystem::create_directories(dir);
    const std::string images = dir + "/images-idx3-ubyte", labels = dir + "/labels-idx1-ubyte";
    write_files(images, labels);
    std::fflush(stdout);

    if (mode == "guarded") {
        logreg::io::install_mapped_file_guard();
        logreg::io::MmapIdxDataset data(images, labels, 10);
        const volatile std::uint8_t* window = data.map_window(0);  // checks the size: still whole
        if (::truncate(images.c_str(), 16) != 0) return 1;
        // The file shrank after the check: the read below faults; MappedBatches would have thrown
        // IoError before its next batch, but a read already under way can only be caught so.
        std::printf("read %d\n", window[std::size_t{rows - 1} * 784]);
        std::printf("FAILED: no SIGBUS\n");
        return 1;
    }
    if (mode == "chain") {
        struct sigaction sa {};
        sa.sa_sigaction = previous_handler;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_SIGINFO;
        ::sigaction(SIGBUS, &sa, nullptr);
        logreg::io::install_mapped_file_guard();
        logreg::io::MmapIdxDataset data(images, labels, 10);
        (void)data.map_window(0);  // a mapping of the library's exists, elsewhere
        return read_truncated_mapping(dir + "/other.bin");
    }
    if (mode == "default") {
        const pid_t child = ::fork();
        if (child == 0) {
            ::signal(SIGBUS, SIG_DFL);  // e.g. no sanitizer's handler before the guard
            logreg::io::install_mapped_file_guard();
            ::_exit(read_truncated_mapping(dir + "/other.bin"));
        }
        int status = 0;
        if (::waitpid(child, &status, 0) != child) return 1;
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS) {
            std::printf("PASSED: the child was killed by SIGBUS, as without the guard\n");
            return 0;
        }
        std::printf("FAILED: the child ended with status %d\n", status);
        return 1;
    }
    std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
    return 2;
}
