// Data larger than memory: trains one epoch from a raw IDX file several times larger than the
// process may address (the test runs it under `ulimit -v`), through io::MmapIdxDataset.
//   mmap_larger_than_memory make DIR MIB        writes DIR/images-idx3-ubyte (about MIB MiB) and labels
//   mmap_larger_than_memory train DIR LIMIT_MIB  checks that the file cannot be loaded, trains, evaluates
// The synthetic digits: class c lights up pixel block c (78 pixels) over a noisy background.
#include <logreg/io/mmap_idx.hpp>
#include <logreg/logreg.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <string>
#include <vector>

namespace {

using namespace logreg;
constexpr Index features = 784;

struct Generator {  // xorshift64*: fast enough to write a GiB in seconds, and the same everywhere
    std::uint64_t s;
    std::uint64_t next() {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        return s * 0x2545f4914f6cdd1dULL;
    }
    void sample(std::uint8_t* row, std::uint8_t& label) {
        const int c = static_cast<int>(next() % 10);
        label = static_cast<std::uint8_t>(c);
        for (Index j = 0; j < features; j += 8) {
            std::uint64_t bits = next();
            for (Index k = j; k < j + 8; ++k, bits >>= 8) {
                const bool lit = k / 78 == c;
                row[k] = static_cast<std::uint8_t>(lit ? 150 + (bits & 0x3f) : (bits & 0x7f));
            }
        }
    }
};

void put_be32(std::ofstream& out, std::uint32_t x) {
    const char b[4] = {static_cast<char>(x >> 24), static_cast<char>(x >> 16), static_cast<char>(x >> 8),
                       static_cast<char>(x)};
    out.write(b, 4);
}

int make(const std::string& dir, long mib) {
    std::filesystem::create_directories(dir);
    const auto rows = static_cast<std::uint32_t>((static_cast<std::uint64_t>(mib) << 20) / features);
    std::ofstream img(dir + "/images-idx3-ubyte", std::ios::binary), lab(dir + "/labels-idx1-ubyte", std::ios::binary);
    img.write("\0\0\x08\x03", 4);
    put_be32(img, rows);
    put_be32(img, 28);
    put_be32(img, 28);
    lab.write("\0\0\x08\x01", 4);
    put_be32(lab, rows);
    Generator g{12345};
    std::vector<std::uint8_t> chunk(4096 * features), labels(4096);
    for (std::uint32_t done = 0; done < rows;) {
        const std::uint32_t n = std::min<std::uint32_t>(4096, rows - done);
        for (std::uint32_t i = 0; i < n; ++i) g.sample(chunk.data() + i * features, labels[i]);
        img.write(reinterpret_cast<const char*>(chunk.data()), static_cast<std::streamsize>(n * features));
        lab.write(reinterpret_cast<const char*>(labels.data()), n);
        done += n;
    }
    if (!img || !lab) {
        std::fprintf(stderr, "cannot write the files in %s\n", dir.c_str());
        return 1;
    }
    std::printf("wrote %u rows (%.0f MiB) to %s\n", rows, static_cast<double>(rows) * features / (1 << 20),
                dir.c_str());
    return 0;
}

long vm_peak_kib() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmPeak:", 0) == 0) return std::atol(line.c_str() + 7);
    return -1;
}

int train(const std::string& dir, long limit_mib) {
    const std::string images = dir + "/images-idx3-ubyte";
    const auto file_bytes = static_cast<std::uint64_t>(std::filesystem::file_size(images));
    // The limit must really bind: holding the file in memory is impossible in this process.
    try {
        std::vector<std::uint8_t> whole(static_cast<std::size_t>(file_bytes));
        std::printf("FAILED: the whole file (%.0f MiB) fits in memory: the limit does not bind\n",
                    static_cast<double>(file_bytes) / (1 << 20));
        return 1;
    } catch (const std::bad_alloc&) {
        std::printf("loading the file (%.0f MiB) into memory fails under the %ld MiB limit, as intended\n",
                    static_cast<double>(file_bytes) / (1 << 20), limit_mib);
    }
    // A file truncated during the run ends the program with a message naming it, not a silent SIGBUS.
    io::install_mapped_file_guard();
    io::MmapIdxDataset data(images, dir + "/labels-idx1-ubyte", 10, std::uint64_t{32} << 20);
    TrainOptions opt;
    opt.batch_size = 64;
    opt.epochs = 1;
    opt.sgd.lr = 0.1;
    Trainer<float> trainer(LinearSoftmax<float>(features, 10), opt);
    const auto pre = Preprocessor<float>::unit(features);
    const TrainReport report = io::fit_mapped(trainer, data, pre);

    // Held-out samples from another stream of the same generator.
    Generator g{987654321};
    RowMatrix<std::uint8_t> x(2000, features);
    LabelVector y(2000);
    for (Index i = 0; i < 2000; ++i) {
        std::uint8_t label = 0;
        g.sample(x.row(i).data(), label);
        y[i] = label;
    }
    const Evaluation ev = evaluate(trainer.model(), Dataset<std::uint8_t>(std::move(x), std::move(y), 10), pre);
    const long peak = vm_peak_kib();
    std::printf(
        "trained 1 epoch on %lld rows (%lld windows of %lld rows) in %.1f s: train loss %.4f, held-out "
        "accuracy %.4f; VmPeak %.0f MiB (limit %ld MiB, file %.0f MiB)\n",
        static_cast<long long>(data.size()), static_cast<long long>(data.windows()),
        static_cast<long long>(data.window_rows()), report.seconds, report.history.at(0).train_loss, ev.accuracy,
        static_cast<double>(peak) / 1024, limit_mib, static_cast<double>(file_bytes) / (1 << 20));
    const bool ok = report.reason == StopReason::max_epochs && ev.accuracy > 0.95 && peak < limit_mib * 1024;
    std::printf("%s\n", ok ? "PASSED" : "FAILED");
    return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: mmap_larger_than_memory make DIR MIB | train DIR LIMIT_MIB\n");
        return 2;
    }
    try {
        const std::string mode = argv[1];
        if (mode == "make") return make(argv[2], std::atol(argv[3]));
        if (mode == "train") return train(argv[2], std::atol(argv[3]));
        std::fprintf(stderr, "unknown mode %s\n", argv[1]);
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mmap_larger_than_memory: error: %s\n", e.what());
        return 1;
    }
}
