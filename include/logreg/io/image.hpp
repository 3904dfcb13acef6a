// logreg/io/image.hpp - reads a grayscale image file: PNG (libspng) or PGM (logreg's strict reader).
//
// The format is decided by the file's first bytes; nothing else reaches a decoder. The file's size
// is checked against ImageLimits::max_file_bytes before it is read, and each decoder checks the
// image's size against the limits before it allocates the pixels.
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/io/detail/input_file.hpp>
#include <logreg/io/gray_image.hpp>
#include <logreg/io/pgm.hpp>
#include <logreg/io/png_decode.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace logreg::io {

namespace detail {

/// The file's bytes, refusing anything but a regular file (never waiting on a FIFO) of at most `max_bytes`.
inline std::vector<std::uint8_t> read_image_file(const std::string& path, std::uint64_t max_bytes) {
    using logreg::detail::cat;
    io::detail::InputFile file(path);
    if (file.size() > max_bytes)
        throw FormatError(cat(path, ": the file is ", file.size(),
                              " bytes, more than an image within the limits can need (", max_bytes, ")"));
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(file.size()));
    const std::size_t got = file.read(bytes.data(), bytes.size());
    if (got != bytes.size())
        throw IoError(cat(path, ": reading the image failed after ", got, " of ", bytes.size(), " bytes"));
    return bytes;
}

}  // namespace detail

/// Decodes an image file's bytes: PNG or PGM (P5 binary, P2 plain), recognized by their first bytes.
/// Throws FormatError naming `name` for any other content or a malformed image.
inline GrayImage decode_gray_image(const std::uint8_t* data, std::size_t size, const std::string& name,
                                   const ImageLimits& limits = {}) {
    if (size >= sizeof(png_signature) && std::memcmp(data, png_signature, sizeof(png_signature)) == 0)
        return decode_png_gray(data, size, name, limits);
    if (size >= 2 && data[0] == 'P' && (data[1] == '5' || data[1] == '2')) return decode_pgm(data, size, name, limits);
    throw FormatError(name + ": not a PNG or PGM image (it does not start with a PNG signature, P5 or P2)");
}

/// Reads `path` as 8-bit grayscale: PNG (colour converted by luma) or PGM. IoError if the file
/// cannot be read (missing, a directory, not a regular file), FormatError if it is no valid image
/// or exceeds `limits`.
inline GrayImage read_gray_image(const std::string& path, const ImageLimits& limits = {}) {
    const std::vector<std::uint8_t> bytes = detail::read_image_file(path, limits.max_file_bytes);
    return decode_gray_image(bytes.data(), bytes.size(), path, limits);
}

}  // namespace logreg::io
