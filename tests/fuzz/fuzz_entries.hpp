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
#include <logreg/io/idx.hpp>
#include <logreg/io/safetensors.hpp>
#include <logreg/lbfgs.hpp>

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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

/// Calls f and swallows the logreg errors that are the expected answer to bad input.
template <typename F>
void expect_ok_or_logreg_error(F&& f) {
    try {
        f();
    } catch (const logreg::Error&) {
    }
}

/// Every IDX reader on one file: images, labels, and any array of the type its header names.
inline void read_idx_all_ways(const std::string& path, std::uint8_t type_byte) {
    expect_ok_or_logreg_error([&] { (void)logreg::io::read_idx_images(path); });
    expect_ok_or_logreg_error([&] { (void)logreg::io::read_idx_labels(path, 10); });
    const std::uint8_t type = logreg::io::detail::idx_element_size(type_byte) ? type_byte : 0x08;
    expect_ok_or_logreg_error([&] { (void)logreg::io::read_idx(path, type); });
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
        expect_ok_or_logreg_error([&] {
            const io::SafetensorsFile f =
                io::SafetensorsFile::from_bytes(std::vector<unsigned char>(data, data + size), "fuzz-input");
            valid = true;
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
        load_checkpoint_into(path, Trainer<float>(LinearSoftmax<float>(3, 2)));
        load_checkpoint_into(path, Trainer<double>(LinearSoftmax<double>(3, 2)));
        load_checkpoint_into(path, Trainer<float, Adam<float>>(LinearSoftmax<float>(3, 2)));
        load_checkpoint_into(path, Trainer<double, AdamW<double>>(LinearSoftmax<double>(3, 2)));
        load_checkpoint_into(path, LBFGS<float>(LinearSoftmax<float>(3, 2)));
        load_checkpoint_into(path, LBFGS<double>(LinearSoftmax<double>(3, 2)));
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
    return nullptr;
}

}  // namespace logreg_fuzz
