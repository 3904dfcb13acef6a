// logreg/io/image.hpp - reads a grayscale image file: PNG (libspng) or PGM (logreg's strict reader).
//
// The format is decided by the file's first bytes; nothing else reaches a decoder. The file's size
// is checked against ImageLimits::max_file_bytes before it is read, and each decoder checks the
// image's size against the limits before it allocates the pixels.
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/io/gray_image.hpp>
#include <logreg/io/pgm.hpp>
#include <logreg/io/png.hpp>
#include <logreg/io/png_decode.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

namespace logreg::io {

namespace detail {

/// The file's bytes, refusing anything but a regular file of at most `max_bytes`.
inline std::vector<std::uint8_t> read_image_file(const std::string& path, std::uint64_t max_bytes) {
    using logreg::detail::cat;
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (st.type() == fs::file_type::not_found) throw IoError(path + ": no such image file");
    if (ec) throw IoError(cat(path, ": cannot read the image: ", ec.message()));
    if (st.type() == fs::file_type::directory) throw IoError(path + ": is a directory, not an image file");
    if (st.type() != fs::file_type::regular) throw IoError(path + ": is not a regular file (a FIFO, socket or device)");
    const std::uintmax_t size = fs::file_size(path, ec);
    if (ec) throw IoError(cat(path, ": cannot read the image: ", ec.message()));
    if (size > max_bytes)
        throw FormatError(cat(path, ": the file is ", size, " bytes, more than an image within the limits can need (",
                              max_bytes, ")"));
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in) throw IoError(cat(path, ": cannot open the image", errno ? ": " + std::string(std::strerror(errno)) : ""));
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size));
    if (static_cast<std::uintmax_t>(in.gcount()) != size)
        throw IoError(cat(path, ": reading the image failed after ", in.gcount(), " of ", size, " bytes"));
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
