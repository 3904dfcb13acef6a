// tests/fuzz/fuzz_entries.hpp - what each fuzz target does with one input. Shared by the
// libFuzzer targets (clang, -fsanitize=fuzzer) and by the replay program that runs the seed
// corpora and every saved crashing input in the ordinary test suite (any compiler).
//
// An input passes when the reader either accepts it or throws a logreg::Error. Anything else -
// a crash, a sanitizer report, another exception (std::bad_alloc, std::length_error), or, under
// a sanitizer, one allocation far larger than the input - is a finding.
#pragma once

#include <logreg/adam.hpp>
#include <logreg/io/checkpoint.hpp>
#ifdef LOGREG_HAVE_CSV
#include <logreg/io/csv.hpp>
#endif
#include <logreg/io/idx.hpp>
#include <logreg/io/mnist.hpp>
#include <logreg/io/npy.hpp>
#include <logreg/io/safetensors.hpp>
#include <logreg/lbfgs.hpp>
#ifdef LOGREG_HAVE_SPNG
#include <logreg/io/image.hpp>
#endif

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LOGREG_FUZZ_ALLOC_HOOK 1
#endif
#elif defined(__SANITIZE_ADDRESS__)
#define LOGREG_FUZZ_ALLOC_HOOK 1
#endif
#ifdef LOGREG_FUZZ_ALLOC_HOOK
#include <sanitizer/allocator_interface.h>
#endif

namespace logreg_fuzz {

// ---- the allocation bound: no single allocation may be far larger than the input ----
#ifdef LOGREG_FUZZ_ALLOC_HOOK
inline std::size_t& largest_allocation() {
    static std::size_t largest = 0;
    return largest;
}
extern "C" inline void note_malloc(const volatile void*, std::size_t size) {
    if (size > largest_allocation()) largest_allocation() = size;
}
extern "C" inline void note_free(const volatile void*) {}
inline void install_allocation_hook() {
    // The sanitizer runtime installs a hook pair only when both are given.
    static const bool installed = __sanitizer_install_malloc_and_free_hooks(note_malloc, note_free) != 0;
    if (!installed) {
        std::fprintf(stderr, "logreg fuzz: cannot install the allocation hooks\n");
        std::abort();
    }
}
#endif

/// Runs `body` and aborts if one allocation inside it exceeded `limit` bytes (under ASan only).
template <typename F>
void with_allocation_bound(std::size_t limit, const char* what, F&& body) {
#ifdef LOGREG_FUZZ_ALLOC_HOOK
    install_allocation_hook();
    largest_allocation() = 0;
    body();
    if (largest_allocation() > limit) {
        std::fprintf(stderr, "logreg fuzz: %s allocated %zu bytes at once, more than the bound of %zu bytes\n", what,
                     largest_allocation(), limit);
        std::abort();
    }
#else
    (void)limit;
    (void)what;
    body();
#endif
}

// Fixed costs independent of the input: zlib's 64 KiB input buffer and state, the first body chunk.
inline constexpr std::size_t fixed_allocation = std::size_t{160} << 10;

// ---- a file holding the input (the readers take paths); RAM-backed when /dev/shm exists ----
inline const std::string& temp_path() {
    static const std::string path = [] {
        const char* dir =
            access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
        std::atexit([] { std::remove(temp_path().c_str()); });
        return std::string(dir) + "/logreg-fuzz-" + std::to_string(getpid());
    }();
    return path;
}

inline const std::string& write_temp(const std::uint8_t* data, std::size_t size) {
    const std::string& path = temp_path();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
        std::perror(path.c_str());
        std::abort();  // the harness, not the reader, failed
    }
    return path;
}

/// A planted bug, for checking that a harness and its fuzzer work at all: with
/// LOGREG_FUZZ_PLANTED_BUG=1 in the environment, an input that the reader accepted and that has
/// `property` (something no seed has, but one mutation reaches) aborts like a real finding.
/// run_fuzzers.sh checks that no seed has it and that every target finds it.
inline void planted_bug(bool property, const char* what) {
    static const bool armed = [] {
        const char* v = std::getenv("LOGREG_FUZZ_PLANTED_BUG");
        return v != nullptr && std::string(v) == "1";
    }();
    if (armed && property) {
        std::fprintf(stderr, "logreg fuzz: planted bug found (%s)\n", what);
        std::abort();
    }
}

/// Calls f and swallows the logreg errors that are the expected answer to bad input.
template <typename F>
void expect_ok_or_logreg_error(F&& f) {
    try {
        f();
    } catch (const logreg::Error&) {
    }
}

