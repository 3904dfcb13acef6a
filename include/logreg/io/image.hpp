// logreg/io/image.hpp - reads a grayscale image (PNG, PGM, and the other formats stb_image knows).
//
// Decoding is stb_image's (Debian libstb-dev); this header only checks the file and
// the result. Defined STATIC so that several translation units may include it.
#pragma once

#include <logreg/detail/format.hpp>
#include <logreg/error.hpp>
#include <logreg/io/detail/input_file.hpp>

#include <cstdint>
#include <string>
#include <vector>

#ifndef LOGREG_HAVE_STB
#error "logreg/io/image.hpp needs stb_image.h (Debian: libstb-dev); link logreg::io"
#endif

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
#ifndef STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define LOGREG_DEFINED_STB_IMAGE_IMPLEMENTATION
#endif
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace logreg::io {

/// An 8-bit grayscale image, row-major, no padding.
struct GrayImage {
    std::vector<std::uint8_t> pixels;
    int width = 0;
    int height = 0;
};

/// Reads `path` as 8-bit grayscale (colour images are converted by stb_image's luma formula).
/// Throws IoError if the file cannot be read (missing, not a regular file) and FormatError if it is
/// not a decodable image.
inline GrayImage read_gray_image(const std::string& path, int max_side = 8192) {
    io::detail::InputFile file(path);  // regular files only: a FIFO or device is refused, never waited on
    int w = 0, h = 0, channels = 0;
    if (!stbi_info_from_file(file.get(), &w, &h, &channels))  // leaves the file at its start
        throw FormatError(path + ": not a readable PNG/PGM image (" + stbi_failure_reason() + ")");
    if (w < 1 || h < 1 || w > max_side || h > max_side)
        throw FormatError(logreg::detail::cat(path, ": image size ", w, "x", h, " is outside 1..", max_side));
    unsigned char* data = stbi_load_from_file(file.get(), &w, &h, &channels, 1);
    if (!data) throw FormatError(path + ": cannot decode image (" + stbi_failure_reason() + ")");
    GrayImage img;
    img.width = w;
    img.height = h;
    img.pixels.assign(data, data + static_cast<std::size_t>(w) * static_cast<std::size_t>(h));
    stbi_image_free(data);
    return img;
}

}  // namespace logreg::io
