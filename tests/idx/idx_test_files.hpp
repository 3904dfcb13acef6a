// tests/idx/idx_test_files.hpp - builds small IDX files (raw bytes) in a private temporary folder.
#pragma once

#include "test_support.hpp"

#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace idx_test {

using Bytes = std::vector<std::uint8_t>;

/// A private folder for the files a test builds: the shared helper under the IDX tests' name.
struct TempDir : logreg_test::TempDir {
    TempDir() : logreg_test::TempDir("logreg_test_idx") {}
};

inline void put_be32(Bytes& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>((v >> shift) & 0xFFu));
}

/// An IDX header: 0, 0, type, ndims, then the dimensions big-endian.
inline Bytes idx_header(std::uint8_t type, const std::vector<std::uint32_t>& dims) {
    Bytes b = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (std::uint32_t d : dims) put_be32(b, d);
    return b;
}

/// The pixel value used by the synthetic images: a pattern that differs between images and positions.
inline std::uint8_t pixel(std::size_t image, std::size_t pos) {
    return static_cast<std::uint8_t>((image * 31 + pos * 7 + 3) % 256);
}

/// A complete IDX image file: n images of rows x cols.
inline Bytes idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
    Bytes b = idx_header(0x08, {n, rows, cols});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t p = 0; p < std::size_t{rows} * cols; ++p) b.push_back(pixel(i, p));
    return b;
}

/// A complete IDX label file with the given labels.
inline Bytes idx_labels(const Bytes& labels) {
    Bytes b = idx_header(0x08, {static_cast<std::uint32_t>(labels.size())});
    b.insert(b.end(), labels.begin(), labels.end());
    return b;
}

/// Labels i % classes, for i < n.
inline Bytes cyclic_labels(std::size_t n, int classes = 10) {
    Bytes l(n);
    for (std::size_t i = 0; i < n; ++i) l[i] = static_cast<std::uint8_t>(i % static_cast<std::size_t>(classes));
    return l;
}

inline void write_bytes(const std::string& path, const Bytes& bytes, bool append = false) {
    std::ofstream out(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
}

inline void write_text(const std::string& path, const std::string& text) {
    write_bytes(path, Bytes(text.begin(), text.end()));
}

inline Bytes read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace idx_test