/// Every IDX reader on one file: images, labels, and any array of the type its header names; then
/// the same with the caller's expectations (IdxExpect) that the MNIST loader uses: 28x28 images, a
/// count, a byte limit - checked between the header and the body.
inline void read_idx_all_ways(const std::string& path, std::uint8_t type_byte) {
    using namespace logreg::io;
    expect_ok_or_logreg_error([&] { (void)read_idx_images(path); });
    expect_ok_or_logreg_error([&] {
        const logreg::LabelVector labels = read_idx_labels(path, 10);
        planted_bug(labels.size() > 0 && labels[0] != 0, "accepted labels whose first label is not 0");
    });
    const std::uint8_t type = detail::idx_element_size(type_byte) ? type_byte : 0x08;
    expect_ok_or_logreg_error([&] { (void)read_idx(path, type); });
    IdxExpect small;  // the count of the seed images_2x3x3
    small.count = 2;
    small.max_bytes = 64;
    expect_ok_or_logreg_error([&] { (void)read_idx_images(path, mnist_image_expect()); });
    expect_ok_or_logreg_error([&] { (void)read_idx_images_info(path, mnist_image_expect(1, 784)); });
    expect_ok_or_logreg_error([&] { (void)read_idx_labels(path, 10, small); });
    expect_ok_or_logreg_error([&] { (void)read_idx(path, type, small); });
}

/// Target "idx": the input is the file (raw, or gzip when it starts with 1f 8b).
inline int idx_entry(const std::uint8_t* data, std::size_t size) {
    const std::string& path = write_temp(data, size);
    const bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    // Raw: the claim is checked against the file size. Gzip: real content may be up to ~1032x the
    // compressed size (deflate's limit), and the buffer may double past it once.
    const std::size_t limit = fixed_allocation + (gzip ? 2 * 1100 : 2) * size;
    with_allocation_bound(limit, "idx", [&] { read_idx_all_ways(path, size > 2 ? data[2] : 0); });
    return 0;
}

/// gzip-compresses `data` (one member, default level) so the gzip path sees well-formed streams.
inline std::vector<std::uint8_t> gzip(const std::uint8_t* data, std::size_t size) {
    z_stream zs{};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
    std::vector<std::uint8_t> out(deflateBound(&zs, static_cast<uLong>(size)) + 32);
    zs.next_in = const_cast<Bytef*>(data);
    zs.avail_in = static_cast<uInt>(size);
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs, Z_FINISH) != Z_STREAM_END) std::abort();
    out.resize(zs.total_out);
    deflateEnd(&zs);
    return out;
}

/// Target "idx_gzip": the input is the decompressed content of a gzip file, so the fuzzer works
/// on the IDX structure behind the gzip path (sizes known only while decompressing).
inline int idx_gzip_entry(const std::uint8_t* data, std::size_t size) {
    const std::vector<std::uint8_t> gz = gzip(data, size);
    const std::string& path = write_temp(gz.data(), gz.size());
    with_allocation_bound(fixed_allocation + 4 * size, "idx_gzip",
                          [&] { read_idx_all_ways(path, size > 2 ? data[2] : 0); });
    return 0;
}

/// Target "safetensors": SafetensorsFile::from_bytes and every tensor's values; when the file
/// is valid, also load_model and load_checkpoint (into a 3-feature, 2-class trainer).
inline int safetensors_entry(const std::uint8_t* data, std::size_t size) {
    using namespace logreg;
    // 8x: values<double>() of U8 data is 8 bytes per stored byte, and a shape's std::vector<int64_t>
    // holds 8 bytes per 2 header bytes ("1,") with up to 2x spare capacity. There is no JSON tree
    // any more (the header is read as SAX events), so nothing else comes near.
    with_allocation_bound(fixed_allocation + 8 * size, "safetensors", [&] {
        bool valid = false;
        std::map<std::string, std::string> f_metadata;
        expect_ok_or_logreg_error([&] {
            const io::SafetensorsFile f =
                io::SafetensorsFile::from_bytes(std::vector<unsigned char>(data, data + size), "fuzz-input");
            valid = true;
            f_metadata = f.metadata();
            for (const auto& [name, t] : f.tensors()) {
                expect_ok_or_logreg_error([&, n = name] { (void)f.values<double>(n); });
                // Float to integer must be in range (values() documents it): integer dtypes only.
                if (t.dtype[0] == 'I' || t.dtype[0] == 'U')
                    expect_ok_or_logreg_error([&, n = name] { (void)f.values<std::int64_t>(n); });
                expect_ok_or_logreg_error([&, n = name] { (void)f.matrix<float>(n); });
                expect_ok_or_logreg_error([&, n = name] { (void)f.vector<float>(n); });
            }
        });
        if (!valid) return;
        for (const auto& [key, value] : f_metadata)
            planted_bug(value.find('#') != std::string::npos, "a valid file with '#' in a metadata value");
        const std::string& path = write_temp(data, size);
        expect_ok_or_logreg_error([&] { (void)io::load_model<float>(path); });
        expect_ok_or_logreg_error([&] { (void)io::load_model<double>(path); });
        expect_ok_or_logreg_error([&] {
            Trainer<float> trainer(LinearSoftmax<float>(3, 2));
            (void)io::load_checkpoint(path, trainer);
        });
    });
    return 0;
}

#ifdef LOGREG_HAVE_SPNG
// Limits of the image targets: large enough for every PNG and PGM code path, small enough that the
// decoded buffers stay far below libFuzzer's malloc limit.
inline logreg::io::ImageLimits fuzz_image_limits() {
    logreg::io::ImageLimits limits;
    limits.max_width = limits.max_height = 1024;
    limits.max_pixels = std::uint64_t{1} << 18;
    return limits;
}

// Largest allocation an image decode may make: RGBA rows plus the gray result, and libspng's
// chunk cache (4 MiB), independent of the input's size within the limits.
inline constexpr std::size_t image_allocation = (std::size_t{5} << 18) + (std::size_t{5} << 20);

/// True when the image decoded; planted bug: a PGM whose first pixel is not 0.
inline bool decode_image(const std::uint8_t* data, std::size_t size) {
    bool ok = false;
    expect_ok_or_logreg_error([&] {
        const logreg::io::GrayImage img = logreg::io::decode_gray_image(data, size, "fuzz-input", fuzz_image_limits());
        ok = true;
        planted_bug(size >= 2 && data[0] == 'P' && img.pixels[0] != 0, "an accepted PGM whose first pixel is not 0");
    });
    return ok;
}

/// Target "pgm": the input is a PGM file (or anything: the format is decided by the first bytes).
inline int pgm_entry(const std::uint8_t* data, std::size_t size) {
    with_allocation_bound(image_allocation + size, "pgm", [&] { (void)decode_image(data, size); });
    return 0;
}

/// Target "png": the input as it is (CRC checks reject most mutations), then again with every
/// chunk's CRC recomputed, so that mutations reach the chunk parsers and the image decoder.
inline int png_entry(const std::uint8_t* data, std::size_t size) {
    with_allocation_bound(image_allocation + 2 * size, "png", [&] {
        const bool as_is = decode_image(data, size);
        std::vector<std::uint8_t> fixed(data, data + size);
        for (std::size_t at = 8; at + 12 <= fixed.size();) {
            const std::uint32_t length = std::uint32_t{fixed[at]} << 24 | std::uint32_t{fixed[at + 1]} << 16 |
                                         std::uint32_t{fixed[at + 2]} << 8 | fixed[at + 3];
            if (length > fixed.size() - at - 12) break;
            const uLong crc = crc32(0L, fixed.data() + at + 4, static_cast<uInt>(4 + length));
            for (int i = 0; i < 4; ++i)
                fixed[at + 8 + length + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (24 - 8 * i));
            at += 12 + std::size_t{length};
        }
        if (fixed != std::vector<std::uint8_t>(data, data + size)) {
            const bool after_fix = decode_image(fixed.data(), fixed.size());
            planted_bug(!as_is && after_fix, "a PNG accepted once its CRCs were recomputed");
        }
    });
    return 0;
}
#endif

/// load_checkpoint of `path` into a fresh 3-feature, 2-class Fitter; a logreg::Error is a valid answer.
template <typename Fitter>
void load_checkpoint_into(const std::string& path, Fitter fitter) {
    expect_ok_or_logreg_error([&] { (void)logreg::io::load_checkpoint(path, fitter); });
}

/// Target "checkpoint": the input is a checkpoint file, loaded into SGD, Adam, AdamW and L-BFGS
/// fitters of a 3-feature, 2-class model, in float and double (each accepts only its own
/// optimizer's and scalar's checkpoints, so every seed reaches the deep checks of one of them).
inline int checkpoint_entry(const std::uint8_t* data, std::size_t size) {
    using namespace logreg;
    const std::string& path = write_temp(data, size);
    // 8x, as for "safetensors" (a shape's vector); the checkpoint's tensors convert F32 to float and
    // F64 to double only, 1x their bytes, and the 3x2 fitters are fixed costs.
    with_allocation_bound(fixed_allocation + 8 * size, "checkpoint", [&] {
        // Planted bug: a header the reader accepts whose RNG state (text, most of a checkpoint's
        // header) holds a byte that is neither a digit, a space nor a letter (the seed bad_rng has
        // a letter): almost any byte of it changed to a character JSON allows unescaped has the
        // property, so the fuzzer finds it whatever part of its corpus it mutates. (Properties at
        // one place of a fully valid checkpoint - a weight above 1000, one changed metadata value -
        // were not always found in 120 s.)
        expect_ok_or_logreg_error([&] {
            const io::SafetensorsFile header(path);
            const auto rng = header.metadata().find("rng");
            const char* allowed = "0123456789 abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
            planted_bug(rng != header.metadata().end() && rng->second.find_first_not_of(allowed) != std::string::npos,
                        "a checkpoint header whose RNG state has a byte other than digits, spaces and letters");
        });
        load_checkpoint_into(path, Trainer<float>(LinearSoftmax<float>(3, 2)));
        load_checkpoint_into(path, Trainer<double>(LinearSoftmax<double>(3, 2)));
        load_checkpoint_into(path, Trainer<float, Adam<float>>(LinearSoftmax<float>(3, 2)));
        load_checkpoint_into(path, Trainer<double, AdamW<double>>(LinearSoftmax<double>(3, 2)));
        load_checkpoint_into(path, LBFGS<float>(LinearSoftmax<float>(3, 2)));
        load_checkpoint_into(path, LBFGS<double>(LinearSoftmax<double>(3, 2)));
    });
    return 0;
}

#ifdef LOGREG_HAVE_CSV
/// Target "csv": the input is a CSV file (raw, or gzip when it starts with 1f 8b), read as a table
/// with and without a header, labels last and first, classes learnt and fixed, and as features
/// only. Planted bug: an accepted table with a feature of magnitude 1000 or more (the seeds' are
/// smaller; a digit inserted into any number reaches it).
inline int csv_entry(const std::uint8_t* data, std::size_t size) {
    using namespace logreg::io;
    const std::string& path = write_temp(data, size);
    const bool gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    // A float per field of at least 2 bytes ("0,"), the vector doubling once; a label's text, its
    // map node and bucket; gzip content up to 1100x the file.
    const std::size_t limit = fixed_allocation + 16 * (gz ? 1100 : 1) * size;
    with_allocation_bound(limit, "csv", [&] {
        CsvOptions o;
        o.max_row_bytes = 1 << 16;
        expect_ok_or_logreg_error([&] {
            const Table<float> t = read_csv(path, o);
            planted_bug(t.data.features().cwiseAbs().maxCoeff() >= 1000.0f, "an accepted table with a feature >= 1000");
        });
        o.header = false;
        o.label = 0;
        expect_ok_or_logreg_error([&] { (void)read_csv<double>(path, o); });
        o.skip_lines = 1;
        o.delimiter = ';';
        o.classes = {"0", "1", "a"};
        expect_ok_or_logreg_error([&] { (void)read_csv(path, o); });
        expect_ok_or_logreg_error([&] { (void)read_csv_features(path, CsvOptions()); });
    });
    return 0;
}
#endif

/// Target "npy": the input is an .npy file (raw, or gzip when it starts with 1f 8b), read as a
/// feature matrix, as a table with its last column as labels, and as labels. Planted bug: an
/// accepted matrix with an element of magnitude 10^6 or more (the seeds' are smaller; one changed
/// byte of a float's exponent reaches it).
inline int npy_entry(const std::uint8_t* data, std::size_t size) {
    using namespace logreg::io;
    const std::string& path = write_temp(data, size);
    const bool gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    // Raw: the data is checked against the file size, a uint8 becomes a 4-byte float. Gzip: up to
    // 1100x the file. Labels: a string and a map node per distinct label.
    const std::size_t limit = fixed_allocation + 8 * (gz ? 1100 : 1) * size;
    with_allocation_bound(limit, "npy", [&] {
        expect_ok_or_logreg_error([&] {
            const logreg::RowMatrix<float> x = read_npy_matrix(path);
            planted_bug(x.size() > 0 && x.cwiseAbs().maxCoeff() >= 1e6f, "an accepted matrix with an element >= 1e6");
        });
        expect_ok_or_logreg_error([&] { (void)read_npy<double>(path, -1); });
        expect_ok_or_logreg_error([&] { (void)read_npy(path, path); });
    });
    return 0;
}

/// The entry for a target name, or nullptr.
using Entry = int (*)(const std::uint8_t*, std::size_t);
inline Entry entry_for(const std::string& target) {
    if (target == "idx") return idx_entry;
    if (target == "idx_gzip") return idx_gzip_entry;
    if (target == "safetensors") return safetensors_entry;
    if (target == "checkpoint") return checkpoint_entry;
    if (target == "npy") return npy_entry;
#ifdef LOGREG_HAVE_CSV
    if (target == "csv") return csv_entry;
#endif
#ifdef LOGREG_HAVE_SPNG
    if (target == "png") return png_entry;
    if (target == "pgm") return pgm_entry;
#endif
    return nullptr;
}

}  // namespace logreg_fuzz
